import Glibc
import HWRDecoding
import HWRImage
import HWRLayout
import HWRKernels
import HWRModel

/// How to read an image.
public enum RecognitionMode: String, Sendable, CaseIterable {
    /// One character (the character model).
    case char
    /// A word, code or line without segmentation (the line model and CTC).
    case line
    /// The line model, falling back to the character model when it reads at most one character,
    /// and to page mode when the image holds several lines.
    case auto
    /// A page: several lines, segmented and read line by line, with the layout (`TextReading.page`).
    case page
}

/// How a lexicon constrains a reading.
public enum LexiconMode: String, Sendable, CaseIterable {
    /// The whole reading is one word of the lexicon.
    case line
    /// Each word of the reading is a word of the lexicon; anything else (spaces, digits,
    /// punctuation) may stand between them (word beam search over free text).
    case words
}

/// Decoding options for text (lines and sequences of character images).
public struct TextOptions: Sendable, Equatable {
    /// Beam width (1: greedy best path for lines).
    public var beamWidth = 10
    /// "digits", "letters", "alnum", "text", or the allowed characters (see
    /// `DecodingConstraint.allowedClasses`); nil for all.
    public var charset: String?
    /// A fixed-length pattern such as `\a\d{4}` (see `DecodingConstraint.parsePattern`); nil for none.
    public var pattern: String?
    /// Only these words may be read; nil for none.
    public var lexicon: [String]?
    /// How the lexicon applies: to the whole reading (one of its words), or to each word of free
    /// text (a dictionary: numbers and punctuation allowed between the words).
    public var lexiconMode = LexiconMode.line
    /// Alternative readings to return (including the best).
    public var alternatives = 5
    /// Below this probability of the best reading, the result is rejected: its text is empty and
    /// `rejected` is set (alternatives stay available).
    public var rejectThreshold: Float = 0
    /// When the request's work stops (default: never; `Deadline.after(milliseconds:)`): checked
    /// between images, lines and pages and at every decoding step; images not read by then fail
    /// with `HWRError.deadlineExceeded`.
    public var deadline = Deadline.never

    /// Defaults: beam 10, no constraint, 5 alternatives, no rejection.
    public init() {}
}

/// The reading of a word, line or sequence of character images.
public struct TextReading: Equatable, Sendable {
    /// The text ("" when rejected).
    public var text: String
    /// Probability of the best reading.
    public var confidence: Float
    /// The characters of the best reading, with probabilities and positions (CTC steps for lines,
    /// image indices for sequences); empty when rejected.
    public var characters: [DecodedCharacter]
    /// Alternative readings with their probabilities, best first (the best reading included).
    public var alternatives: [Candidate]
    /// Whether the best reading fell below the reject threshold.
    public var rejected: Bool
    /// Which model produced it.
    public var mode: RecognitionMode
    /// For lines: the number of CTC steps (a step covers 2 columns of the normalised line).
    public var steps: Int
    /// In page mode (or auto mode on a page): the lines and words with their boxes; nil otherwise.
    public var page: PageReading?

    /// The one place rejection is applied: below `rejectThreshold` the text is "" and there are no
    /// characters; the alternatives stay.
    init(best: String, confidence: Float, characters: [DecodedCharacter], alternatives: [Candidate],
         rejectThreshold: Float, mode: RecognitionMode, steps: Int) {
        rejected = confidence < rejectThreshold
        text = rejected ? "" : best
        self.confidence = confidence
        self.characters = rejected ? [] : characters
        self.alternatives = alternatives
        self.mode = mode
        self.steps = steps
        page = nil
    }

