import Foundation
import HWRDecoding
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
    /// Line mode was asked for but no line model is loaded.
    case noLineModel

    /// A readable message.
    public var description: String {
        switch self {
        case let .invalidOption(m): return "invalid option: \(m)"
        case .noLineModel: return "no line model is loaded (install models/hwr-line.hwrm or give its path)"
        }
    }
}

/// An image of a sequence could not be read; `underlying` is its image error.
public struct SequenceImageError: Error, CustomStringConvertible {
    /// Position of the image in the sequence.
    public let index: Int
    /// Why it could not be read.
    public let underlying: Error
    /// A readable message.
    public var description: String { "image \(index) of the sequence: \(underlying)" }

    /// Wraps the error of image `index`.
    public init(index: Int, underlying: Error) { self.index = index; self.underlying = underlying }
}

/// Loads the character model (and, when available, the line model) and recognises images with them.
/// Thread-safe: the models are immutable and each call borrows an inference slot (a network instance
/// with its workspaces, and the normaliser's buffers) from a pool.
public final class Recognizer: @unchecked Sendable {
    /// The character model.
    public let model: Model
    /// Where it was loaded from.
    public let modelPath: String
    /// The line (CTC) model, if one was found or given.
    public let lineModel: Model?
    /// Where the line model was loaded from.
    public let lineModelPath: String?
    let normalizer: CharacterNormalizer
    let lineNormalizer: LineNormalizer
    let charSlots: SlotPool
    let lineSlots: SlotPool?
    /// Threads a batch is split over (each runs its share with single-threaded matrix products).
    public let threads: Int

    /// Name of the default character model file.
    public static let defaultModelFile = "hwr-char.hwrm"
    /// Name of the default line model file.
    public static let defaultLineModelFile = "hwr-line.hwrm"

    /// Loads the models.
    /// - Parameters:
    ///   - modelPath: a character model file, or nil for the default (`$HWR_MODEL`, then the search paths)
    ///   - lineModelPath: a line model file, or nil for the default (`$HWR_LINE_MODEL`, then the search
    ///     paths; no line model when none is found)
    ///   - threads: threads a batch is split over (0: one per core); the matrix products of each share
    ///     run single-threaded, which scales better than threading each small product
    /// - Throws: `ModelError` if a model is missing, invalid, or of the wrong kind.
    public init(modelPath: String? = nil, lineModelPath: String? = nil, threads: Int = 0) throws {
        guard let path = modelPath ?? Self.defaultPath(file: Self.defaultModelFile, environment: "HWR_MODEL") else {
            throw ModelError.io("no model given and none found (set HWR_MODEL, or install hwr: searched \(Self.searchPaths(file: Self.defaultModelFile).joined(separator: ", ")))")
        }
        model = try Model.load(path: path)
        self.modelPath = path
        guard model.architecture.inputWidth != nil, model.preprocessing.kind == "character" else {
            throw ModelError.badFile("\(path) is not a character model")
        }
        normalizer = CharacterNormalizer(size: model.preprocessing.size, box: model.preprocessing.box)
        charSlots = SlotPool(model)
        let linePath = lineModelPath ?? Self.defaultPath(file: Self.defaultLineModelFile, environment: "HWR_LINE_MODEL")
        if let linePath {
            let line = try Model.load(path: linePath)
            guard line.architecture.inputWidth == nil, line.preprocessing.kind == "line" else {
                throw ModelError.badFile("\(linePath) is not a line model")
            }
            lineModel = line
            lineSlots = SlotPool(line)
            lineNormalizer = LineNormalizer(height: line.preprocessing.size, box: line.preprocessing.box)
        } else {
            lineModel = nil; lineSlots = nil; lineNormalizer = LineNormalizer()
        }
        self.lineModelPath = lineModel == nil ? nil : linePath
        self.threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        setKernelThreads(1)
    }

