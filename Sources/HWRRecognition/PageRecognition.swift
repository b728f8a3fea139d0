import Glibc
import HWRDecoding
import HWRImage
import HWRLayout

/// A word of a page: its text, confidence and place.
public struct WordReading: Equatable, Sendable {
    /// The word.
    public var text: String
    /// Product of its characters' probabilities, in [0, 1].
    public var confidence: Float
    /// Where it is in the original image (after EXIF orientation), in its pixels.
    public var box: Box
}

/// A line of a page: its text, words and characters.
public struct PageLineReading: Equatable, Sendable {
    /// The line's text, words separated by single spaces.
    public var text: String
    /// Probability of the line's reading, in [0, 1].
    public var confidence: Float
    /// Where it is in the original image, in its pixels.
    public var box: Box
    /// Its words, left to right.
    public var words: [WordReading]
    /// The line as read, with alternatives and characters (`TextReading`).
    public var reading: TextReading
}

/// The reading of a page: lines top to bottom, each with its words.
public struct PageReading: Equatable, Sendable {
    /// The lines' texts joined by line breaks.
    public var text: String
    /// The lines, top to bottom.
    public var lines: [PageLineReading]
    /// The page's estimated skew, in degrees (corrected before reading).
    public var skewDegrees: Double
    /// How far the page was turned clockwise before it was read, in degrees: 0; 90 or 270 for a
    /// page whose lines run down the image (turned a quarter, with no EXIF tag saying so); 180 for
    /// a page upside down. The boxes are in the original image all the same.
    public var turnDegrees = 0
    /// Mean probability of the lines' readings (0 for a page with no line read).
    public var confidence: Float { lines.isEmpty ? 0 : lines.map(\.confidence).reduce(0, +) / Float(lines.count) }
}

extension PageReading {
    /// The reading of a page turned by EXIF orientation `exif` (6: 90 degrees clockwise, 3: 180, 8:
    /// 270) with its boxes taken back to the image before the turn (`width` x `height`).
    func unturned(exif: Int, width: Int, height: Int) -> PageReading {
        func back(_ b: Box) -> Box {
            // Shown (x, y) comes from (y, height - 1 - x) for 6, from (width - 1 - x, height - 1 - y)
            // for 3, from (width - 1 - y, x) for 8.
            switch exif {
            case 6: return Box(x: b.y, y: height - b.x - b.width, width: b.height, height: b.width)
            case 3: return Box(x: width - b.x - b.width, y: height - b.y - b.height, width: b.width, height: b.height)
            default: return Box(x: width - b.y - b.height, y: b.x, width: b.height, height: b.width)
            }
        }
        var out = self
        out.turnDegrees = [6: 90, 3: 180][exif] ?? 270
        for i in out.lines.indices {
            out.lines[i].box = back(out.lines[i].box)
            for j in out.lines[i].words.indices { out.lines[i].words[j].box = back(out.lines[i].words[j].box) }
        }
        return out
    }
}

extension PageLayout {
    /// The lines large enough to read (`ImageLimits.minimumSide` on each side).
    var readableLines: [SegmentedLine] {
        lines.filter { $0.width >= ImageLimits.minimumSide && $0.height >= ImageLimits.minimumSide }
    }
}