    /// A page's reading as one result: its text (lines joined by line breaks), the mean of its lines'
    /// probabilities, and its layout.
    /// Rejection applies to each line; the page is rejected when every line is, and its candidate
    /// is then the text as read.
    init(page: PageReading) {
        let read = page.lines.map { $0.reading.rejected ? $0.reading.alternatives.first?.text ?? "" : $0.text }.joined(separator: "\n")
        let allRejected = !page.lines.isEmpty && page.lines.allSatisfy(\.reading.rejected)
        self.init(best: page.text, confidence: page.confidence, characters: [], alternatives: [Candidate(text: read, probability: page.confidence)],
                  rejectThreshold: allRejected ? .infinity : 0, mode: .page, steps: 0)
        self.page = page
    }

    /// The readings of a decoder as one result, best first: ordered by their probability (the beam's
    /// own order follows its prefix scores, which can differ).
    /// When no reading satisfies the constraints, the result is rejected with confidence 0 and no
    /// alternatives.
    init(readings unordered: [LineReading], options: TextOptions, mode: RecognitionMode, steps: Int) {
        let readings = unordered.enumerated().sorted { a, b in
            a.element.logProbability != b.element.logProbability ? a.element.logProbability > b.element.logProbability : a.offset < b.offset
        }.map(\.element)
        guard let best = readings.first else {
            // No reading satisfies the lexicon, charset or pattern: a rejected result that says so.
            self.init(best: "", confidence: 0, characters: [], alternatives: [], rejectThreshold: .infinity, mode: mode, steps: steps)
            return
        }
        self.init(best: best.text, confidence: best.probability, characters: best.characters,
                  alternatives: readings.map { Candidate(text: $0.text, probability: $0.probability) },
                  rejectThreshold: options.rejectThreshold, mode: mode, steps: steps)
    }

    /// A line's reading made on the line turned half a turn, with its characters' positions (CTC
    /// steps) counted on the line as given: step s of the turned line is step `steps - 1 - s`.
    /// The characters stay in reading order.
    func unturned() -> TextReading {
        var out = self
        out.characters = characters.map {
            DecodedCharacter(text: $0.text, probability: $0.probability, firstStep: steps - 1 - $0.lastStep, lastStep: steps - 1 - $0.firstStep)
        }
        return out
    }

    /// A character reading as a text of one character: its candidates are the alternatives.
    init(character: CharacterReading, rejectThreshold: Float) {
        self.init(best: character.text, confidence: character.confidence,
                  characters: [DecodedCharacter(text: character.text, probability: character.confidence, firstStep: 0, lastStep: 0)],
                  alternatives: character.candidates, rejectThreshold: rejectThreshold, mode: .char, steps: 1)
    }
}

extension Recognizer {
    /// The constraint of `options` over the classes of `charset` (the model whose posteriors it will
    /// restrict: the character model for sequences, the line model for lines), matching either case
    /// when the model has both.
    func constraint(_ options: TextOptions, charset: [Character]) throws -> DecodingConstraint {
        try options.validate()
        let fold = charset.indices.map { k in charset.firstIndex(of: charset[k].upperCaseForm) ?? k }
        do {
            return try DecodingConstraint.make(charset: options.charset, pattern: options.pattern, lexicon: options.lexicon,
                                               classes: charset.count, classOf: { charset.firstIndex(of: $0) },
                                               fold: fold == Array(charset.indices) ? nil : fold,
                                               lexiconPerWord: options.lexiconMode == .words)
        } catch let e as ConstraintError { throw HWRError.invalidArgument(e.description) }
    }

