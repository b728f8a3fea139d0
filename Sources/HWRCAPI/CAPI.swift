// The C ABI of libhwr.so (include/hwr.h). Every entry point goes through `guarded`, which
// validates, catches every Swift error, records the message for hwr_last_error and returns a status:
// nothing unwinds or traps across the boundary.

import CHwr
import Foundation
import HWRImage
import HWRModel
import HWRRecognition

// MARK: - Versions and status strings

@_cdecl("hwr_version")
public func capiVersion() -> UnsafePointer<CChar> { staticCString("1.0.0") }

@_cdecl("hwr_version_number")
public func capiVersionNumber() -> Int32 { 1_000_000 }

@_cdecl("hwr_abi_version")
public func capiABIVersion() -> Int32 { 1 }

@_cdecl("hwr_status_string")
public func capiStatusString(_ status: Int32) -> UnsafePointer<CChar> {
    switch status {
    case HWR_OK: return staticCString("ok")
    case HWR_ERR_INVALID_ARGUMENT: return staticCString("invalid argument")
    case HWR_ERR_IO: return staticCString("input/output error")
    case HWR_ERR_MODEL_FORMAT: return staticCString("invalid model file")
    case HWR_ERR_IMAGE_DECODE: return staticCString("image cannot be decoded")
    case HWR_ERR_IMAGE_TOO_LARGE: return staticCString("image too large")
    case HWR_ERR_IMAGE_EMPTY: return staticCString("image is empty")
    case HWR_ERR_UNSUPPORTED: return staticCString("unsupported")
    case HWR_ERR_OUT_OF_MEMORY: return staticCString("out of memory")
    case HWR_ERR_INTERNAL: return staticCString("internal error")
    default: return staticCString("unknown status")
    }
}

@_cdecl("hwr_last_error")
public func capiLastError() -> UnsafePointer<CChar> {
    if let p = pthread_getspecific(lastErrorKey) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return staticCString("")
}

// MARK: - Engine

@_cdecl("hwr_engine_open")
public func capiEngineOpen(_ options: UnsafePointer<hwr_engine_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let out else { throw CAPIError.invalid("out_engine is NULL") }
        var path: String?, linePath: String?
        var threads: Int32 = 0
        if let options {
            try checkStructSize(options.pointee.struct_size, MemoryLayout<hwr_engine_options>.size, "hwr_engine_options")
            path = try options.pointee.model_path.map { try utf8($0, "model_path") }
            linePath = try options.pointee.line_model_path.map { try utf8($0, "line_model_path") }
            threads = options.pointee.threads
        }
        guard threads >= 0 else { throw CAPIError.invalid("threads must be >= 0, got \(threads)") }
        let engine = EngineBox(try Recognizer(modelPath: path, lineModelPath: linePath, threads: Int(threads)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
        return HWR_OK
    }
}

@_cdecl("hwr_engine_close")
public func capiEngineClose(_ engine: OpaquePointer?) {
    guard let engine else { return }
    Unmanaged<EngineBox>.fromOpaque(UnsafeRawPointer(engine)).release()
}

@_cdecl("hwr_engine_model_name")
public func capiEngineModelName(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.name.pointer }

@_cdecl("hwr_engine_model_version")
public func capiEngineModelVersion(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.version.pointer }

@_cdecl("hwr_engine_model_path")
public func capiEngineModelPath(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.path.pointer }

@_cdecl("hwr_engine_line_model_path")
public func capiEngineLineModelPath(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.linePath?.pointer }

@_cdecl("hwr_engine_charset")
public func capiEngineCharset(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.charset.pointer }

// MARK: - Recognition

@_cdecl("hwr_recognize")
public func capiRecognize(_ engine: OpaquePointer?, _ image: UnsafePointer<hwr_image>?,
                   _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let image else { throw CAPIError.invalid("image is NULL") }
        try recognizeBatch(engine, UnsafeBufferPointer(start: image, count: 1), options, out)
        return HWR_OK
    }
}

@_cdecl("hwr_recognize_batch")
public func capiRecognizeBatch(_ engine: OpaquePointer?, _ images: UnsafePointer<hwr_image>?, _ count: Int,
                        _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let images, count > 0 else { throw CAPIError.invalid("images is NULL or count is 0") }
        guard count <= maximumBatch else { throw CAPIError.invalid("count \(count) exceeds the batch limit \(maximumBatch)") }
        try recognizeBatch(engine, UnsafeBufferPointer(start: images, count: count), options, out, keepFailures: true)
        return HWR_OK
    }
}

