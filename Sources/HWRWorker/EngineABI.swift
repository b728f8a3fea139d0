import CHwr
import Foundation
import Logging

/// The recognition engine as the worker sees it: a libhwr.so loaded with dlopen and called only
/// through the C ABI of include/hwr.h, like any other host. Its ABI version is checked at load.
public final class EngineABI: @unchecked Sendable {
    typealias Open = @convention(c) (UnsafePointer<hwr_engine_options>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias Close = @convention(c) (OpaquePointer?) -> Void
    typealias Batch = @convention(c) (OpaquePointer?, UnsafePointer<hwr_image>?, Int, UnsafePointer<hwr_recognize_options>?,
                                      UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias EngineString = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    typealias ModelPrecision = @convention(c) (OpaquePointer?, Int32) -> UnsafePointer<CChar>?
    typealias CStringGetter = @convention(c) () -> UnsafePointer<CChar>
    typealias Int32Getter = @convention(c) () -> Int32
    typealias ResultCount = @convention(c) (OpaquePointer?) -> Int
    typealias ItemStatus = @convention(c) (OpaquePointer?, Int) -> Int32
    typealias ItemString = @convention(c) (OpaquePointer?, Int) -> UnsafePointer<CChar>?
    typealias ItemFloat = @convention(c) (OpaquePointer?, Int) -> Float
    typealias ItemCount = @convention(c) (OpaquePointer?, Int) -> Int
    typealias SubString = @convention(c) (OpaquePointer?, Int, Int) -> UnsafePointer<CChar>?
    typealias SubFloat = @convention(c) (OpaquePointer?, Int, Int) -> Float
    typealias Free = @convention(c) (OpaquePointer?) -> Void
    typealias LineCount = @convention(c) (OpaquePointer?, Int) -> Int
    typealias LineString = @convention(c) (OpaquePointer?, Int, Int) -> UnsafePointer<CChar>?
    typealias LineFloat = @convention(c) (OpaquePointer?, Int, Int) -> Float
    typealias LineBox = @convention(c) (OpaquePointer?, Int, Int, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?,
                                        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias WordCount = @convention(c) (OpaquePointer?, Int, Int) -> Int
    typealias WordString = @convention(c) (OpaquePointer?, Int, Int, Int) -> UnsafePointer<CChar>?
    typealias WordFloat = @convention(c) (OpaquePointer?, Int, Int, Int) -> Float
    typealias WordBox = @convention(c) (OpaquePointer?, Int, Int, Int, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?,
                                        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32

    /// The page-layout getters (hwr.h 1.1.0).
    struct Layout {
        let lineCount: LineCount, lineText: LineString, lineConfidence: LineFloat, lineBox: LineBox
        let wordCount: WordCount, wordText: WordString, wordConfidence: WordFloat, wordBox: WordBox
    }
    typealias SetLogCallback = @convention(c) (hwr_log_callback?, Int32, UnsafeMutableRawPointer?) -> Int32

    /// Path of the loaded library.
    public let path: String
    /// The library's ABI and version string.
    public let abiVersion: Int32, version: String
    let open: Open, close: Close, batch: Batch, lastError: CStringGetter
    let modelName: EngineString, modelVersion: EngineString, charset: EngineString, lineModelPath: EngineString
    let count: ResultCount, status: ItemStatus, error: ItemString, text: ItemString, confidence: ItemFloat
    let rejected: ItemStatus, candidateCount: ItemCount, candidateText: SubString, candidateScore: SubFloat
    let charCount: ItemCount, charText: SubString, charScore: SubFloat, free: Free
    /// hwr_set_log_callback, absent from libraries older than 1.1.0.
    let setLogCallback: SetLogCallback?
    /// The page-layout getters; nil for a library older than 1.1.0.
    let layout: Layout?
    /// hwr_engine_text_model_path, absent from libraries older than 1.2.0.
    let textModelPath: EngineString?
    /// hwr_engine_model_precision, absent from libraries older than 1.3.0.
    let modelPrecision: ModelPrecision?

    /// Errors of loading an engine library.
    public enum LoadError: Error, CustomStringConvertible {
        /// dlopen or dlsym failed.
        case cannotLoad(String)
        /// The library speaks another ABI version.
        case abiMismatch(path: String, found: Int32, expected: Int32)

        /// A readable message.
        public var description: String {
            switch self {
            case let .cannotLoad(m): return "cannot load the engine: \(m)"
            case let .abiMismatch(path, found, expected): return "\(path) has ABI version \(found); this worker needs \(expected)"
            }
        }
    }

    /// Loads a libhwr.so and resolves every function the worker calls.
    /// - Throws: `LoadError`.
    public init(path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError.cannotLoad(String(cString: dlerror()))
        }
        func symbol<T>(_ name: String, as: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else { throw LoadError.cannotLoad("\(path): no symbol \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        /// A symbol that libraries of earlier minor versions lack.
        func optionalSymbol<T>(_ name: String, as: T.Type) -> T? { dlsym(handle, name).map { unsafeBitCast($0, to: T.self) } }
        let abi = try symbol("hwr_abi_version", as: Int32Getter.self)
        guard abi() == HWR_ABI_VERSION else { throw LoadError.abiMismatch(path: path, found: abi(), expected: HWR_ABI_VERSION) }
        self.path = path
        abiVersion = abi()
        version = String(cString: try symbol("hwr_version", as: CStringGetter.self)())
        open = try symbol("hwr_engine_open", as: Open.self)
        close = try symbol("hwr_engine_close", as: Close.self)
        batch = try symbol("hwr_recognize_batch", as: Batch.self)
        lastError = try symbol("hwr_last_error", as: CStringGetter.self)
        modelName = try symbol("hwr_engine_model_name", as: EngineString.self)
        modelVersion = try symbol("hwr_engine_model_version", as: EngineString.self)
        charset = try symbol("hwr_engine_charset", as: EngineString.self)
        lineModelPath = try symbol("hwr_engine_line_model_path", as: EngineString.self)
        count = try symbol("hwr_result_count", as: ResultCount.self)
        status = try symbol("hwr_result_status", as: ItemStatus.self)
        error = try symbol("hwr_result_error", as: ItemString.self)
        text = try symbol("hwr_result_text", as: ItemString.self)
        confidence = try symbol("hwr_result_confidence", as: ItemFloat.self)
        rejected = try symbol("hwr_result_rejected", as: ItemStatus.self)
        candidateCount = try symbol("hwr_result_candidate_count", as: ItemCount.self)
        candidateText = try symbol("hwr_result_candidate_text", as: SubString.self)
        candidateScore = try symbol("hwr_result_candidate_score", as: SubFloat.self)
        charCount = try symbol("hwr_result_char_count", as: ItemCount.self)
        charText = try symbol("hwr_result_char_text", as: SubString.self)
        charScore = try symbol("hwr_result_char_score", as: SubFloat.self)
        free = try symbol("hwr_result_free", as: Free.self)
        setLogCallback = optionalSymbol("hwr_set_log_callback", as: SetLogCallback.self)
        textModelPath = optionalSymbol("hwr_engine_text_model_path", as: EngineString.self)
        modelPrecision = optionalSymbol("hwr_engine_model_precision", as: ModelPrecision.self)
        if let lineCount = optionalSymbol("hwr_result_line_count", as: LineCount.self) {
            layout = Layout(lineCount: lineCount, lineText: try symbol("hwr_result_line_text", as: LineString.self),
                            lineConfidence: try symbol("hwr_result_line_confidence", as: LineFloat.self),
                            lineBox: try symbol("hwr_result_line_box", as: LineBox.self),
                            wordCount: try symbol("hwr_result_word_count", as: WordCount.self),
                            wordText: try symbol("hwr_result_word_text", as: WordString.self),
                            wordConfidence: try symbol("hwr_result_word_confidence", as: WordFloat.self),
                            wordBox: try symbol("hwr_result_word_box", as: WordBox.self))
        } else {
            layout = nil
        }
    }

    /// Routes the library's diagnostics at `logger`'s level and above to `logger` (source "engine").
    /// Process-wide: call it once, before opening engines.
    /// - Returns: false when the library has no hwr_set_log_callback (older than 1.1.0) or refuses it.
    @discardableResult
    public func routeDiagnostics(to logger: Logger) -> Bool {
        guard let setLogCallback else { return false }
        // Lives as long as the process: the library may call back from any thread at any time.
        let sink = Unmanaged.passRetained(DiagnosticSink(logger)).toOpaque()
        let status = setLogCallback({ level, message, user in
            guard let user, let message else { return }
            let sink = Unmanaged<DiagnosticSink>.fromOpaque(user).takeUnretainedValue()
            sink.logger.log(level: DiagnosticSink.levels[level] ?? .error, "\(String(cString: message))", source: "engine")
        }, DiagnosticSink.minimumLevel(for: logger.logLevel), sink)
        guard status == HWR_OK else { Unmanaged<DiagnosticSink>.fromOpaque(sink).release(); return false }
        return true
    }

    /// The library next to this executable (`.build/<config>/libhwr.so`, `<prefix>/lib/libhwr.so`),
    /// else whatever the system loader finds as libhwr.so.
    public static func defaultPath() -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in ["libhwr.so", "../lib/libhwr.so"] {
            let path = executable.appendingPathComponent(candidate).standardized.path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return "libhwr.so"
    }
}

/// One opened engine (model loaded) of an `EngineABI`.
public final class Engine: @unchecked Sendable {
    /// The library it runs on.
    public let abi: EngineABI
    let handle: OpaquePointer
    /// Model facts, read once.
    public let modelName: String, modelVersion: String, charset: String, hasLineModel: Bool, hasTextModel: Bool
    /// Precision ("fp32", "int8") of the character, line and text-line models, "" for one not loaded
    /// or a library older than 1.3.0.
    public let precisions: [String]

    /// Opens an engine with the default models.
    /// - Parameters:
    ///   - threads: hwr_engine_options.threads (0: the engine's default).
    ///   - maxPixels: hwr_engine_options.max_pixels (0: the engine's default).
    /// - Throws: `EngineError` with the library's status and message.
    public init(abi: EngineABI, threads: Int32, maxPixels: Int64) throws {
        self.abi = abi
        var options = hwr_engine_options()
        hwr_engine_options_init(&options)
        options.threads = threads
        options.max_pixels = maxPixels
        var engine: OpaquePointer?
        let status = abi.open(&options, &engine)
        guard status == HWR_OK, let engine else {
            throw EngineError(status: status, message: String(cString: abi.lastError()))
        }
        handle = engine
        modelName = abi.modelName(engine).map { String(cString: $0) } ?? ""
        modelVersion = abi.modelVersion(engine).map { String(cString: $0) } ?? ""
        charset = abi.charset(engine).map { String(cString: $0) } ?? ""
        hasLineModel = abi.lineModelPath(engine) != nil
        hasTextModel = abi.textModelPath.map { $0(engine) != nil } ?? false
        precisions = [HWR_MODEL_CHAR, HWR_MODEL_LINE, HWR_MODEL_TEXT].map { model in
            abi.modelPrecision.flatMap { $0(engine, model) }.map { String(cString: $0) } ?? ""
        }
    }

    deinit { abi.close(handle) }
}

/// The logger the library's diagnostics go to, and the translation of HWR_LOG_* levels.
final class DiagnosticSink: @unchecked Sendable {
    let logger: Logger
    init(_ logger: Logger) { self.logger = logger }

    /// HWR_LOG_* to swift-log levels.
    static let levels: [Int32: Logger.Level] = [
        HWR_LOG_DEBUG: .debug, HWR_LOG_INFO: .info, HWR_LOG_WARNING: .warning, HWR_LOG_ERROR: .error,
    ]

    /// The lowest HWR_LOG_* level that `level` lets through.
    static func minimumLevel(for level: Logger.Level) -> Int32 {
        levels.filter { $0.value >= level }.keys.min() ?? HWR_LOG_ERROR
    }
}

/// A failed engine call: the library's status code and message.
public struct EngineError: Error, CustomStringConvertible {
    /// An HWR_ERR_* code.
    public let status: Int32
    /// hwr_last_error() at the time.
    public let message: String
    /// A readable message.
    public var description: String { "engine error \(status): \(message)" }
}
