import CHwr
import Foundation
import HWRImage
import HWRModel
import HWRRecognition

/// Largest number of images in one batch call.
let maximumBatch = 4096

/// Errors raised by argument checks at the boundary.
enum CAPIError: Error {
    case invalid(String)
    case io(String)
    case unsupported(String)
}

/// A C string owned by a box, freed with it.
final class OwnedCString {
    private let storage: UnsafeMutablePointer<CChar>
    init(_ s: String) { storage = strdup(s) }
    deinit { free(storage) }
    /// The string, valid while this object lives.
    var pointer: UnsafePointer<CChar> { UnsafePointer(storage) }
}

/// What an hwr_engine handle points to.
final class EngineBox {
    let recognizer: Recognizer
    let name: OwnedCString, version: OwnedCString, path: OwnedCString, charset: OwnedCString
    let linePath: OwnedCString?

    init(_ recognizer: Recognizer) {
        self.recognizer = recognizer
        name = OwnedCString(recognizer.model.metadata.name)
        version = OwnedCString(recognizer.model.metadata.version)
        path = OwnedCString(recognizer.modelPath)
        charset = OwnedCString(String(recognizer.model.charset))
        linePath = recognizer.lineModelPath.map(OwnedCString.init)
    }
}

/// What an hwr_result handle points to.
final class ResultBox {
    struct Item {
        var status: Int32
        var error: OwnedCString
        var text: OwnedCString
        var confidence: Float
        var rejected: Bool
        var candidates: [(text: OwnedCString, probability: Float)]
        var characters: [(text: OwnedCString, probability: Float)]
    }
    let items: [Item]
    init(_ items: [Item]) { self.items = items }
}

