import Foundation
import HWRImage
import HWRRecognition
import HWRTraining
import XCTest

/// The shipped text-line model (models/hwr-text.hwrm) on its committed fixture (Tests/Fixtures/
/// text-lines: held-out Stanford letters, held-out fonts, validation writers' composed lines), and
/// which model reads which request.
final class TextLineTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let recognizer = Result {
        try Recognizer(modelPath: "\(root)/models/hwr-char.hwrm", lineModelPath: "\(root)/models/hwr-line.hwrm",
                       textModelPath: "\(root)/models/hwr-text.hwrm", threads: 2)
    }

    func fixture(_ source: String) throws -> [(image: GrayImage, text: String)] {
        try lineFixture("\(Self.root)/Tests/Fixtures/text-lines", source: source)
    }

    /// The shipped int8 copy of the text-line model (`hwr quantize`).
    static let int8 = Result {
        try Recognizer(modelPath: "\(root)/models/hwr-char.hwrm", lineModelPath: "\(root)/models/hwr-line.hwrm",
                       textModelPath: "\(root)/models/hwr-text-int8.hwrm", threads: 2)
    }

    /// Greedy CER of the text-line model on one source of the fixture, case-sensitive.
    func characterErrorRate(_ source: String, recognizer: Recognizer? = nil) throws -> Double {
        let rows = try fixture(source)
        XCTAssertEqual(rows.count, 8)
        var greedy = TextOptions()
        greedy.beamWidth = 1; greedy.alternatives = 1
        let readings = try (recognizer ?? Self.recognizer.get()).recognizeLines(rows.map(\.image), options: greedy)
        let m = TranscriptionMetrics(references: rows.map(\.text), hypotheses: try readings.map { try $0.get().text })
        print("text-line fixture \(source)\(recognizer == nil ? "" : " (int8)"): CER \(m.characterErrorRate), WER \(m.wordErrorRate)")
        return m.characterErrorRate
    }

    /// The int8 model reads the 24 fixture lines (about 600 characters) like the float one, paired.
    /// Measured 2026-12-01 (hwr-text 2.4.0): the same 7.7% CER on the composed lines and 4.1% on the
    /// font lines, 53.4% against 51.5% on the Stanford lines.
    func testInt8TextModelReadsLikeTheFloatOne() throws {
        let int8 = try Self.int8.get()
        XCTAssertEqual(int8.textModel?.precision, .int8)
        let sources = ["font", "composed", "stanford"]
        let sizes = try sources.map { Double(try fixture($0).map(\.text.count).reduce(0, +)) }
        func combined(_ recognizer: Recognizer?) throws -> Double {
            try zip(sources, sizes).map { try characterErrorRate($0, recognizer: recognizer) * $1 }.reduce(0, +) / sizes.reduce(0, +)
        }
        XCTAssertLessThanOrEqual(try combined(int8), try combined(nil) + 0.01)
    }

    // Regression guards: the figures measured on 2026-12-01 with the committed model (hwr-text 2.4.0:
    // 2.3.0 averaged with two epochs of its fine-tuning), plus 2 points.
    func testHeldOutFontLines() throws { XCTAssertLessThan(try characterErrorRate("font"), 0.041 + 0.02) }
    func testComposedTextLinesOfUnseenWriters() throws { XCTAssertLessThan(try characterErrorRate("composed"), 0.077 + 0.02) }
    func testRealLinesOfUnseenStanfordWriters() throws { XCTAssertLessThan(try characterErrorRate("stanford"), 0.515 + 0.02) }

    /// A line written small on a large image (a phone photo of one line with wide margins) reads as
    /// its tight crop: the shrink to the line normaliser's working height had blurred it to a few
    /// pixels (found by a new-user test: 30-pixel text on 1600x600 read "Helote" for "Hello there").
    func testALineSmallInALargeImageReadsAsItsCrop() throws {
        let recognizer = try Self.recognizer.get()
        var greedy = TextOptions()
        greedy.beamWidth = 1; greedy.alternatives = 1
        for (line, text) in try fixture("font").prefix(4) {
            // Eight times as high and three times as wide, on the grey of the line's paper.
            let (w, h) = (line.width * 3, line.height * 8)
            let paper = line.pixels.sorted()[line.pixels.count * 3 / 4]
            var canvas = [UInt8](repeating: paper, count: w * h)
            for y in 0..<line.height {
                for x in 0..<line.width { canvas[(y + h / 3) * w + x + line.width] = line.pixels[y * line.width + x] }
            }
            let large = try GrayImage(width: w, height: h, pixels: canvas)
            let readings = try recognizer.recognizeLines([line, large], options: greedy).map { try $0.get().text }
            XCTAssertEqual(readings[1], readings[0], "truth: \(text)")
        }
    }

    func testFreeTextGoesToTheTextModelAndCodesToTheLineModel() throws {
        let recognizer = try Self.recognizer.get()
        func reader(charset: String? = nil, pattern: String? = nil) throws -> String {
            var options = TextOptions()
            options.charset = charset; options.pattern = pattern
            return try recognizer.lineReader(for: options) === recognizer.text ? "text" : "line"
        }
        XCTAssertEqual(try reader(), "text")
        XCTAssertEqual(try reader(charset: "text"), "text")
        XCTAssertEqual(try reader(charset: "abc"), "text")
        XCTAssertEqual(try reader(charset: "0123456789.,"), "text")
        for code in ["digits", "letters", "ALNUM", "0123456789ABCDEF"] { XCTAssertEqual(try reader(charset: code), "line", code) }
        XCTAssertEqual(try reader(pattern: "\\a\\d{4}"), "line")
    }

    func testTheHandedTwoWordInputIsReadWithItsSpace() throws {
        // ../shared/bug-inputs/09-two-words-with-space.png: "BIG BOX" in line mode (the line model,
        // which has no space, read "BIGBOX").
        var options = RecognitionOptions()
        options.mode = .line
        let reading = try Self.recognizer.get().read([.file("\(Self.root)/Tests/Fixtures/inputs/09-two-words-with-space.png")], options: options)[0].get()
        XCTAssertEqual(reading.text, "BIG BOX")
    }

    /// A line photographed turned a few degrees: line mode did not straighten it, so its letters were
    /// shrunk into the model's height with the turn (a new-user test: 52% CER on lines turned 5-10
    /// degrees, 44% on Washington lines turned 3; `-5-degrees` is ours, a font fixture line turned).
    func testALineTurnedAFewDegreesIsStraightened() throws {
        var options = RecognitionOptions()
        options.mode = .line
        options.text.beamWidth = 1
        for (file, text) in [("line-turned-7-degrees.png", "We will see you at the station"),
                             ("line-turned-5-degrees.png", "Them Laundromat gowned verb")] {
            let reading = try Self.recognizer.get().read([.file("\(Self.root)/Tests/Fixtures/inputs/\(file)")], options: options)[0].get()
            let m = TranscriptionMetrics(references: [text], hypotheses: [reading.text], foldingCase: true)
            XCTAssertLessThan(m.characterErrorRate, 0.1, "\(file): \(reading.text)")
        }
    }

    /// The ink's polarity of a line was decided on blocks an eighth of the line's height, no wider
    /// than a thick pen's strokes, and came out inverted (the paper between strokes taken for light
    /// ink, or light ink on dark paper for dark; faint pencil too). `-thick-pen-font` and
    /// `-light-ink` are held-out fonts of scripts/build-text-corpus.sh (Junkyard, Satisfy);
    /// `-stanford` a held-out Stanford line (CC BY 4.0); `-pencil-faint` and `-shadow-over-most-of-
    /// line` were made by a new-user test (the shadow: a first version of the fix, deciding on blocks
    /// as high as the line, took the lit paper for ink). Before the fix the first four read
    /// "bounciiora exocbioncs ieggeat tsmperoneht Numorovs", "Oem sionosos befemting crnooer",
    /// "Hafrcaer Wrrmrrroemn tnt Romn," and "Toxrens for tne shoul May 3".
    func testLinesAreReadWithTheirInkPolarity() throws {
        var options = RecognitionOptions()
        options.mode = .line
        options.text.beamWidth = 1
        for (file, text, limit) in [("line-thick-pen-font.png", "Councilor's exorbitance leggiest temperament runaways", 0.1),
                                    ("line-thick-pen-light-ink.png", "Ocean standout deferring, conquer", 0.1),
                                    ("line-thick-pen-stanford.png", "Professor Duniway and, having", 0.6),
                                    ("line-pencil-faint.png", "Tickets for the show, May 3", 0.1),
                                    ("line-shadow-over-most-of-line.png", "Bring an umbrella, it rains.", 0.1)] {
            let reading = try Self.recognizer.get().read([.file("\(Self.root)/Tests/Fixtures/inputs/\(file)")], options: options)[0].get()
            let m = TranscriptionMetrics(references: [text], hypotheses: [reading.text], foldingCase: true)
            XCTAssertLessThan(m.characterErrorRate, limit, "\(file): \(reading.text)")
        }
    }

    /// A line photographed upside down, with no EXIF tag, was read as stored: the held-out
    /// Washington line (public domain) `line-upside-down-washington.jpg` read "nooirnly preyl yo
    /// herturdg thhorf amgtog", and the held-out font and composed fixture lines turned read at 90%
    /// CER. A line whose ink looks upside down is now read turned too (`Recognizer.readLine`). Words
    /// are read as given: upright, "give" and "is" of Washington's hand read likelier turned ("wb"
    /// at 0.97, "52" at 0.95).
    func testALineUpsideDownIsReadTurnedAndWordsAreNot() throws {
        var options = RecognitionOptions()
        options.mode = .line
        options.text.beamWidth = 1
        let recognizer = try Self.recognizer.get()
        func reading(_ file: String) throws -> TextReading {
            try recognizer.read([.file("\(Self.root)/Tests/Fixtures/inputs/\(file)")], options: options)[0].get()
        }
        func read(_ file: String) throws -> String { try reading(file).text }
        let line = try reading("line-upside-down-washington.jpg")
        XCTAssertLessThan(TranscriptionMetrics(references: ["Captain Hogg's Company at Fort Dinwiddie"], hypotheses: [line.text],
                                               foldingCase: true).characterErrorRate, 0.2, line.text)
        // Its characters' positions are on the line as given: the first character at its right end.
        let first = try XCTUnwrap(line.characters.first), last = try XCTUnwrap(line.characters.last)
        XCTAssertGreaterThan(first.firstStep, last.lastStep)
        XCTAssertLessThan(first.lastStep, line.steps)
        // The font and composed fixture lines turned read about as they do upright (one line of
        // eight fonts, "Jockeying 96.", looks upright turned: its descenders).
        let rows = try fixture("font") + fixture("composed")
        let turned = try rows.map { try $0.image.oriented(exif: 3) }
        let readings = try recognizer.recognizeLines(rows.map(\.image) + turned, options: options.text).map { try $0.get().text }
        func cer(_ hypotheses: ArraySlice<String>) -> Double {
            TranscriptionMetrics(references: rows.map(\.text), hypotheses: Array(hypotheses)).characterErrorRate
        }
        XCTAssertLessThan(cer(readings[rows.count...]), cer(readings[..<rows.count]) + 0.05)
        XCTAssertEqual(try read("word-washington-is.png"), "is")
        XCTAssertLessThanOrEqual(TranscriptionMetrics(references: ["give"], hypotheses: [try read("word-washington-give.png")])
            .characterErrorRate, 0.25)
    }

    /// A line or word photographed turned a quarter with no EXIF tag was squeezed into a sliver read
    /// as "1", or refused as several lines (its letters one above the other): the held-out
    /// Washington line (public domain) `line-quarter-turn-washington.jpg`, turned clockwise, was
    /// "the image holds 2 lines of writing". Its ink runs down the image, so it is now read turned a
    /// quarter each way (`Recognizer.readLine`). A list of words, one under the other, is still
    /// several lines.
    func testALineTurnedAQuarterIsReadTurnedAndAListIsNot() throws {
        var options = RecognitionOptions()
        options.mode = .line
        options.text.beamWidth = 1
        let recognizer = try Self.recognizer.get()
        func load(_ file: String) throws -> GrayImage { try GrayImage(contentsOfFile: "\(Self.root)/Tests/Fixtures/inputs/\(file)") }
        let line = try recognizer.recognizeLines([try load("line-quarter-turn-washington.jpg")], options: options.text)[0].get()
        XCTAssertLessThan(TranscriptionMetrics(references: ["with eight good men: as that Company is"], hypotheses: [line.text],
                                               foldingCase: true).characterErrorRate, 0.1, line.text)
        // The font and composed fixture lines, turned either way, read about as they do upright (a
        // line still refused as several lines counts as read empty).
        let rows = try fixture("font") + fixture("composed")
        let turned = try rows.map { try $0.image.oriented(exif: 6) } + rows.map { try $0.image.oriented(exif: 8) }
        let readings = try recognizer.recognizeLines(rows.map(\.image) + turned, options: options.text).map { (try? $0.get().text) ?? "" }
        func cer(_ hypotheses: ArraySlice<String>) -> Double {
            TranscriptionMetrics(references: rows.map(\.text), hypotheses: Array(hypotheses)).characterErrorRate
        }
        // Measured 2026-12-01: upright 5.8%, turned clockwise 9.8% (a short line is refused as several
        // lines: its letters' lines read more surely than the turned line, `readsBetterAsLines`).
        let upright = cer(readings[..<rows.count])
        XCTAssertLessThan(cer(readings[rows.count..<(2 * rows.count)]), upright + 0.06, "\(readings[rows.count...])")
        XCTAssertLessThan(cer(readings[(2 * rows.count)...]), upright + 0.06, "\(readings[rows.count...])")
        // Three words one under the other, on white with a gap between them.
        let words = try ["word-washington-give.png", "word-washington-is.png", "word-washington-give.png"].map(load)
        let width = words.map(\.width).max()!, gap = 12
        var pixels = [UInt8](repeating: 255, count: width * (words.map(\.height).reduce(0, +) + gap * words.count))
        var top = 0
        for word in words {
            for y in 0..<word.height { for x in 0..<word.width { pixels[(top + y) * width + x] = word.pixels[y * word.width + x] } }
            top += word.height + gap
        }
        let list = try GrayImage(width: width, height: pixels.count / width, pixels: pixels)
        XCTAssertThrowsError(try recognizer.recognizeLines([list], options: options.text)[0].get()) { error in
            guard case .severalLines? = error as? ImageError else { return XCTFail("\(error)") }
        }
    }

    func testTightlyCroppedWordsKeepTheirTallLetters() throws {
        // A word cropped to its own height: its l's and t span the image like rules of ruled paper,
        // but unevenly spaced (`InkMap.eraseRuledLines`); it read "Costell0" when they were erased.
        var options = RecognitionOptions()
        options.mode = .line
        options.text.beamWidth = 1
        let reading = try Self.recognizer.get().read([.file("\(Self.root)/Tests/Fixtures/inputs/line-tight-crop-tall-letters.png")],
                                                     options: options)[0].get()
        XCTAssertEqual(reading.text, "Costello")
    }

    func testTwoWordsAreReadWithTheirSpace() throws {
        // ../shared/bug-inputs/09-two-words-with-space.png's kind: capitals with a gap between two words.
        let rows = try fixture("font").filter { $0.text.contains(" ") && $0.text == $0.text.uppercased() }
        XCTAssertFalse(rows.isEmpty)
        let reading = try Self.recognizer.get().recognizeLines(rows.map(\.image))[0].get()
        XCTAssertEqual(reading.text.split(separator: " ").count, rows[0].text.split(separator: " ").count, reading.text)
    }
}