    /// Reads a sequence of character images (one character each) as one string, in one batched pass.
    /// A blank image (nothing written on it) is a space between words: the words are decoded each
    /// under the constraint (charset, lexicon word or pattern) and joined by single spaces; the
    /// alternatives change one word at a time.
    /// - Throws: `HWRError` for bad options, `.imageEmpty` when every image is blank, or the first
    ///   unreadable image's error (its index is in the message).
    public func recognizeSequence(_ images: [GrayImage], options: TextOptions = .init()) throws -> TextReading {
        guard !images.isEmpty else { throw HWRError.invalidArgument("the sequence has no image") }
        let constraint = try constraint(options, charset: model.charset)
        try options.deadline.check()
        var words: [[(index: Int, distribution: [Float])]] = [[]]
        for (i, d) in inParallel(images, { self.characters.classify($0, mask: nil) }).enumerated() {
            switch d {
            case let .success(p): words[words.count - 1].append((i, p))
            case let .failure(error):
                guard case .empty? = error as? ImageError else { throw SequenceImageError(index: i, underlying: error) }
                if !words[words.count - 1].isEmpty { words.append([]) }
            }
        }
        words.removeAll { $0.isEmpty }
        guard !words.isEmpty else { throw HWRError.imageEmpty("every image of the sequence is blank") }
        let beam = max(options.beamWidth, options.alternatives)
        let decoded = try words.map { word -> [LineReading] in
            try SequenceDecoder.decode(word.map(\.distribution), charset: model.charset, constraint: constraint,
                                       beamWidth: beam, alternatives: options.alternatives, deadline: options.deadline).map { reading in
                // Positions are the images' indices in the whole sequence.
                var r = reading
                r.characters = zip(r.characters, word).map { c, w in
                    DecodedCharacter(text: c.text, probability: c.probability, firstStep: w.index, lastStep: w.index)
                }
                return r
            }
        }
        return TextReading(readings: Self.joinWords(decoded, alternatives: options.alternatives), options: options,
                           mode: .char, steps: images.count)
    }

    /// The readings of a sentence from its words' readings: the best of every word, then the best
    /// with one word replaced by one of its alternatives, up to `alternatives` in all. Words are
    /// joined by single spaces; the probability is the product of the words'.
    static func joinWords(_ words: [[LineReading]], alternatives: Int) -> [LineReading] {
        guard words.allSatisfy({ !$0.isEmpty }) else { return [] }
        func join(_ choice: [Int]) -> LineReading {
            let picked = zip(words, choice).map { $0[$1] }
            // A space between words, placed just after the previous word's last image.
            var characters = picked[0].characters
            for word in picked.dropFirst() {
                let after = (characters.last?.lastStep ?? -1) + 1
                characters.append(DecodedCharacter(text: " ", probability: 1, firstStep: after, lastStep: after))
                characters += word.characters
            }
            return LineReading(text: picked.map(\.text).joined(separator: " "),
                               logProbability: picked.reduce(0) { $0 + $1.logProbability }, characters: characters)
        }
        var readings = [join(Array(repeating: 0, count: words.count))]
        for (w, options) in words.enumerated() {
            for k in options.indices.dropFirst() {
                var choice = Array(repeating: 0, count: words.count)
                choice[w] = k
                readings.append(join(choice))
            }
        }
        return Array(readings.sorted { $0.logProbability > $1.logProbability }.prefix(alternatives))
    }

    /// Reads word or line images without segmentation (CTC), with the model `lineReader(for:)`
    /// picks, the images spread over the engine's threads, each its own pass.
    /// - Throws: `HWRError` for bad options, `.unsupported` when no line or text model is loaded;
    ///   image errors are returned per image.
    public func recognizeLines(_ images: [GrayImage], options: TextOptions = .init()) throws -> [Result<TextReading, Error>] {
        let (reader, decode) = try lineDecoder(options)
        // Fewer images than threads: a line checked turned runs both passes at once.
        let spareThread = images.count < threads
        return eachInParallel(images, cost: { $0.width * $0.height }) { image in
            Result {
                try options.deadline.check()
                return try readLine(image, reader: reader, decode: decode, deadline: options.deadline, spareThread: spareThread)
            }
        }
    }

    /// How many times likelier than the reading as given a line's reading turned half a turn must be
    /// to be kept (`readLine`): 3 of 1,000 upright validation lines of held-out fonts and writers
    /// (capitals and codes: "BRENNAN", "153-DX") read 1.1 to 1.7 times likelier turned, while an
    /// upside-down line read as stored is garbage (mostly under 0.01) beside its turned reading.
    static let halfTurnLineMargin: Float = 2

