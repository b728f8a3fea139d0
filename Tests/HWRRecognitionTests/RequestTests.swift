import Foundation
import HWRDecoding
import HWRImage
import HWRRecognition
import HWRTraining
import XCTest

/// HWRRecognition as the one owner of a request's rules: its numbers agree with include/hwr.h, and
/// the defects that copies of those rules caused stay fixed (issue 10).
final class RequestTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let recognizer = Result { try Recognizer(modelPath: "\(root)/models/hwr-char.hwrm", lineModelPath: "\(root)/models/hwr-line.hwrm", threads: 1) }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-request-\(getpid())").path

    override func setUpWithError() throws { try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    /// `#define NAME value` lines of hwr.h, by name (integer values only; expressions evaluated for
    /// the `(a * b)` form the header uses).
    func headerDefines() throws -> [String: Int] {
        let header = try String(contentsOfFile: "\(Self.root)/include/hwr.h", encoding: .utf8)
        var defines: [String: Int] = [:]
        for line in header.split(separator: "\n") where line.hasPrefix("#define HWR_") {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count == 3 else { continue }
            let value = parts[2].split(separator: "/")[0].trimmingCharacters(in: .whitespaces)
            let factors = value.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: "*")
                .map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if !factors.isEmpty, factors.allSatisfy({ $0 != nil }) { defines[String(parts[1])] = factors.reduce(1) { $0 * $1! } }
        }
        return defines
    }

    func testErrorCasesMapOneToOneToTheHeadersStatusCodes() throws {
        let d = try headerDefines()
        let cases: [(HWRError, String)] = [
            (.invalidArgument(""), "HWR_ERR_INVALID_ARGUMENT"), (.io(""), "HWR_ERR_IO"), (.modelFormat(""), "HWR_ERR_MODEL_FORMAT"),
            (.imageDecode(""), "HWR_ERR_IMAGE_DECODE"), (.imageTooLarge(""), "HWR_ERR_IMAGE_TOO_LARGE"),
            (.imageEmpty(""), "HWR_ERR_IMAGE_EMPTY"), (.unsupported(""), "HWR_ERR_UNSUPPORTED"),
            (.outOfMemory(""), "HWR_ERR_OUT_OF_MEMORY"), (.internalError(""), "HWR_ERR_INTERNAL"),
            (.deadlineExceeded(""), "HWR_ERR_DEADLINE_EXCEEDED"),
        ]
        XCTAssertEqual(Set(cases.map(\.0.status)).count, cases.count, "one status per case")
        XCTAssertEqual(d.keys.filter { $0.hasPrefix("HWR_ERR_") }.count, cases.count, "one case per status")
        for (error, name) in cases { XCTAssertEqual(Int(error.status), d[name], name) }
    }

    func testLimitsAndDefaultsAreTheHeaders() throws {
        let d = try headerDefines()
        XCTAssertEqual(d["HWR_MAX_IMAGE_PIXELS"], RecognitionLimits.maximumPixels)
        XCTAssertEqual(d["HWR_MAX_IMAGE_SIDE"], RecognitionLimits.maximumSide)
        XCTAssertEqual(d["HWR_MIN_IMAGE_SIDE"], RecognitionLimits.minimumSide)
        XCTAssertEqual(d["HWR_MAX_FILE_BYTES"], RecognitionLimits.maximumFileBytes)
        XCTAssertEqual(d["HWR_MAX_BATCH"], RecognitionLimits.maximumBatch)
        XCTAssertEqual(d["HWR_MAX_LEXICON_WORDS"], RecognitionLimits.maximumLexiconWords)
        let header = try String(contentsOfFile: "\(Self.root)/include/hwr.h", encoding: .utf8)
        XCTAssertTrue(header.contains("beam width, 1 to \(RecognitionLimits.beamWidth.upperBound)"))
        XCTAssertTrue(header.contains("alternative readings to return, 1 to \(RecognitionLimits.alternatives.upperBound)"))
        // The defaults hwr_recognize_options_init compiles into callers.
        let defaults = RecognitionOptions()
        for (field, value) in [("top_k", defaults.topK), ("beam_width", defaults.text.beamWidth), ("alternatives", defaults.text.alternatives)] {
            XCTAssertTrue(header.contains("options->\(field) = \(value);"), "\(field) default \(value)")
        }
        XCTAssertTrue(header.contains("options->mode = HWR_MODE_CHAR;"))
        XCTAssertEqual(defaults.mode, .char)
        XCTAssertEqual(defaults.text.rejectThreshold, 0) // memset to 0 by the init function
        XCTAssertNil(defaults.text.charset)
    }

    func testTheEnginesPixelLimitAppliesToEveryFormat() throws {
        let small = try Recognizer(modelPath: "\(Self.root)/models/hwr-char.hwrm", lineModelPath: nil, threads: 1, maximumPixels: 5000)
        var paper = [UInt8](repeating: 255, count: 100 * 100)
        for y in 20..<80 { for x in 45..<55 { paper[y * 100 + x] = 0 } }
        func tooLarge(_ input: ImageInput) -> Bool {
            do { _ = try small.decode(input); return false } catch {
                if case .imageTooLarge? = error as? HWRError { return true }
                return false
            }
        }
        try paper.withUnsafeBytes { raw in
            XCTAssertTrue(tooLarge(.gray8(raw, width: 100, height: 100, stride: 100)), "raw grey")
            let pgm = Data("P5\n100 100\n255\n".utf8) + Data(raw)
            try pgm.withUnsafeBytes { XCTAssertTrue(tooLarge(.encoded($0)), "PGM") }
            XCTAssertTrue(tooLarge(.decoded(try GrayImage(width: 100, height: 100, pixels: paper))), "decoded")
        }
        // PNG and JPEG over the limit are decoded at a reduced scale that fits it.
        for name in ["K.jpg", "K-grey-background.png"] {
            let full = try GrayImage(contentsOfFile: "\(Self.root)/Tests/Fixtures/formats/\(name)")
            guard full.width * full.height > 5000 else { continue }
            let reduced = try small.decode(.file("\(Self.root)/Tests/Fixtures/formats/\(name)"))
            XCTAssertLessThanOrEqual(reduced.width * reduced.height, 5000, name)
            XCTAssertGreaterThan(reduced.width, 0)
        }
        XCTAssertThrowsError(try Recognizer(modelPath: "\(Self.root)/models/hwr-char.hwrm", maximumPixels: RecognitionLimits.maximumPixels + 1))
    }

    func testUnreadableFilesAreIOErrorsNotDecodeFailures() throws {
        let recognizer = try Self.recognizer.get()
        for path in ["\(scratch)/missing.png", scratch] {
            XCTAssertThrowsError(try recognizer.decode(.file(path))) { error in
                guard case .io = error as? HWRError else { return XCTFail("\(path): \(error)") }
            }
        }
        let results = try recognizer.read([.file("\(scratch)/missing.png"), .file("\(Self.root)/Tests/Fixtures/formats/K.jpg")])
        XCTAssertEqual(try results[1].get().text, "K", "the readable file is still read")
        guard case .failure(.io) = results[0] else { return XCTFail("\(results[0])") }
    }

    func testRejectionIsTheSameRuleInEveryMode() throws {
        let recognizer = try Self.recognizer.get()
        var options = RecognitionOptions()
        options.text.rejectThreshold = 1 // nothing is certain
        for mode in RecognitionMode.allCases {
            options.mode = mode
            let reading = try recognizer.read([.file("\(Self.root)/Tests/Fixtures/formats/K.jpg")], options: options)[0].get()
            XCTAssertTrue(reading.rejected, "\(mode)")
            XCTAssertEqual(reading.text, "", "\(mode)")
            XCTAssertEqual(reading.characters, [], "\(mode)")
            XCTAssertFalse(reading.alternatives.isEmpty, "\(mode): candidates stay readable")
        }
    }

    func testRequestsOutOfRangeAreInvalidArgumentsNamingTheOption() throws {
        let recognizer = try Self.recognizer.get()
        let k = ImageInput.file("\(Self.root)/Tests/Fixtures/formats/K.jpg")
        var options = RecognitionOptions()
        func expectInvalid(_ o: RecognitionOptions, _ word: String, _ images: [ImageInput] = [k], line: UInt = #line) {
            XCTAssertThrowsError(try recognizer.read(images, options: o), line: line) { error in
                guard case let .invalidArgument(m) = error as? HWRError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(m.contains(word), m, line: line)
            }
        }
        options.text.beamWidth = 1001; expectInvalid(options, "beam")
        options = .init(); options.text.alternatives = 0; expectInvalid(options, "alternatives")
        options = .init(); options.text.rejectThreshold = 1.5; expectInvalid(options, "reject")
        options = .init(); options.topK = 0; expectInvalid(options, "top_k")
        options = .init(); options.text.charset = "#"; expectInvalid(options, "charset")
        expectInvalid(.init(), "no image", [])
        expectInvalid(.init(), "batch limit", Array(repeating: k, count: RecognitionLimits.maximumBatch + 1))
    }

    func testAlternativesAreSortedBestFirstInLineAndAutoModes() throws {
        let recognizer = try Self.recognizer.get()
        let dir = "\(Self.root)/Tests/Fixtures/lines"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }.sorted().prefix(60)
        for mode in [RecognitionMode.line, .auto] {
            var options = RecognitionOptions()
            options.mode = mode; options.text.alternatives = 10
            for (file, result) in zip(files, try recognizer.read(files.map { .file("\(dir)/\($0)") }, options: options)) {
                let reading = try result.get()
                let p = reading.alternatives.map(\.probability)
                XCTAssertEqual(p, p.sorted(by: >), "\(mode) \(file)")
                XCTAssertEqual(reading.text, reading.alternatives.first?.text, "\(mode) \(file): the text is the best alternative")
            }
        }
    }

    func testNegativeSizesAreInvalidArgumentsAndZeroSizesEmpty() throws {
        let recognizer = try Self.recognizer.get()
        let bytes = [UInt8](repeating: 0, count: 64)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try recognizer.decode(.gray8(raw, width: -8, height: 8, stride: 8))) {
                guard case .invalidArgument? = $0 as? HWRError else { return XCTFail("\($0)") }
            }
            XCTAssertThrowsError(try recognizer.decode(.gray8(raw, width: 0, height: 8, stride: 8))) {
                guard case .imageEmpty? = $0 as? HWRError else { return XCTFail("\($0)") }
            }
        }
    }

    func testABlankImageIsEmptyInEveryModeAndSaysSo() throws {
        // Auto mode fell back to the character model's sequence path and said "every image of the
        // sequence is blank" for one image (a new-user test).
        let recognizer = try Self.recognizer.get()
        let blank = ImageInput.decoded(try GrayImage(width: 120, height: 40, pixels: [UInt8](repeating: 250, count: 4800)))
        for mode in RecognitionMode.allCases {
            var options = RecognitionOptions()
            options.mode = mode
            XCTAssertThrowsError(try recognizer.read([blank], options: options)[0].get(), "\(mode)") {
                guard case let .imageEmpty(message)? = $0 as? HWRError else { return XCTFail("\(mode): \($0)") }
                XCTAssertFalse(message.contains("sequence"), "\(mode): \(message)")
            }
        }
    }

    func testABlankImageInASequenceIsASpaceBetweenWords() throws {
        let recognizer = try Self.recognizer.get()
        let dir = "\(Self.root)/Tests/Fixtures/chars"
        let rows = try CSVManifest.rows("\(dir)/manifest.csv", requiring: ["path", "label", "source"]).filter { $0["source"] == "mnist" }
        let blank = ImageInput.decoded(try GrayImage(width: 40, height: 40, pixels: [UInt8](repeating: 250, count: 1600)))
        let digits = rows.prefix(5).map { ImageInput.file("\(dir)/\($0["path"]!)") }
        let truth = rows.prefix(5).map { $0["label"]! }
        var options = RecognitionOptions()
        options.text.charset = "digits"
        let sentence = try recognizer.readSequence([digits[0], digits[1], blank, blank, digits[2], blank, digits[3], digits[4]], options: options)
        XCTAssertEqual(sentence.text, "\(truth[0])\(truth[1]) \(truth[2]) \(truth[3])\(truth[4])")
        XCTAssertEqual(sentence.characters.map(\.text).joined(), sentence.text, "one character entry per character, spaces included")
        XCTAssertEqual(sentence.characters.map(\.firstStep), [0, 1, 2, 4, 5, 6, 7], "positions are the images' indices")
        for alternative in sentence.alternatives { XCTAssertEqual(alternative.text.split(separator: " ").count, 3) }
        XCTAssertThrowsError(try recognizer.readSequence([blank, blank])) { guard case .imageEmpty? = $0 as? HWRError else { return XCTFail("\($0)") } }
    }
}
