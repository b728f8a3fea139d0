import ArgumentParser
import Foundation
import HWRImage
import HWRLayout
import HWRRecognition

struct Recognize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recognise handwriting in image files.",
        discussion: """
        Modes: char (one character per image; default), line (a word, code or line per image, no \
        segmentation), auto (line, falling back to char when at most one character is found, and to \
        page for an image with several lines), page (a note or sheet: lines found and read, the text \
        printed with line breaks; --json gives each line and word with its box), sequence \
        (all images, in order, are the characters of one string). A file that cannot be read is reported \
        on stderr, the others are still recognised, and the exit status is 1.
        """)

    @OptionGroup var models: ModelOptions
    // The numeric options take the next argument whatever it looks like, so that a negative number
    // ("--reject -0.1") reaches the request's range check instead of being taken for an option.
    @Option(help: "char, line, auto, page or sequence.") var mode: String = "char"
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Candidates per image in char mode (default 5).") var topK: Int?
    @Option(help: "Only these characters: digits, letters, or the characters themselves.") var charset: String?
    @Option(help: "Fixed-length pattern, e.g. '\\a\\d{4}' (letter then 4 digits) or '[A-F0-9]{6}'.") var pattern: String?
    @Option(help: "Word list file (one word per line): only these words may be read.") var lexicon: String?
    @Option(help: "How the lexicon applies: line (the whole reading is one of its words; default) or words (each word of free text is).") var lexiconMode: String?
    @Option(parsing: .unconditional, help: "Beam width for line and sequence decoding, 1-1000 (default 10; 1: greedy).") var beam: Int?
    @Option(parsing: .unconditional, help: "Alternative readings in line, auto and sequence modes, 1-100 (default 5).") var alternatives: Int?
    @Option(parsing: .unconditional, help: "Reject readings whose probability is below this (0-1): the text is then empty.") var reject: Float?
    @Option(parsing: .unconditional, help: "Threads a batch (in page mode: the preprocessing and the lines) is split over (0: one per core).") var threads = 0
    @Option(parsing: .unconditional, help: "Stop after this many milliseconds from the start of recognition, for all the images (0: no limit); images not read by then are reported as past the deadline.") var deadlineMs = 0
    @Flag(help: "One JSON object per image, one per line.") var json = false
    @Argument(help: "Image files (PNG, JPEG, PGM).") var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard mode == "sequence" || RecognitionMode(rawValue: mode) != nil else {
            throw ValidationError("--mode must be char, line, auto, page or sequence")
        }
    }

    /// The request's options: the flags given, HWRRecognition's defaults for the others.
    func requestOptions() throws -> RecognitionOptions {
        var options = RecognitionOptions()
        options.mode = RecognitionMode(rawValue: mode) ?? .char
        if let topK { options.topK = topK }
        if let beam { options.text.beamWidth = beam }
        if let alternatives { options.text.alternatives = alternatives }
        if let reject { options.text.rejectThreshold = reject }
        if let lexiconMode {
            guard let mode = LexiconMode(rawValue: lexiconMode) else { throw CLIError("--lexicon-mode must be line or words") }
            options.text.lexiconMode = mode
        }
        options.text.charset = charset
        options.text.pattern = pattern
        if let lexicon {
            guard let text = try? String(contentsOfFile: lexicon, encoding: .utf8) else { throw CLIError("\(lexicon): cannot read the lexicon") }
            options.text.lexicon = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return options
    }

    func run() throws {
        var options = try requestOptions()
        let recognizer: Recognizer
        do { recognizer = try models.recognizer(threads: threads) } catch {
            throw CLIError("\(error)")
        }
        // One deadline for the whole command, counted once the models are loaded.
        do { options.text.deadline = try .after(milliseconds: deadlineMs) } catch { throw CLIError("--deadline-ms: \(error)") }
        var failed = false
        do {
            if mode == "sequence" {
                let reading = try recognizer.readSequence(images.map(ImageInput.file), options: options)
                try print(ReadingOutput(file: images.joined(separator: " "), reading: reading).formatted(json: json))
            } else {
                // Files are decoded in chunks, so memory stays that of one chunk however many are given.
                for start in stride(from: 0, to: images.count, by: 64) {
                    let chunk = Array(images[start..<min(start + 64, images.count)])
                    for (path, result) in zip(chunk, try recognizer.read(chunk.map(ImageInput.file), options: options)) {
                        switch result {
                        case let .success(reading): try print(ReadingOutput(file: path, reading: reading).formatted(json: json))
                        case let .failure(error): report(path, error); failed = true
                        }
                    }
                }
            }
        } catch { throw CLIError("\(error)") }
        if failed { throw ExitCode(1) }
    }

    private func report(_ path: String, _ error: Error) {
        FileHandle.standardError.write("hwr: \(path): \(error)\n".data(using: .utf8)!)
    }
}

/// One reading as the CLI prints it: the one JSON schema of `hwr recognize --json` (through
/// JSONEncoder), or a tab-separated line.
struct ReadingOutput: Encodable {
    /// A character or reading with its probability.
    struct Scored: Encodable {
        let text: String
        let p: Float
    }

    let file: String
    let mode: String
    let text: String
    let confidence: Float
    let rejected: Bool
    /// Character mode: the top-k characters; line, auto and sequence modes: the alternative readings.
    let candidates: [Scored]
    /// The characters of the best reading.
    let characters: [Scored]
    /// Page mode: the lines, top to bottom, with their words and boxes (pixels of the image as viewed).
    let lines: [Line]?

    /// A line or word of a page.
    struct Line: Encodable {
        let text: String
        let confidence: Float
        let box: Box
        let words: [Line]?
    }

    init(file: String, reading: TextReading) {
        self.file = file
        mode = reading.mode.rawValue
        text = reading.text
        confidence = reading.confidence
        rejected = reading.rejected
        candidates = reading.alternatives.map { Scored(text: $0.text, p: $0.probability) }
        characters = reading.characters.map { Scored(text: $0.text, p: $0.probability) }
        lines = reading.page.map { page in
            page.lines.map { line in
                Line(text: line.text, confidence: line.confidence, box: line.box,
                     words: line.words.map { Line(text: $0.text, confidence: $0.confidence, box: $0.box, words: nil) })
            }
        }
    }

    /// JSON on one line, or `file<TAB>text<TAB>confidence<TAB>(other candidates)`.
    func formatted(json: Bool) throws -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }
        if mode == RecognitionMode.page.rawValue { return "\(file)\n\(text)" }
        let rest = candidates.dropFirst().map { "\($0.text) \(String(format: "%.3f", $0.p))" }
        return "\(file)\t\(rejected ? "(rejected)" : text)\t\(String(format: "%.3f", confidence))"
            + (rest.isEmpty ? "" : "\t(" + rest.joined(separator: ", ") + ")")
    }
}

/// A fatal error printed without a stack of context.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