    /// Least confidence of a line's reading turned half a turn for it to be kept (`readLine`): real
    /// handwritten lines read far less surely than a page's mean (held-out Stanford lines 0.02 on
    /// average), and with `halfTurnLineMargin` no upright validation line was turned at this floor,
    /// while 0.01 left 2 in 5 of the turned Washington lines unread (41.8% CER against 29.8%).
    static let halfTurnLineMinimumConfidence: Float = 0.001

    /// How many times the sum of squares of the column profile of a line image's ink must exceed its
    /// row profile's for the image to be read turned a quarter (`readLine`,
    /// `LineSegmentation.linesRunDown`): 428 validation words and lines of fonts, composed text and
    /// Washington's hand, turned a quarter, gave 0.6 to 41 (95% over 1.5); 63 upright lists of two
    /// to six words, one under the other, 0.2 to 1.8 (90% under 1.0).
    static let quarterTurnLineRatio = 1.25

    /// Reads one line image with `reader` and `decode` (`lineDecoder`), normalised by the reader's
    /// normaliser. An image whose ink stands at least 1.5 times as high as wide
    /// (`LineNormalizer.holdsColumn`), falls into bands one above the other
    /// (`ImageError.severalLines`: the letters of a word turned a quarter, or a list), or, taller
    /// than wide, shows no ink once shrunk, is a word or line photographed turned a quarter with no
    /// EXIF tag when its ink runs down the image (`quarterTurnLineRatio`: a list's rows do not). It
    /// is then read turned a quarter each way (`GrayImage.oriented`, EXIF 6 and 8), where its ink
    /// must lie at least 1.5 times as wide as high (`LineNormalizer.holdsRow`). The likelier of the
    /// two ways' best paths (`CTCDecoder.greedy`) is kept when it reads two characters or more, and
    /// two more than the best path as given (the sliver a turned line is squeezed into reads as a
    /// character or two, often surely; an "8" turned reads "oo") or is `halfTurnLineMargin` times
    /// likelier, and, for an image refused as several lines, when the lines line segmentation finds
    /// in it do not read more surely (`readsBetterAsLines`: a list). Its character positions are then
    /// steps of the line as read. Otherwise the reading or error as given stands (several lines:
    /// read it as a page). Every other image is read by
    /// `readLine(_:width:...)`.
    /// - Throws: the normaliser's `ImageError`s, `DeadlineExceeded`, decoding errors.
    func readLine(_ image: GrayImage, reader: LineReader, decode: (CTCPosteriors) throws -> TextReading,
                  deadline: Deadline, spareThread: Bool = false) throws -> TextReading {
        let asGiven: Result<CTCPosteriors, Error>
        switch Result(catching: { try reader.normalizer.normalize(image) }) {
        case let .success(line):
            guard reader.normalizer.holdsColumn(normalizedWidth: line.width) else {
                return try readLine(line.pixels, width: line.width, reader: reader, decode: decode, deadline: deadline,
                                    spareThread: spareThread)
            }
            asGiven = .success(reader.posteriors(normalized: line.pixels, width: line.width))
        case let .failure(error):
            switch error as? ImageError {
            case .severalLines?: break
            // A long line turned a quarter, shrunk to `LineNormalizer.workingHeight`, can lose its ink.
            case .empty? where image.height > image.width: break
            default: throw error
            }
            asGiven = .failure(error)
        }
        try deadline.check()
        guard let ink = try? PageInk(image, threads: spareThread ? 2 : 1),
              LineSegmentation.linesRunDown(ink, ratio: Self.quarterTurnLineRatio) else {
            return try decode(asGiven.get())
        }
        let charset = reader.model.charset
        let asGivenBest = (try? asGiven.get()).map { CTCDecoder.greedy($0, charset: charset) }
        let ways = [6, 8]
        let turned = (spareThread ? eachInParallel(ways, cost: { _ in 1 }) { turnedPosteriors(image, exif: $0, reader: reader) }
                                  : ways.map { turnedPosteriors(image, exif: $0, reader: reader) })
            .compactMap { $0 }.map { (posteriors: $0, best: CTCDecoder.greedy($0, charset: charset)) }
        // The two ways are half a turn apart; the likelier is read, as on a page turned a quarter
        // (upside-down text reads far less surely; choosing by the ink's half-turn evidence instead
        // read the validation lines worse).
        if let (posteriors, best) = turned.max(by: { $0.best.probability < $1.best.probability }), best.text.count >= 2,
           best.text.count >= (asGivenBest?.text.count ?? 0) + 2
            || best.probability > Self.halfTurnLineMargin * (asGivenBest?.probability ?? 0),
           asGivenBest != nil || !readsBetterAsLines(ink, image: image, reader: reader, than: best, deadline: deadline) {
            return try decode(posteriors)
        }
        return try decode(asGiven.get())
    }

