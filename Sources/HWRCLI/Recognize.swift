import ArgumentParser
import Foundation
import HWRImage
import HWRRecognition

struct Recognize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recognise handwritten characters in image files.",
        discussion: "Prints the best character per image. A file that cannot be read is reported on stderr, the others are still recognised, and the exit status is 1.")

    @Option(help: "Model file (default: $HWR_MODEL, the installed model, or models/hwr-char.hwrm).") var model: String?
    @Option(name: .customLong("top-k"), help: "Candidates per image.") var topK = 1
    @Option(help: "Only consider these characters (for example 0123456789).") var charset: String?
    @Option(help: "Threads (0: one per core).") var threads = 0
    @Flag(help: "One JSON object per line: {\"file\", \"text\", \"candidates\": [{\"text\", \"p\"}]}.") var json = false
    @Argument(help: "Image files (PNG, JPEG, PGM).") var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        let recognizer: Recognizer
        do { recognizer = try Recognizer(modelPath: model, threads: threads) } catch {
            throw CLIError("\(error)")
        }
        var failed = false
        let batchSize = 64
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let paths = Array(images[start..<min(start + batchSize, images.count)])
            var decoded: [(String, GrayImage)] = []
            for path in paths {
                do { decoded.append((path, try GrayImage(contentsOfFile: path))) } catch {
                    report(path, error); failed = true
                }
            }
            let readings: [Result<CharacterReading, Error>]
            do { readings = try recognizer.recognize(decoded.map(\.1), topK: topK, allowed: charset) } catch {
                throw CLIError("\(error)")
            }
            for ((path, _), reading) in zip(decoded, readings) {
                switch reading {
                case let .success(r): print(format(path, r))
                case let .failure(e): report(path, e); failed = true
                }
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func format(_ path: String, _ r: CharacterReading) -> String {
        if json {
            let candidates = r.candidates.map { "{\"text\": \(jsonString($0.text)), \"p\": \(String(format: "%.4f", $0.probability))}" }
            return "{\"file\": \(jsonString(path)), \"text\": \(jsonString(r.text)), \"candidates\": [\(candidates.joined(separator: ", "))]}"
        }
        let rest = r.candidates.dropFirst().map { "\($0.text) \(String(format: "%.3f", $0.probability))" }
        return "\(path)\t\(r.text)\t\(String(format: "%.3f", r.confidence))" + (rest.isEmpty ? "" : "\t(" + rest.joined(separator: ", ") + ")")
    }

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