@_cdecl("hwr_recognize_file")
public func capiRecognizeFile(_ engine: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                       _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let path else { throw CAPIError.invalid("path is NULL") }
        let name = String(cString: path)
        guard let data = FileManager.default.contents(atPath: name) else { throw CAPIError.io("\(name): cannot read file") }
        return try data.withUnsafeBytes { bytes in
            var image = hwr_image(struct_size: UInt32(MemoryLayout<hwr_image>.size), format: HWR_IMAGE_ENCODED,
                                  data: bytes.baseAddress, size: bytes.count, width: 0, height: 0, stride: 0)
            try withUnsafePointer(to: &image) {
                try recognizeBatch(engine, UnsafeBufferPointer(start: $0, count: 1), options, out)
            }
            return HWR_OK
        }
    }
}

@_cdecl("hwr_recognize_sequence")
public func capiRecognizeSequence(_ engine: OpaquePointer?, _ images: UnsafePointer<hwr_image>?, _ count: Int,
                                  _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let images, count > 0 else { throw CAPIError.invalid("images is NULL or count is 0") }
        guard count <= maximumBatch else { throw CAPIError.invalid("count \(count) exceeds the batch limit \(maximumBatch)") }
        try recognizeSequence(engine, UnsafeBufferPointer(start: images, count: count), options, out)
        return HWR_OK
    }
}

// MARK: - Results

@_cdecl("hwr_result_count")
public func capiResultCount(_ result: OpaquePointer?) -> Int { resultBox(result)?.items.count ?? 0 }

@_cdecl("hwr_result_status")
public func capiResultStatus(_ result: OpaquePointer?, _ i: Int) -> Int32 { item(result, i)?.status ?? HWR_ERR_INVALID_ARGUMENT }

@_cdecl("hwr_result_error")
public func capiResultError(_ result: OpaquePointer?, _ i: Int) -> UnsafePointer<CChar>? { item(result, i)?.error.pointer }

@_cdecl("hwr_result_text")
public func capiResultText(_ result: OpaquePointer?, _ i: Int) -> UnsafePointer<CChar>? { item(result, i)?.text.pointer }

@_cdecl("hwr_result_confidence")
public func capiResultConfidence(_ result: OpaquePointer?, _ i: Int) -> Float { item(result, i)?.confidence ?? -1 }

@_cdecl("hwr_result_candidate_count")
public func capiResultCandidateCount(_ result: OpaquePointer?, _ i: Int) -> Int { item(result, i)?.candidates.count ?? 0 }

@_cdecl("hwr_result_candidate_text")
public func capiResultCandidateText(_ result: OpaquePointer?, _ i: Int, _ k: Int) -> UnsafePointer<CChar>? {
    guard let it = item(result, i), k >= 0, k < it.candidates.count else { return nil }
    return it.candidates[k].text.pointer
}

@_cdecl("hwr_result_candidate_score")
public func capiResultCandidateScore(_ result: OpaquePointer?, _ i: Int, _ k: Int) -> Float {
    guard let it = item(result, i), k >= 0, k < it.candidates.count else { return -1 }
    return it.candidates[k].probability
}

@_cdecl("hwr_result_rejected")
public func capiResultRejected(_ result: OpaquePointer?, _ i: Int) -> Int32 { item(result, i)?.rejected == true ? 1 : 0 }

@_cdecl("hwr_result_char_count")
public func capiResultCharCount(_ result: OpaquePointer?, _ i: Int) -> Int { item(result, i)?.characters.count ?? 0 }

@_cdecl("hwr_result_char_text")
public func capiResultCharText(_ result: OpaquePointer?, _ i: Int, _ j: Int) -> UnsafePointer<CChar>? {
    guard let it = item(result, i), j >= 0, j < it.characters.count else { return nil }
    return it.characters[j].text.pointer
}

@_cdecl("hwr_result_char_score")
public func capiResultCharScore(_ result: OpaquePointer?, _ i: Int, _ j: Int) -> Float {
    guard let it = item(result, i), j >= 0, j < it.characters.count else { return -1 }
    return it.characters[j].probability
}

@_cdecl("hwr_result_free")
public func capiResultFree(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ResultBox>.fromOpaque(UnsafeRawPointer(result)).release()
}
