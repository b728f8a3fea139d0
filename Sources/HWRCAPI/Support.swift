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

    init(_ recognizer: Recognizer) {
        self.recognizer = recognizer
        name = OwnedCString(recognizer.model.metadata.name)
        version = OwnedCString(recognizer.model.metadata.version)
        path = OwnedCString(recognizer.modelPath)
        charset = OwnedCString(String(recognizer.model.charset))
    }
}

/// What an hwr_result handle points to.
final class ResultBox {
    struct Item {
        var status: Int32
        var error: OwnedCString
        var text: OwnedCString
        var confidence: Float
        var candidates: [(text: OwnedCString, probability: Float)]
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
        return (HWR_ERR_INVALID_ARGUMENT, e.description)
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

/// Shared body of the recognise calls: validates, recognises, stores the result in `out`.
/// - Parameter keepFailures: store a result even when items failed (batch); otherwise a failed single
///   item stores nothing.
@discardableResult
func recognizeBatch(_ engine: OpaquePointer?, _ images: UnsafeBufferPointer<hwr_image>,
                    _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                    keepFailures: Bool = false) throws -> [Result<CharacterReading, Error>] {
    guard let box = engineBox(engine) else { throw CAPIError.invalid("engine is NULL") }
    guard let out else { throw CAPIError.invalid("out_result is NULL") }
    var topK = 5
    var allowed: String?
    if let options {
        try checkStructSize(options.pointee.struct_size, MemoryLayout<hwr_recognize_options>.size, "hwr_recognize_options")
        guard options.pointee.mode == HWR_MODE_CHAR else {
            throw CAPIError.unsupported("mode \(options.pointee.mode) is not supported by this library")
        }
        topK = Int(options.pointee.top_k)
        if let cs = options.pointee.charset {
            guard let s = String(validatingCString: cs) else { throw CAPIError.invalid("charset is not valid UTF-8") }
            allowed = s
        }
    }
    var decoded: [Result<GrayImage, Error>] = []
    for image in images { decoded.append(Result { try grayImage(image) }) }
    let good = decoded.compactMap { try? $0.get() }
    let readings = try box.recognizer.recognize(good, topK: topK, allowed: allowed)
    var next = 0
    let results: [Result<CharacterReading, Error>] = decoded.map { d in
        switch d {
        case let .failure(e): return .failure(e)
        case .success: defer { next += 1 }; return readings[next]
        }
    }
    if !keepFailures, case .failure = results.first! { return results }
    let items = results.map { r -> ResultBox.Item in
        switch r {
        case let .success(reading):
            return .init(status: HWR_OK, error: OwnedCString(""), text: OwnedCString(reading.text), confidence: reading.confidence,
                         candidates: reading.candidates.map { (OwnedCString($0.text), $0.probability) })
        case let .failure(error):
            let (status, message) = statusAndMessage(error)
            return .init(status: status, error: OwnedCString(message), text: OwnedCString(""), confidence: 0, candidates: [])
        }
    }
    out.pointee = OpaquePointer(Unmanaged.passRetained(ResultBox(items)).toOpaque())
    return results
}