    /// The default path of a model file: the environment variable if set, else the first of
    /// `searchPaths(file:)` that exists.
    public static func defaultPath(file: String, environment: String) -> String? {
        if let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { return env }
        return searchPaths(file: file).first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Where an installed or checked-out model is looked for: `<prefix>/share/hwr/models` beside the
    /// binary's `<prefix>/lib` or `<prefix>/bin`, the standard prefixes, and a source checkout's `models/`
    /// (from `.build/<config>/`).
    public static func searchPaths(file: String) -> [String] {
        var paths: [String] = []
        if let binary = loadedImagePath(containing: #dsohandle) {
            // <prefix>/lib/libhwr.so or <prefix>/bin/hwr -> <prefix>/share/hwr/models; a checkout's
            // .build/<triple>/<config>/ (what .build/<config> links to) -> models/.
            let dir = URL(fileURLWithPath: binary).deletingLastPathComponent()
            paths.append(dir.appendingPathComponent("../share/hwr/models/\(file)").standardized.path)
            paths.append(dir.appendingPathComponent("../../models/\(file)").standardized.path)
            paths.append(dir.appendingPathComponent("../../../models/\(file)").standardized.path)
        }
        paths += ["/usr/local/share/hwr/models/\(file)", "/usr/share/hwr/models/\(file)",
                  FileManager.default.currentDirectoryPath + "/models/\(file)"]
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
        let distributions = inParallel(images) { chunk in self.classify(chunk, mask: mask) }
        return distributions.map { $0.map { reading($0, mask: mask, topK: topK) } }
    }

    /// Writes the class probabilities of one character image (one per `model.charset` entry, from
    /// decoded pixels, preprocessing included) into `probabilities`. Allocates nothing once warm:
    /// the normaliser's buffers, the network's workspaces and its input live in a pooled slot.
    /// - Throws: `RecognitionError.invalidOption` when `probabilities` has the wrong size; the
    ///   image's `ImageError`.
    public func classify(_ image: GrayImage, into probabilities: UnsafeMutableBufferPointer<Float>) throws {
        guard probabilities.count == model.charset.count, let out = probabilities.baseAddress else {
            throw RecognitionError.invalidOption("probabilities must hold \(model.charset.count) floats, got \(probabilities.count)")
        }
        try charSlots.withSlot { slot in
            let n = normalizer.size * normalizer.size
            let input = slot.input.reserve(n)
            try normalizer.normalize(image, into: input, scratch: &slot.scratch)
            let (logits, _) = slot.network.forward(input, batch: 1, width: normalizer.size, mode: .inference)
            softmax(logits, into: out, mask: nil)
        }
    }

    /// Class probabilities of each image (normalisation errors per image), in one batched pass.
    func classify(_ images: ArraySlice<GrayImage>, mask: [Bool]?) -> [Result<[Float], Error>] {
        let classes = model.charset.count, n = normalizer.size * normalizer.size
        var results = [Result<[Float], Error>](repeating: .failure(RecognitionError.invalidOption("")), count: images.count)
        charSlots.withSlot { slot in
            let inputs = slot.input.reserve(images.count * n)
            var rows: [Int] = []
            for (i, image) in images.enumerated() {
                do {
                    try normalizer.normalize(image, into: inputs + rows.count * n, scratch: &slot.scratch)
                    rows.append(i)
                } catch { results[i] = .failure(error) }
            }
            guard !rows.isEmpty else { return }
            let (logits, _) = slot.network.forward(inputs, batch: rows.count, width: normalizer.size, mode: .inference)
            for (r, i) in rows.enumerated() {
                var p = [Float](repeating: 0, count: classes)
                p.withUnsafeMutableBufferPointer { softmax(logits + r * classes, into: $0.baseAddress!, mask: mask) }
                results[i] = .success(p)
            }
        }
        return results
    }

    /// Splits `items` into one chunk per thread (chunks of at least 4), runs `body` on each
    /// concurrently, and concatenates the results in order.
    func inParallel<T, R>(_ items: [T], _ body: @escaping (ArraySlice<T>) -> [R]) -> [R] {
        let chunks = min(threads, max(1, items.count / 4))
        guard chunks > 1 else { return body(items[...]) }
        let size = (items.count + chunks - 1) / chunks
        var parts = [[R]](repeating: [], count: chunks)
        parts.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let range = (c * size)..<min(items.count, (c + 1) * size)
                base[c] = body(items[range])
            }
        }
        return parts.flatMap { $0 }
    }

    /// The allowed classes of a charset option ("digits", "letters" or the characters), parsed as
    /// line decoding parses it.
    func allowedMask(_ allowed: String?) throws -> [Bool]? {
        guard let allowed else { return nil }
        let charset = model.charset
        let classes: Set<Int>
        do {
            classes = try DecodingConstraint.allowedClasses(allowed, classes: charset.count, classOf: { charset.firstIndex(of: $0) })
        } catch let e as ConstraintError { throw RecognitionError.invalidOption(e.description) }
        return (0..<charset.count).map(classes.contains)
    }

    /// Softmax of one row of logits over the allowed classes (others get 0), into `p`.
    func softmax(_ logits: UnsafeMutablePointer<Float>, into p: UnsafeMutablePointer<Float>, mask: [Bool]?) {
        let classes = model.charset.count
        var maxLogit = -Float.infinity
        for c in 0..<classes where mask?[c] ?? true { maxLogit = max(maxLogit, logits[c]) }
        var sum: Float = 0
        for c in 0..<classes {
            p[c] = mask?[c] ?? true ? expf(logits[c] - maxLogit) : 0
            sum += p[c]
        }
        for c in 0..<classes { p[c] /= sum }
    }

    private func reading(_ p: [Float], mask: [Bool]?, topK: Int) -> CharacterReading {
        let order = (0..<p.count).filter { mask?[$0] ?? true }.sorted { p[$0] > p[$1] }
        return CharacterReading(candidates: order.prefix(topK).map { Candidate(text: String(model.charset[$0]), probability: p[$0]) })
    }
}

/// What one recognition call needs besides the model: a network instance (with its workspaces),
/// the normaliser's buffers and the network input. Reused across calls, so a warm call allocates
/// nothing for them.
final class InferenceSlot {
    /// The network instance.
    let network: Network
    /// The normaliser's reusable buffers.
    var scratch = NormalizerScratch()
    /// The normalised images of the call.
    let input = FloatBuffer()

    init(_ model: Model) { network = model.makeNetwork() }
}

/// Inference slots over one model, lent to one caller at a time.
final class SlotPool: @unchecked Sendable {
    private let model: Model
    private let lock = NSLock()
    private var idle: [InferenceSlot] = []

    init(_ model: Model) { self.model = model }

    /// Runs `body` with a slot no other thread uses meanwhile.
    func withSlot<T>(_ body: (InferenceSlot) throws -> T) rethrows -> T {
        lock.lock()
        let slot = idle.popLast() ?? InferenceSlot(model)
        lock.unlock()
        defer { lock.lock(); idle.append(slot); lock.unlock() }
        return try body(slot)
    }
}

/// The file of the loaded executable or shared library that contains `address` (from /proc/self/maps,
/// read with a file handle: the file reports a size of 0, so whole-file reads come back empty).
func loadedImagePath(containing address: UnsafeRawPointer) -> String? {
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"),
          let data = try? handle.readToEnd(), let maps = String(data: data, encoding: .utf8) else { return nil }
    try? handle.close()
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