    /// Whether an image refused as several lines (`readLine(_:reader:...)`), whose ink is `ink`,
    /// reads more surely per character as the lines line segmentation finds in it, upright and
    /// read greedily by `reader` (`readPage`, without page mode's own turns), than as `turned`, one
    /// line turned a quarter: a list of short words one under the other, or a column of single
    /// characters, whose ink can run down the image like a turned word's (a new-user test: 70 of
    /// 120 rendered lists of two to six words, 29 of 30 columns of characters, were read turned).
    private func readsBetterAsLines(_ ink: PageInk, image: GrayImage, reader: LineReader, than turned: LineReading,
                                    deadline: Deadline) -> Bool {
        var greedy = TextOptions()
        greedy.beamWidth = 1; greedy.alternatives = 1; greedy.deadline = deadline
        let layout = LineSegmentation.segment(ink, originalSize: (image.width, image.height))
        guard let decode = try? decoder(for: reader, options: greedy),
              let page = try? readPage(ink, layout: layout, reader: reader, decode: decode, options: greedy),
              !page.lines.isEmpty else { return false }
        /// The geometric mean over characters of readings' probabilities, as a log.
        func logPerCharacter(_ readings: [(probability: Float, characters: Int)]) -> Float {
            readings.map { logf(max($0.probability, .leastNormalMagnitude)) }.reduce(0, +)
                / Float(max(1, readings.map { max(1, $0.characters) }.reduce(0, +)))
        }
        return logPerCharacter(page.lines.map { ($0.reading.confidence, $0.text.count) })
            >= logPerCharacter([(turned.probability, turned.text.count)])
    }

    /// The posteriors of `image` turned by EXIF orientation `exif`, when its normalised ink lies at
    /// least 1.5 times as wide as high (`readLine(_:reader:...)`); nil otherwise or when it cannot be
    /// normalised.
    private func turnedPosteriors(_ image: GrayImage, exif: Int, reader: LineReader) -> CTCPosteriors? {
        guard let line = try? reader.normalizer.normalize(image.oriented(exif: exif)),
              reader.normalizer.holdsRow(normalizedWidth: line.width) else { return nil }
        return reader.posteriors(normalized: line.pixels, width: line.width)
    }