func engineBox(_ p: OpaquePointer?) -> EngineBox? {
    p.map { Unmanaged<EngineBox>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

func resultBox(_ p: OpaquePointer?) -> ResultBox? {
    p.map { Unmanaged<ResultBox>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

func item(_ result: OpaquePointer?, _ i: Int) -> ResultBox.Item? {
    guard let box = resultBox(result), i >= 0, i < box.items.count else { return nil }
    return box.items[i]
}

/// A pointer to a NUL-terminated static string.
func staticCString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Thread-local storage of the last error message (a malloc'd C string).
let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

func setLastError(_ message: String) {
    free(pthread_getspecific(lastErrorKey))
    pthread_setspecific(lastErrorKey, strdup(message))
}

/// Status code and message of any error the engine can raise.
func statusAndMessage(_ error: Error) -> (Int32, String) {
    switch error {
    case let e as CAPIError:
        switch e {
        case let .invalid(m): return (HWR_ERR_INVALID_ARGUMENT, m)
        case let .io(m): return (HWR_ERR_IO, m)
        case let .unsupported(m): return (HWR_ERR_UNSUPPORTED, m)
        }
    case let e as ImageError:
        switch e {
        case .empty: return (HWR_ERR_IMAGE_EMPTY, e.description)
        case .tooLarge: return (HWR_ERR_IMAGE_TOO_LARGE, e.description)
        case .decodeFailed: return (HWR_ERR_IMAGE_DECODE, e.description)
        case .invalidArgument: return (HWR_ERR_INVALID_ARGUMENT, e.description)
        }
    case let e as ModelError:
        switch e {
        case .io: return (HWR_ERR_IO, e.description)
        case .badFile, .invalidArchitecture: return (HWR_ERR_MODEL_FORMAT, e.description)
        case .badInput: return (HWR_ERR_INVALID_ARGUMENT, e.description)
        }
    case let e as RecognitionError:
        if case .noLineModel = e { return (HWR_ERR_UNSUPPORTED, e.description) }
        return (HWR_ERR_INVALID_ARGUMENT, e.description)
    case let e as SequenceImageError:
        return (statusAndMessage(e.underlying).0, e.description)
    case let e as StatusError:
        return (e.status, e.message)
    default:
        return (HWR_ERR_INTERNAL, "\(error)")
    }
}

/// Runs an entry point: any thrown error becomes a status and the thread's last error message.
func guarded(_ body: () throws -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        let (status, message) = statusAndMessage(error)
        setLastError(message)
        return status
    }
}

func checkStructSize(_ size: UInt32, _ expected: Int, _ name: String) throws {
    guard Int(size) >= expected else {
        throw CAPIError.invalid("\(name).struct_size is \(size), expected at least \(expected): initialise it with its _init function")
    }
}

/// Decodes an hwr_image into a grey image.
func grayImage(_ image: hwr_image) throws -> GrayImage {
    try checkStructSize(image.struct_size, MemoryLayout<hwr_image>.size, "hwr_image")
    guard let data = image.data else {
        if image.size == 0 { throw ImageError.empty("no bytes") }
        throw CAPIError.invalid("image data is NULL")
    }
    let bytes = UnsafeRawBufferPointer(start: data, count: image.size)
    switch image.format {
    case HWR_IMAGE_ENCODED:
        return try GrayImage(encoded: Data(bytes))
    case HWR_IMAGE_GRAY8:
        return try GrayImage(gray8: bytes, width: Int(image.width), height: Int(image.height), stride: Int(image.stride))
    case HWR_IMAGE_RGBA8:
        return try GrayImage(rgba8: bytes, width: Int(image.width), height: Int(image.height), stride: Int(image.stride))
    default:
        throw CAPIError.invalid("unknown image format \(image.format)")
    }
}

/// Options of a recognition call, read from hwr_recognize_options.
struct RequestOptions {
    var mode = HWR_MODE_CHAR
    var topK = 5
    var text = TextOptions()

    init(_ options: UnsafePointer<hwr_recognize_options>?) throws {
        guard let options else { return }
        let o = options.pointee
        try checkStructSize(o.struct_size, MemoryLayout<hwr_recognize_options>.size, "hwr_recognize_options")
        guard [HWR_MODE_CHAR, HWR_MODE_LINE, HWR_MODE_AUTO].contains(o.mode) else {
            throw CAPIError.unsupported("mode \(o.mode) is not supported by this library")
        }
        mode = o.mode
        topK = Int(o.top_k)
        text.beamWidth = Int(o.beam_width)
        text.alternatives = Int(o.alternatives)
        guard o.reject_threshold >= 0, o.reject_threshold <= 1 else {
            throw CAPIError.invalid("reject_threshold must be in [0, 1], got \(o.reject_threshold)")
        }
        text.rejectThreshold = o.reject_threshold
        text.charset = try o.charset.map { try utf8($0, "charset") }
        text.pattern = try o.pattern.map { try utf8($0, "pattern") }
        if o.lexicon_count > 0 {
            guard let words = o.lexicon else { throw CAPIError.invalid("lexicon is NULL but lexicon_count is \(o.lexicon_count)") }
            guard o.lexicon_count <= 1_000_000 else { throw CAPIError.invalid("lexicon_count \(o.lexicon_count) exceeds 1000000") }
            text.lexicon = try (0..<o.lexicon_count).map { i in
                guard let w = words[i] else { throw CAPIError.invalid("lexicon word \(i) is NULL") }
                return try utf8(w, "lexicon word \(i)")
            }
        }
    }
}

func utf8(_ p: UnsafePointer<CChar>, _ what: String) throws -> String {
    guard let s = String(validatingCString: p) else { throw CAPIError.invalid("\(what) is not valid UTF-8") }
    return s
}

/// Decodes every image, remembering failures.
func decodeAll(_ images: UnsafeBufferPointer<hwr_image>) -> [Result<GrayImage, Error>] {
    images.map { image in Result { try grayImage(image) } }
}

extension ResultBox.Item {
    init(_ r: Result<CharacterReading, Error>, rejectThreshold: Float) {
        switch r {
        case let .success(reading):
            let rejected = reading.confidence < rejectThreshold
            self.init(status: HWR_OK, error: OwnedCString(""), text: OwnedCString(rejected ? "" : reading.text),
                      confidence: reading.confidence, rejected: rejected,
                      candidates: reading.candidates.map { (OwnedCString($0.text), $0.probability) },
                      characters: rejected ? [] : [(OwnedCString(reading.text), reading.confidence)])
        case let .failure(error): self.init(error)
        }
    }

    init(_ r: Result<TextReading, Error>) {
        switch r {
        case let .success(reading):
            self.init(status: HWR_OK, error: OwnedCString(""), text: OwnedCString(reading.text), confidence: reading.confidence,
                      rejected: reading.rejected, candidates: reading.alternatives.map { (OwnedCString($0.text), $0.probability) },
                      characters: reading.characters.map { (OwnedCString($0.text), $0.probability) })
        case let .failure(error): self.init(error)
        }
    }

    init(_ error: Error) {
        let (status, message) = statusAndMessage(error)
        self.init(status: status, error: OwnedCString(message), text: OwnedCString(""), confidence: 0, rejected: false,
                  candidates: [], characters: [])
    }
}

/// Shared body of hwr_recognize, hwr_recognize_batch and hwr_recognize_file: validates, recognises
/// every image in the requested mode, and stores the result in `out`.
/// - Parameter keepFailures: store a result even when items failed (batch); otherwise a failed single
///   item throws its error and stores nothing.
func recognizeBatch(_ engine: OpaquePointer?, _ images: UnsafeBufferPointer<hwr_image>,
                    _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                    keepFailures: Bool = false) throws {
    guard let box = engineBox(engine) else { throw CAPIError.invalid("engine is NULL") }
    guard let out else { throw CAPIError.invalid("out_result is NULL") }
    let request = try RequestOptions(options)
    let recognizer = box.recognizer
    let decoded = decodeAll(images)
    let good = decoded.compactMap { try? $0.get() }
    var items: [ResultBox.Item] = []
    switch request.mode {
    case HWR_MODE_CHAR:
        let readings = try recognizer.recognize(good, topK: request.topK, allowed: request.text.charset)
        items = merge(decoded, readings).map { ResultBox.Item($0, rejectThreshold: request.text.rejectThreshold) }
    case HWR_MODE_LINE:
        guard recognizer.lineModel != nil else { throw CAPIError.unsupported("line mode: the engine has no line model") }
        items = merge(decoded, try recognizer.recognizeLines(good, options: request.text)).map(ResultBox.Item.init)
    default:
        items = merge(decoded, try recognizer.recognizeAuto(good, options: request.text)).map(ResultBox.Item.init)
    }
    if !keepFailures, items[0].status != HWR_OK {
        throw StatusError(status: items[0].status, message: String(cString: items[0].error.pointer))
    }
    out.pointee = OpaquePointer(Unmanaged.passRetained(ResultBox(items)).toOpaque())
}

/// Recognises a sequence of character images as one string.
func recognizeSequence(_ engine: OpaquePointer?, _ images: UnsafeBufferPointer<hwr_image>,
                       _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) throws {
    guard let box = engineBox(engine) else { throw CAPIError.invalid("engine is NULL") }
    guard let out else { throw CAPIError.invalid("out_result is NULL") }
    let request = try RequestOptions(options)
    var grays: [GrayImage] = []
    for (i, d) in decodeAll(images).enumerated() {
        switch d {
        case let .success(g): grays.append(g)
        case let .failure(e): throw SequenceImageError(index: i, underlying: e)
        }
    }
    let reading = try box.recognizer.recognizeSequence(grays, options: request.text)
    out.pointee = OpaquePointer(Unmanaged.passRetained(ResultBox([ResultBox.Item(.success(reading))])).toOpaque())
}

/// Puts per-image results back in the order of the images, failures included.
func merge<T>(_ decoded: [Result<GrayImage, Error>], _ readings: [Result<T, Error>]) -> [Result<T, Error>] {
    var next = 0
    return decoded.map { d in
        switch d {
        case let .failure(e): return .failure(e)
        case .success: defer { next += 1 }; return readings[next]
        }
    }
}

/// An error that already carries its status (a failed single item).
struct StatusError: Error {
    let status: Int32
    let message: String
}