extension Recognizer {
    /// Reads a page (a note, a form field, a sheet with several lines): preprocessing of the whole
    /// page, line segmentation with skew correction (`LineSegmentation`), each line read from the
    /// page's ink map by the model `lineReader(for:)` picks (the lines spread over the engine's
    /// threads, longest first), and words from its spaces, or, for a line model without a space, from
    /// the gaps in the ink (`LineSegmentation.wordGaps`). Rejection (`options.rejectThreshold`)
    /// applies to each line. A page whose lines run down the image (`LineSegmentation.linesRunDown`:
    /// turned a quarter, with no EXIF tag) is read turned 90 and 270 degrees, and the likelier
    /// reading kept (upside-down text reads far less surely). A page whose lines look upside down
    /// (`LineSegmentation.halfTurnEvidence`) is read as it is and turned 180 degrees, and the
    /// likelier reading kept; so is one whose longest line reads likelier turned
    /// (`readsLikelierTurned`), which is tried when the ink cannot tell or the page reads unsurely
    /// (`halfTurnCheckConfidence`). Pages read as codes (the line model) are read as stored.
    /// - Throws: `HWRError`: `.unsupported` without a line or text model, `.imageEmpty` when nothing is
    ///   written, the request's option errors.
    public func recognizePage(_ image: GrayImage, options: TextOptions = .init()) throws -> PageReading {
        try classified {
            let (reader, decode) = try lineDecoder(options)
            try options.deadline.check()
            let page = try PageInk(image, threads: threads)
            let layout = LineSegmentation.segment(page, originalSize: (image.width, image.height))
            // Lines running down the page cut into three or more rows of fragments: a page turned a
            // quarter (a character or a word taller than wide is one row, and is read as it is).
            let turns: [Int]
            // A turned reading is kept when it is likelier than `bar` and than the others.
            var best: PageReading?, bar: Float = -1, firstError: Error?
            if layout.lines.count >= 3, LineSegmentation.linesRunDown(page) {
                turns = [6, 8]
            } else {
                let upright = try readPage(page, layout: layout, reader: reader, decode: decode, options: options)
                // Codes (the line model: capitals and digits) read about as likely either way up (a
                // note of them, 0.046 against 0.048): only free text is tried turned.
                guard reader.model.charset.contains(where: \.isLowercase) else { return upright }
                switch LineSegmentation.halfTurnEvidence(layout) {
                case .upsideDown: break
                case .upright where upright.confidence >= Self.halfTurnCheckConfidence: return upright
                case .upright, .undecided:
                    guard readsLikelierTurned(layout, upright: upright, page: page, reader: reader, decode: decode) else { return upright }
                }
                best = upright
                bar = Self.halfTurnMinimumConfidence
                turns = [3]
            }
            for exif in turns {
                do {
                    let turned = try image.oriented(exif: exif)
                    let turnedPage = try PageInk(turned, threads: threads)
                    let turnedLayout = LineSegmentation.segment(turnedPage, originalSize: (turned.width, turned.height))
                    let reading = try readPage(turnedPage, layout: turnedLayout, reader: reader, decode: decode, options: options)
                        .unturned(exif: exif, width: image.width, height: image.height)
                    if reading.confidence > max(bar, best?.confidence ?? -1) { best = reading }
                } catch let error as DeadlineExceeded {
                    throw error
                } catch {
                    firstError = firstError ?? error
                }
            }
            if let best { return best }
            throw firstError ?? HWRError.imageEmpty("no line of writing found on the page")
        }
    }

    /// A page whose ink looks upright but that reads less surely than this has its longest line read
    /// both ways (`readsLikelierTurned`): text with many descenders, turned, has its ink above its
    /// lines. In a new-user test of 119 pages turned half a turn, no reading of one was surer than
    /// 0.23, and their upright twins read at 0.5-0.99 (rendered handwriting fonts).
    static let halfTurnCheckConfidence: Float = 0.5

    /// Least confidence of a page's reading turned half a turn for it to be kept: writing that reads
    /// as garbage either way up is left as stored (3 upright pages of unreadable fonts in a new-user
    /// test were read turned at 0.0009-0.005, as likely garbage as the upright reading).
    static let halfTurnMinimumConfidence: Float = 0.01

    /// Whether the longest line of `layout` reads likelier turned half a turn (its ink reversed) than
    /// as it is: as `upright`, the page's reading, read it (`recognizePage`).
    private func readsLikelierTurned(_ layout: PageLayout, upright: PageReading, page: PageInk, reader: LineReader,
                                     decode: (CTCPosteriors) throws -> TextReading) -> Bool {
        guard let line = layout.readableLines.max(by: { $0.inkWidth < $1.inkWidth }) else { return false }
        func confidence(_ ink: [Float]) -> Float {
            guard let (pixels, width) = try? reader.normalizer.normalize(ink: ink, width: line.width, height: line.height,
                                                                         strokeWidth: page.strokeWidth),
                  let reading = try? decode(reader.posteriors(normalized: pixels, width: width)) else { return 0 }
            return reading.confidence
        }
        // The page's reading has the line unless it read nothing there (a stray mark, left out).
        let asStored = upright.lines.first { $0.box == line.box }?.confidence ?? confidence(line.ink)
        return confidence(Array(line.ink.reversed())) > asStored
    }