    /// Reads one normalised line with `reader` and `decode` (`lineDecoder`). A line of free text (a
    /// model with lower case; `LineNormalizer.holdsLine`) whose ink looks upside down
    /// (`LineSegmentation.halfTurnEvidence`: photographed turned half a turn, with no EXIF tag) is
    /// also run turned, and read turned when its best path (`CTCDecoder.greedy`) is
    /// `halfTurnLineMargin` times likelier than the line's as given and at least
    /// `halfTurnLineMinimumConfidence` likely (a page's rule, `recognizePage`, with a margin for one
    /// line's weaker evidence and a floor for its lower confidences); its character positions are
    /// then steps of the line as given. The way up is the image's, whatever the request's lexicon,
    /// charset or pattern: the request's decoding runs once, on the way up chosen.
    /// With `spareThread`, the two passes run at once (on two of the engine's threads).
    /// Words are read as given: upright words of Washington's hand ("give", "is") read likelier
    /// turned ("wb" at 0.97, "52" at 0.95).
    func readLine(_ pixels: [Float], width: Int, reader: LineReader, decode: (CTCPosteriors) throws -> TextReading,
                  deadline: Deadline, spareThread: Bool = false) throws -> TextReading {
        let charset = reader.model.charset
        guard charset.contains(where: \.isLowercase), reader.normalizer.holdsLine(normalizedWidth: width),
              LineSegmentation.halfTurnEvidence(line: pixels, width: width, height: reader.normalizer.height) == .upsideDown
        else { return try decode(reader.posteriors(normalized: pixels, width: width)) }
        // The normaliser centres the ink's box in the band, so the line turned half a turn is its
        // normalised pixels reversed.
        let ways = [pixels, Array(pixels.reversed())]
        let run = { (p: [Float]) in reader.posteriors(normalized: p, width: width) }
        let both = spareThread ? eachInParallel(ways, cost: { _ in 1 }, run) : nil
        let asGiven = both?[0] ?? run(ways[0])
        // A line read as given at over 1 / margin cannot read `halfTurnLineMargin` times likelier turned.
        let bar = max(Self.halfTurnLineMargin * CTCDecoder.greedy(asGiven, charset: charset).probability,
                      Self.halfTurnLineMinimumConfidence)
        guard bar < 1 else { return try decode(asGiven) }
        if both == nil { try deadline.check() }
        let turned = both?[1] ?? run(ways[1])
        guard CTCDecoder.greedy(turned, charset: charset).probability > bar else { return try decode(asGiven) }
        return try decode(turned).unturned()
    }

    /// Reads lines already normalised by the normaliser of the model `lineReader(for:)` picks
    /// (`pixels` row-major, its `preprocessing.size` high), as `recognizeLines` reads decoded
    /// images (the half-turn check included): what `hwr eval` calls for stored corpora.
    /// - Throws: as `recognizeLines`.
    public func recognizeNormalizedLines(_ lines: [(pixels: [Float], width: Int)], options: TextOptions = .init()) throws -> [Result<TextReading, Error>] {
        let (reader, decode) = try lineDecoder(options)
        return eachInParallel(lines, cost: \.width) { line in
            Result {
                try options.deadline.check()
                return try readLine(line.pixels, width: line.width, reader: reader, decode: decode, deadline: options.deadline)
            }
        }
    }

    /// The model that reads a line request. Codes go to the line model, trained on strings of the
    /// character model's 36 classes: a charset `digits`, `letters` or `alnum`, a charset of
    /// characters the line model has (such as "0123456789ABCDEF"), or a pattern with no charset.
    /// Everything else (no charset, `text`, lower case, spaces, punctuation) goes to the text-line
    /// model. When only one of the two is loaded, it reads everything.
    /// - Throws: `HWRError.unsupported` when neither is loaded.
    public func lineReader(for options: TextOptions) throws -> LineReader {
        guard let lines, let text else {
            guard let reader = text ?? lines else {
                throw HWRError.unsupported("line mode: no line model is loaded (install models/\(Self.defaultTextModelFile) or give its path)")
            }
            return reader
        }
        guard let charset = options.charset else { return options.pattern == nil ? text : lines }
        if DecodingConstraint.upperCaseCharsets.contains(charset.lowercased()) || charset.lowercased() == "digits" { return lines }
        if charset.lowercased() == "text" { return text }
        return charset.allSatisfy(lines.model.charset.contains) ? lines : text
    }

