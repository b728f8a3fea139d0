import CLoader
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization
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
    /// The character model's inference path.
    public let characters: CharacterClassifier
    /// Where the character model was loaded from.
    public let modelPath: String
    /// The line (CTC) model's inference path, if a line model was found or given.
    public let lines: LineReader?
    /// Where the line model was loaded from.
    public let lineModelPath: String?
    /// The text-line model's inference path (free text: case, spaces, punctuation), if one was
    /// found or given.
    public let text: LineReader?
    /// Where the text-line model was loaded from.
    public let textModelPath: String?
    /// Threads a batch is split over (each runs its share with the BLAS as the process configured it).
    public let threads: Int
    /// Largest decoded image this engine accepts, in pixels (`RecognitionLimits.maximumPixels` or lower).
    public let maximumPixels: Int

    /// The character model.
    public var model: Model { characters.model }
    /// The line model, if one is loaded.
    public var lineModel: Model? { lines?.model }
    /// The text-line model, if one is loaded.
    public var textModel: Model? { text?.model }

    /// Name of the default character model file.
    public static let defaultModelFile = "hwr-char.hwrm"
    /// Name of the default line model file.
    public static let defaultLineModelFile = "hwr-line.hwrm"
    /// Name of the default text-line model file.
    public static let defaultTextModelFile = "hwr-text.hwrm"

    /// Loads the models.
    /// - Parameters:
    ///   - modelPath: a character model file, or nil for the default (`$HWR_MODEL`, then the search paths)
    ///   - lineModelPath: a line model file (codes: digits and upper-case letters), or nil for the
    ///     default (`$HWR_LINE_MODEL`, then the search paths; no line model when none is found)
    ///   - textModelPath: a text-line model file (free text), or nil for the default
    ///     (`$HWR_TEXT_MODEL`, then the search paths; none when none is found). Which of the two
    ///     reads a request: `lineReader(for:)`.
    ///   - threads: threads a batch (in page mode: the preprocessing and the lines) is split over
    ///     (0: one per core). The engine leaves process-wide BLAS settings alone: a process that
    ///     wants single-threaded matrix products in each share (the hwr command does) sets that itself.
    ///   - maximumPixels: the largest decoded image accepted, 1 to `RecognitionLimits.maximumPixels`
    ///     (0: that limit)
    /// - Throws: `HWRError` (`.io`, `.modelFormat`, `.invalidArgument`) if a model is missing, invalid,
    ///   or of the wrong kind, or an argument is out of range.
    public init(modelPath: String? = nil, lineModelPath: String? = nil, textModelPath: String? = nil,
                threads: Int = 0, maximumPixels: Int = 0) throws {
        guard threads >= 0 else { throw HWRError.invalidArgument("threads must be >= 0, got \(threads)") }
        guard (0...RecognitionLimits.maximumPixels).contains(maximumPixels) else {
            throw HWRError.invalidArgument("max_pixels must be in 0...\(RecognitionLimits.maximumPixels), got \(maximumPixels)")
        }
        guard let path = modelPath ?? Self.defaultPath(file: Self.defaultModelFile, environment: "HWR_MODEL") else {
            throw HWRError.io("no model given and none found (set HWR_MODEL, or install hwr: searched \(Self.searchPaths(file: Self.defaultModelFile).joined(separator: ", ")))")
        }
        let model = try classified { try Model.load(path: path) }
        guard model.architecture.inputWidth != nil, model.preprocessing.kind == "character" else {
            throw HWRError.modelFormat("\(path) is not a character model")
        }
        characters = CharacterClassifier(model)
        self.modelPath = path
        /// A line-kind model from `path`, the default file, or nil when none is given or found.
        func lineKindModel(_ path: String?, file: String, environment: String) throws -> (LineReader, String)? {
            guard let path = path ?? Self.defaultPath(file: file, environment: environment) else { return nil }
            let model = try classified { try Model.load(path: path) }
            guard model.architecture.inputWidth == nil, model.preprocessing.kind == "line" else {
                throw HWRError.modelFormat("\(path) is not a line model")
            }
            return (LineReader(model), path)
        }
        let line = try lineKindModel(lineModelPath, file: Self.defaultLineModelFile, environment: "HWR_LINE_MODEL")
        let text = try lineKindModel(textModelPath, file: Self.defaultTextModelFile, environment: "HWR_TEXT_MODEL")
        lines = line?.0
        self.lineModelPath = line?.1
        self.text = text?.0
        self.textModelPath = text?.1
        self.threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        self.maximumPixels = maximumPixels > 0 ? maximumPixels : RecognitionLimits.maximumPixels
        Diagnostics.logger.debug("engine opened", metadata: [
            "model": "\(model.metadata.name) \(model.metadata.version) (\(path))",
            "line_model": "\(lineModel.map { "\($0.metadata.name) \($0.metadata.version) (\(lineModelPath ?? ""))" } ?? "none")",
            "text_model": "\(textModel.map { "\($0.metadata.name) \($0.metadata.version) (\(textModelPath ?? ""))" } ?? "none")",
            "threads": "\(self.threads)", "max_pixels": "\(self.maximumPixels)",
        ])
    }

    /// The default path of a model file: the environment variable if set, else the first of
    /// `searchPaths(file:)` that exists.
    public static func defaultPath(file: String, environment: String) -> String? {
        if let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { return env }
        return searchPaths(file: file).first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Where an installed or checked-out model is looked for: `<prefix>/share/hwr/models` beside the
    /// binary's `<prefix>/lib` or `<prefix>/bin` (the file holding this code, found with `dladdr`),
    /// the standard prefixes, and a source checkout's `models/` (from `.build/<config>/`).
    public static func searchPaths(file: String) -> [String] {
        var paths: [String] = []
        var name = [CChar](repeating: 0, count: 4096)
        if cl_loaded_file_path(#dsohandle, &name, name.count) != 0 {
            // <prefix>/lib/libhwr.so or <prefix>/bin/hwr -> <prefix>/share/hwr/models; a checkout's
            // .build/<triple>/<config>/ (what .build/<config> links to) -> models/.
            let dir = URL(fileURLWithPath: String(cString: name)).resolvingSymlinksInPath().deletingLastPathComponent()
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
    ///   - topK: candidates per image (1 to the number of classes; fewer when `allowed` allows fewer)
    ///   - allowed: restrict the output to these characters (case folded), or nil for all
    /// - Throws: `HWRError.invalidArgument` for a bad `topK` or `allowed` set; image errors are
    ///   returned per image.
    public func recognize(_ images: [GrayImage], topK: Int = 5, allowed: String? = nil) throws -> [Result<CharacterReading, Error>] {
        let classes = model.charset.count
        guard topK >= 1, topK <= classes else { throw HWRError.invalidArgument("top_k must be in 1...\(classes), got \(topK)") }
        let mask = try allowedMask(allowed)
        let distributions = inParallel(images) { chunk in self.characters.classify(chunk, mask: mask) }
        return distributions.map { $0.map { reading($0, mask: mask, topK: topK) } }
    }

    /// Writes the class probabilities of one character image (one per `model.charset` entry, from
    /// decoded pixels, preprocessing included) into `probabilities`; see `CharacterClassifier`.
    public func classify(_ image: GrayImage, into probabilities: UnsafeMutableBufferPointer<Float>) throws {
        try characters.classify(image, into: probabilities)
    }

    /// Runs `body` on every item on up to `threads` threads, handing out the items one at a time,
    /// costliest first (`cost`), to whichever thread is free: for lines, whose times differ with
    /// their lengths (longest processing time first, Graham 1969). Results in the items' order.
    func eachInParallel<T, R>(_ items: [T], cost: (T) -> Int, _ body: (T) -> R) -> [R] {
        let workers = min(threads, items.count)
        guard workers > 1 else { return items.map(body) }
        let order = items.indices.sorted { cost(items[$0]) > cost(items[$1]) }
        var results = [R?](repeating: nil, count: items.count)
        let next = Atomic(0)
        results.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while case let k = next.wrappingAdd(1, ordering: .relaxed).oldValue, k < order.count {
                    base[order[k]] = body(items[order[k]])
                }
            }
        }
        return results.map { $0! }
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
    /// - Throws: `HWRError.invalidArgument` for a malformed set, or one that selects no class.
    func allowedMask(_ allowed: String?) throws -> [Bool]? {
        guard let allowed else { return nil }
        let charset = model.charset
        let classes: Set<Int>
        do {
            classes = try DecodingConstraint.allowedClasses(allowed, classes: charset.count, classOf: { charset.firstIndex(of: $0) })
        } catch let e as ConstraintError { throw HWRError.invalidArgument(e.description) }
        guard !classes.isEmpty else { throw HWRError.invalidArgument("charset \"\(allowed)\" selects no class of the model") }
        return (0..<charset.count).map(classes.contains)
    }

    private func reading(_ p: [Float], mask: [Bool]?, topK: Int) -> CharacterReading {
        let order = (0..<p.count).filter { mask?[$0] ?? true }.sorted { p[$0] > p[$1] }
        return CharacterReading(candidates: order.prefix(topK).map { Candidate(text: String(model.charset[$0]), probability: p[$0]) })
    }
}
