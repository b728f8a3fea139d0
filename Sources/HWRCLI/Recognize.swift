import ArgumentParser
import Foundation
import HWRImage
import HWRRecognition

struct Recognize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recognise handwriting in image files.",
        discussion: """
        Modes: char (one character per image; default), line (a word, code or line per image, no \
        segmentation), auto (line, falling back to char when at most one character is found), sequence \
        (all images, in order, are the characters of one string). A file that cannot be read is reported \
        on stderr, the others are still recognised, and the exit status is 1.
        """)

    @Option(help: "Character model (default: $HWR_MODEL, the installed model, or models/hwr-char.hwrm).") var model: String?
    @Option(help: "Line model (default: $HWR_LINE_MODEL, the installed model, or models/hwr-line.hwrm).") var lineModel: String?
    @Option(help: "char, line, auto or sequence.") var mode: String = "char"
    @Option(name: .customLong("top-k"), help: "Candidates per image in char mode.") var topK = 1
    @Option(help: "Only these characters: digits, letters, or the characters themselves.") var charset: String?
    @Option(help: "Fixed-length pattern, e.g. '\\a\\d{4}' (letter then 4 digits) or '[A-F0-9]{6}'.") var pattern: String?
    @Option(help: "Word list file (one word per line): only these words may be read.") var lexicon: String?
    @Option(help: "Beam width for line and sequence decoding.") var beam = 10
    @Option(help: "Alternative readings to report in line, auto and sequence modes.") var alternatives = 3
    @Option(help: "Reject readings whose probability is below this (0-1): the text is then empty.") var reject: Float = 0
    @Option(help: "Threads (0: one per core).") var threads = 0
    @Flag(help: "One JSON object per line.") var json = false
    @Argument(help: "Image files (PNG, JPEG, PGM).") var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard ["char", "line", "auto", "sequence"].contains(mode) else { throw ValidationError("--mode must be char, line, auto or sequence") }
    }

    func run() throws {
        let recognizer: Recognizer
        do { recognizer = try Recognizer(modelPath: model, lineModelPath: lineModel, threads: threads) } catch {
            throw CLIError("\(error)")
        }
        var options = TextOptions()
        options.beamWidth = beam; options.charset = charset; options.pattern = pattern
        options.alternatives = alternatives; options.rejectThreshold = reject
        if let lexicon {
            guard let text = try? String(contentsOfFile: lexicon, encoding: .utf8) else { throw CLIError("\(lexicon): cannot read the lexicon") }
            options.lexicon = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var failed = false
        var decoded: [(String, GrayImage)] = []
        for path in images {
            do { decoded.append((path, try GrayImage(contentsOfFile: path))) } catch { report(path, error); failed = true }
        }
        do {
            switch mode {
            case "char":
                for start in stride(from: 0, to: decoded.count, by: 64) {
                    let chunk = Array(decoded[start..<min(start + 64, decoded.count)])
                    let readings = try recognizer.recognize(chunk.map(\.1), topK: topK, allowed: charset)
                    for ((path, _), reading) in zip(chunk, readings) {
                        switch reading {
                        case let .success(r): print(formatChar(path, r))
                        case let .failure(e): report(path, e); failed = true
                        }
                    }
                }
            case "sequence":
                guard !failed else { throw ExitCode(1) }
                print(formatText(images.joined(separator: " "), try recognizer.recognizeSequence(decoded.map(\.1), options: options)))
            default:
                let readings = mode == "line" ? try recognizer.recognizeLines(decoded.map(\.1), options: options)
                                              : try recognizer.recognizeAuto(decoded.map(\.1), options: options)
                for ((path, _), reading) in zip(decoded, readings) {
                    switch reading {
                    case let .success(r): print(formatText(path, r))
                    case let .failure(e): report(path, e); failed = true
                    }
                }
            }
        } catch let e as ExitCode { throw e } catch { throw CLIError("\(error)") }
        if failed { throw ExitCode(1) }
    }

    private func formatChar(_ path: String, _ r: CharacterReading) -> String {
        let rejected = r.confidence < reject
        if json {
            let candidates = r.candidates.map { "{\"text\": \(jsonString($0.text)), \"p\": \(number($0.probability))}" }
            return "{\"file\": \(jsonString(path)), \"text\": \(jsonString(rejected ? "" : r.text)), \"confidence\": \(number(r.confidence)), " +
                (reject > 0 ? "\"rejected\": \(rejected), " : "") + "\"candidates\": [\(candidates.joined(separator: ", "))]}"
        }
        let rest = r.candidates.dropFirst().map { "\($0.text) \(String(format: "%.3f", $0.probability))" }
        return "\(path)\t\(rejected ? "(rejected)" : r.text)\t\(String(format: "%.3f", r.confidence))" + (rest.isEmpty ? "" : "\t(" + rest.joined(separator: ", ") + ")")
    }

    private func formatText(_ path: String, _ r: TextReading) -> String {
        if json {
            let chars = r.characters.map { "{\"text\": \(jsonString($0.text)), \"p\": \(number($0.probability))}" }
            let alternatives = r.alternatives.map { "{\"text\": \(jsonString($0.text)), \"score\": \(number($0.probability))}" }
            return "{\"file\": \(jsonString(path)), \"text\": \(jsonString(r.text)), \"confidence\": \(number(r.confidence)), " +
                "\"rejected\": \(r.rejected), \"mode\": \"\(r.mode.rawValue)\", \"chars\": [\(chars.joined(separator: ", "))], " +
                "\"alternatives\": [\(alternatives.joined(separator: ", "))]}"
        }
        let text = r.rejected ? "(rejected)" : r.text
        let rest = r.alternatives.dropFirst().map { "\($0.text) \(String(format: "%.3f", $0.probability))" }
        return "\(path)\t\(text)\t\(String(format: "%.3f", r.confidence))" + (rest.isEmpty ? "" : "\t(" + rest.joined(separator: ", ") + ")")
    }

    private func number(_ v: Float) -> String { String(format: "%.4f", v) }

    private func report(_ path: String, _ error: Error) {
        FileHandle.standardError.write("hwr: \(path): \(error)\n".data(using: .utf8)!)
    }
}

/// A fatal error printed without a stack of context.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