    /// The model for `options` and the decoding of its posteriors: greedy best path for beam width 1
    /// with no constraint (as hwr.h documents, one reading whatever `alternatives` asks), else beam search.
    func lineDecoder(_ options: TextOptions) throws -> (LineReader, (CTCPosteriors) throws -> TextReading) {
        let reader = try lineReader(for: options)
        return (reader, try decoder(for: reader, options: options))
    }

    /// The decoding of `reader`'s posteriors for `options` (`lineDecoder`).
    /// - Throws: `HWRError` for bad options (charset, pattern, lexicon).
    func decoder(for reader: LineReader, options: TextOptions) throws -> (CTCPosteriors) throws -> TextReading {
        let charset = reader.model.charset
        let constraint = try constraint(options, charset: charset)
        return { read in
            let posteriors = constraint.caseFold.map { read.folded($0) } ?? read
            let readings = options.beamWidth == 1 && constraint.isUnconstrained
                ? [CTCDecoder.greedy(posteriors, charset: charset)]
                : try CTCDecoder.beamSearch(posteriors, charset: charset, beamWidth: max(options.beamWidth, options.alternatives),
                                            constraint: constraint, alternatives: options.alternatives, deadline: options.deadline)
            return TextReading(readings: readings, options: options, mode: .line, steps: posteriors.steps)
        }
    }

    /// In auto mode, a line reading less sure than this, of an image that is not a strip, is checked
    /// for several lines by line segmentation (a note read as one line comes back as a few unsure
    /// characters).
    static let pageCheckConfidence: Float = 0.5

    /// Whether `boxes` (top to bottom) are two lines or more, one under the other: each overlaps the
    /// next by under half the shorter one's height, and some two in a row share columns (the pieces of
    /// one steep line, cut apart, lie side by side or overlap more).
    static func stacked(_ boxes: [Box]) -> Bool {
        let pairs = zip(boxes, boxes.dropFirst())
        return boxes.count >= 2 && pairs.allSatisfy { a, b in 2 * (a.y + a.height - b.y) < min(a.height, b.height) }
            && pairs.contains { a, b in a.x < b.x + b.width && b.x < a.x + a.width }
    }

    /// Reads each image with the line model, as a page when it holds several lines, and with the
    /// character model when the line model finds at most one character (or when no line model is
    /// loaded). Several lines: the line normaliser finds separate bands of ink, or, for an image that
    /// is not a strip (under three times as wide as high) read with a confidence under
    /// `pageCheckConfidence`, line segmentation finds two lines or more, or finds the lines running
    /// down the image (a page turned a quarter, read turned: `PageReading.turnDegrees`).
    public func recognizeAuto(_ images: [GrayImage], options: TextOptions = .init()) throws -> [Result<TextReading, Error>] {
        let lines = lineModel == nil && textModel == nil ? images.map { _ in Result<TextReading, Error>.failure(HWRError.unsupported("no line model")) }
                                     : try recognizeLines(images, options: options)
        return zip(images, lines).map { image, line in
            if case let .failure(error) = line, case .severalLines? = error as? ImageError {
                return Result { TextReading(page: try recognizePage(image, options: options)) }
            }
            let unsure: Bool
            switch line {
            case let .success(reading): unsure = reading.confidence < Self.pageCheckConfidence
            case let .failure(error): unsure = !(error is DeadlineExceeded) && !(error is HWRError)
            }
            if unsure, image.width < 3 * image.height,
               let page = try? recognizePage(image, options: options), page.turnDegrees != 0 || Self.stacked(page.lines.map(\.box)) {
                return .success(TextReading(page: page))
            }
            if case let .success(reading) = line, reading.characters.count > 1 { return line }
            if options.lexicon != nil || options.pattern != nil, case .success = line { return line }
            let character = Result { try recognizeSequence([image], options: options) }
            // Nothing written for the line model either: said as the line's error, not as "a sequence of blanks".
            if case let .failure(characterError) = character, case .imageEmpty? = characterError as? HWRError,
               case let .failure(error) = line, case .empty? = error as? ImageError {
                return line
            }
            return character
        }
    }
}