    /// Reads the lines `layout` found on a preprocessed page (`recognizePage`).
    func readPage(_ page: PageInk, layout: PageLayout, reader: LineReader, decode: (CTCPosteriors) throws -> TextReading,
                          options: TextOptions) throws -> PageReading {
        let lineModel = reader.model
        let readable = layout.readableLines
        guard !readable.isEmpty else { throw HWRError.imageEmpty("no line of writing found on the page") }
        // Each line from the page's ink map: preprocessed once, with the page.
        let results = eachInParallel(readable, cost: { $0.ink.count }) { line in
            Result {
                try options.deadline.check()
                let (pixels, width) = try reader.normalizer.normalize(ink: line.ink, width: line.width, height: line.height,
                                                                      strokeWidth: page.strokeWidth)
                return try decode(reader.posteriors(normalized: pixels, width: width))
            }
        }
        // Lines the deadline stopped fail the page: they are not left out like stray marks.
        for case let .failure(error as DeadlineExceeded) in results { throw error }
        let hasSpace = lineModel.charset.contains(" ")
        let preprocessing = lineModel.preprocessing
        var lines: [PageLineReading] = []
        for (line, result) in zip(readable, results) {
            // A band the line model finds nothing in (a stray mark) is left out.
            guard let reading = try? result.get(), !reading.text.isEmpty || reading.rejected else { continue }
            let words = Self.words(reading, line: line, hasSpace: hasSpace, height: preprocessing.size, box: preprocessing.box)
            lines.append(PageLineReading(text: reading.rejected ? "" : words.map(\.text).joined(separator: " "),
                                         confidence: reading.confidence, box: line.box, words: words, reading: reading))
        }
        return PageReading(text: lines.map(\.text).joined(separator: "\n"), lines: lines, skewDegrees: layout.skewDegrees)
    }

    /// The words of a line's reading with their boxes. CTC steps map to columns of the line image
    /// through the line normaliser's geometry (`height`, `box`: the ink is scaled to `box` pixels
    /// high, with a margin of `height / 7` on each side).
    static func words(_ reading: TextReading, line: SegmentedLine, hasSpace: Bool, height: Int, box: Int) -> [WordReading] {
        guard !reading.characters.isEmpty, reading.steps > 0 else { return [] }
        let inkHeight = Double(max(1, line.inkHeight))
        let normalizedInk = max(1, (Double(line.inkWidth) * Double(box) / inkHeight).rounded())
        let margin = Double(height / 7)
        let normalizedWidth = normalizedInk + 2 * margin
        /// The column of the line image at the left edge of step `s`.
        func column(_ s: Double) -> Double {
            let x = s * normalizedWidth / Double(reading.steps)
            return Double(line.inkX) + (x - margin) * Double(line.inkWidth) / normalizedInk
        }
        let inkColumns = Self.inkColumns(line)
        // Groups of characters: split at the model's spaces, or at wide gaps in the ink.
        var groups: [[DecodedCharacter]] = [[]]
        if hasSpace {
            for c in reading.characters {
                if c.text == " " { if !groups[groups.count - 1].isEmpty { groups.append([]) } } else { groups[groups.count - 1].append(c) }
            }
        } else {
            let gaps = LineSegmentation.wordGaps(inkColumns, minimum: max(2, Int(inkHeight / 3)))
            var next = 0
            for c in reading.characters {
                let center = column(Double(c.firstStep + c.lastStep + 1) / 2)
                while next < gaps.count && gaps[next].upperBound <= Int(center) {
                    if !groups[groups.count - 1].isEmpty { groups.append([]) }
                    next += 1
                }
                groups[groups.count - 1].append(c)
            }
        }
        // Each word's columns: between the midpoints to its neighbours, snapped to the ink in them.
        let words = groups.filter { !$0.isEmpty }
        var bounds = [0.0]
        for k in 1..<max(1, words.count) {
            bounds.append((column(Double(words[k - 1].last!.lastStep + 1)) + column(Double(words[k].first!.firstStep))) / 2)
        }
        bounds.append(Double(line.width))
        return words.enumerated().map { k, chars in
            let lo = max(0, Int(bounds[k].rounded())), hi = min(line.width, Int(bounds[k + 1].rounded()))
            let ink = lo < hi ? (lo..<hi).filter { inkColumns[$0] } : []
            let x0 = Double(ink.first ?? lo), x1 = Double((ink.last ?? max(lo, hi - 1)) + 1)
            return WordReading(text: chars.map(\.text).joined(), confidence: chars.map(\.probability).reduce(1, *),
                               box: line.box(columns: x0, x1))
        }
    }

    /// Whether each column of the line holds ink (a strength over 95/255).
    static func inkColumns(_ line: SegmentedLine) -> [Bool] {
        var columns = [Bool](repeating: false, count: line.width)
        for y in 0..<line.height { for x in 0..<line.width where Int(line.ink[y * line.width + x] * 255) > 95 { columns[x] = true } }
        return columns
    }
}
