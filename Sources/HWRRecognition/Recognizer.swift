import Foundation
import HWRImage
import HWRKernels
import HWRModel

/// One possible reading of an image.
public struct Candidate: Equatable, Sendable {
    /// The character(s).
    public var text: String
    /// Probability in [0, 1].
    public var probability: Float
}

/// The reading of one character image: candidates, best first.
public struct CharacterReading: Equatable, Sendable {
    /// Candidates sorted by probability, best first (at least one).
    public var candidates: [Candidate]
    /// The best candidate's text.
    public var text: String { candidates[0].text }
    /// The best candidate's probability.
    public var confidence: Float { candidates[0].probability }
}

/// Errors of recognition requests.
public enum RecognitionError: Error, Equatable, CustomStringConvertible {
    /// An option is out of range.
    case invalidOption(String)

    /// A readable message.
    public var description: String {
        switch self { case let .invalidOption(m): return "invalid option: \(m)" }
    }
}

/// Loads a character model and recognises images with it. Thread-safe: the model is immutable and
/// each call borrows a network instance (with its own workspaces) from a pool.
public final class Recognizer: @unchecked Sendable {
    /// The loaded model.
    public let model: Model
    /// Where it was loaded from.
    public let modelPath: String
    private let normalizer: CharacterNormalizer
    private let lock = NSLock()
    private var idle: [Network] = []

    /// Name of the default model file.
    public static let defaultModelFile = "hwr-char.hwrm"

    /// Loads a model.
    /// - Parameters:
    ///   - modelPath: a model file, or nil for `defaultModelPath()`
    ///   - threads: matrix-product threads (0: one per core)
    /// - Throws: `ModelError` if no model is found or it is invalid.
    public init(modelPath: String? = nil, threads: Int = 0) throws {
        guard let path = modelPath ?? Self.defaultModelPath() else {
            throw ModelError.io("no model given and none found (set HWR_MODEL, or install hwr: searched \(Self.searchPaths().joined(separator: ", ")))")
        }
        model = try Model.load(path: path)
        self.modelPath = path
        guard model.architecture.inputWidth != nil, model.preprocessing.kind == "character" else {
            throw ModelError.badFile("\(path) is not a character model")
        }
        normalizer = CharacterNormalizer(size: model.preprocessing.size, box: model.preprocessing.box)
        setKernelThreads(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The default model: `$HWR_MODEL`, else the first of `searchPaths()` that exists.
    public static func defaultModelPath() -> String? {
        if let env = ProcessInfo.processInfo.environment["HWR_MODEL"], !env.isEmpty { return env }
        return searchPaths().first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Where an installed or checked-out model is looked for: `<prefix>/share/hwr/models` beside the
    /// binary's `<prefix>/lib` or `<prefix>/bin`, the standard prefixes, and a source checkout's `models/`
    /// (from `.build/<config>/`).
    public static func searchPaths() -> [String] {
        var paths: [String] = []
        if let binary = loadedImagePath(containing: #dsohandle) {
            let dir = URL(fileURLWithPath: binary).resolvingSymlinksInPath().deletingLastPathComponent()
            paths.append(dir.appendingPathComponent("../share/hwr/models/\(defaultModelFile)").standardized.path)
            paths.append(dir.appendingPathComponent("../../models/\(defaultModelFile)").standardized.path)
        }
        paths += ["/usr/local/share/hwr/models/\(defaultModelFile)", "/usr/share/hwr/models/\(defaultModelFile)",
                  FileManager.default.currentDirectoryPath + "/models/\(defaultModelFile)"]
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    /// Recognises a batch of character images in one pass. Each image succeeds or fails on its own.
    /// - Parameters:
    ///   - topK: candidates per image (1 to the number of classes)
    ///   - allowed: restrict the output to these characters (case folded), or nil for all
    /// - Throws: `RecognitionError.invalidOption` for a bad `topK` or `allowed` set; image errors are
    ///   returned per image.
    public func recognize(_ images: [GrayImage], topK: Int = 5, allowed: String? = nil) throws -> [Result<CharacterReading, Error>] {
        let classes = model.charset.count
        guard topK >= 1, topK <= classes else { throw RecognitionError.invalidOption("top_k must be in 1...\(classes), got \(topK)") }
        let mask = try allowedMask(allowed)
        let n = normalizer.size * normalizer.size
        var results = [Result<CharacterReading, Error>](repeating: .failure(RecognitionError.invalidOption("")), count: images.count)
        var inputs: [Float] = []
        var rows: [Int] = []
        inputs.reserveCapacity(images.count * n)
        for (i, image) in images.enumerated() {
            do { inputs += try normalizer.normalize(image); rows.append(i) } catch { results[i] = .failure(error) }
        }
        guard !rows.isEmpty else { return results }
        let network = borrow()
        defer { giveBack(network) }
        let (logits, _) = network.forward(inputs, batch: rows.count, width: normalizer.size, mode: .inference)
        for (r, i) in rows.enumerated() {
            results[i] = .success(reading(logits + r * classes, mask: mask, topK: topK))
        }
        return results
    }

    private func allowedMask(_ allowed: String?) throws -> [Bool]? {
        guard let allowed else { return nil }
        var mask = [Bool](repeating: false, count: model.charset.count)
        for ch in allowed {
            guard let c = model.charset.firstIndex(of: Character(ch.uppercased())) else {
                throw RecognitionError.invalidOption("character \"\(ch)\" is not in the model's charset")
            }
            mask[c] = true
        }
        guard mask.contains(true) else { throw RecognitionError.invalidOption("charset is empty") }
        return mask
    }

    private func reading(_ logits: UnsafeMutablePointer<Float>, mask: [Bool]?, topK: Int) -> CharacterReading {
        let classes = model.charset.count
        var maxLogit = -Float.infinity
        for c in 0..<classes where mask?[c] ?? true { maxLogit = max(maxLogit, logits[c]) }
        var probabilities = [Float](repeating: 0, count: classes)
        var sum: Float = 0
        for c in 0..<classes where mask?[c] ?? true { probabilities[c] = expf(logits[c] - maxLogit); sum += probabilities[c] }
        let order = (0..<classes).filter { mask?[$0] ?? true }.sorted { probabilities[$0] > probabilities[$1] }
        return CharacterReading(candidates: order.prefix(topK).map {
            Candidate(text: String(model.charset[$0]), probability: probabilities[$0] / sum)
        })
    }

    private func borrow() -> Network {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? model.makeNetwork()
    }

    private func giveBack(_ network: Network) {
        lock.lock()
        idle.append(network)
        lock.unlock()
    }
}

/// The file of the loaded executable or shared library that contains `address` (from /proc/self/maps).
func loadedImagePath(containing address: UnsafeRawPointer) -> String? {
    guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
    let target = UInt(bitPattern: address)
    for line in maps.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, let dash = fields[0].firstIndex(of: "-"),
              let start = UInt(fields[0][..<dash], radix: 16),
              let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16) else { continue }
        if target >= start && target < end { return fields[5...].joined(separator: " ") }
    }
    return nil
}
