// The C ABI of libhwr.so (include/hwr.h). Every entry point goes through `guarded`, which
// validates, catches every Swift error, records the message for hwr_last_error and returns a status:
// nothing unwinds or traps across the boundary.

import CHwr
import Glibc
import HWRModel
import HWRRecognition
import Logging

// MARK: - Versions and status strings

@_cdecl("hwr_version")
public func capiVersion() -> UnsafePointer<CChar> { libraryVersion }

/// HWR_VERSION_STRING of the header the library was built with, as a C string that lives as long
/// as the process (the header is the one source of the version).
let libraryVersion = UnsafePointer(strdup(HWR_VERSION_STRING)!)

@_cdecl("hwr_version_number")
public func capiVersionNumber() -> Int32 { HWR_VERSION_MAJOR * 1_000_000 + HWR_VERSION_MINOR * 1000 + HWR_VERSION_PATCH }

@_cdecl("hwr_abi_version")
public func capiABIVersion() -> Int32 { HWR_ABI_VERSION }

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
    case HWR_ERR_DEADLINE_EXCEEDED: return staticCString("deadline exceeded")
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
        guard let out else { throw HWRError.invalidArgument("out_engine is NULL") }
        var path: String?, linePath: String?, textPath: String?
        var threads: Int32 = 0, maxPixels: Int64 = 0
        if let options {
            let o = options.pointee
            // 1.0.0 callers pass the size up to line_model_path; max_pixels was appended in 1.1.0,
            // text_model_path in 1.2.0.
            let maxPixelsOffset = MemoryLayout<hwr_engine_options>.offset(of: \.max_pixels)
            try checkStructSize(o.struct_size, minimum: maxPixelsOffset ?? MemoryLayout<hwr_engine_options>.size, "hwr_engine_options")
            path = try o.model_path.map { try utf8($0, "model_path") }
            linePath = try o.line_model_path.map { try utf8($0, "line_model_path") }
            threads = o.threads
            if covers(o.struct_size, maxPixelsOffset, MemoryLayout<Int64>.size) { maxPixels = o.max_pixels }
            let textOffset = MemoryLayout<hwr_engine_options>.offset(of: \.text_model_path)
            if covers(o.struct_size, textOffset, MemoryLayout<UnsafePointer<CChar>?>.size) {
                textPath = try o.text_model_path.map { try utf8($0, "text_model_path") }
            }
        }
        guard maxPixels >= 0, maxPixels <= Int64(RecognitionLimits.maximumPixels) else {
            throw HWRError.invalidArgument("max_pixels must be in 0...HWR_MAX_IMAGE_PIXELS (\(RecognitionLimits.maximumPixels)), got \(maxPixels)")
        }
        let engine = EngineBox(try Recognizer(modelPath: path, lineModelPath: linePath, textModelPath: textPath,
                                              threads: Int(threads), maximumPixels: Int(maxPixels)))
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

@_cdecl("hwr_engine_text_model_path")
public func capiEngineTextModelPath(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.textPath?.pointer }

@_cdecl("hwr_engine_model_precision")
public func capiEngineModelPrecision(_ engine: OpaquePointer?, _ model: Int32) -> UnsafePointer<CChar>? {
    guard let recognizer = engineBox(engine)?.recognizer else { return nil }
    let selected: Model?
    switch model {
    case HWR_MODEL_CHAR: selected = recognizer.model
    case HWR_MODEL_LINE: selected = recognizer.lineModel
    case HWR_MODEL_TEXT: selected = recognizer.textModel
    default: selected = nil
    }
    return selected.map { precisionNames[$0.precision]! }
}

/// The static C strings hwr_engine_model_precision returns.
let precisionNames: [Precision: UnsafePointer<CChar>] = Dictionary(uniqueKeysWithValues: [Precision.fp32, .int8].map {
    ($0, UnsafePointer(strdup($0.rawValue)!))
})

@_cdecl("hwr_engine_charset")
public func capiEngineCharset(_ engine: OpaquePointer?) -> UnsafePointer<CChar>? { engineBox(engine)?.charset.pointer }

// MARK: - Recognition

@_cdecl("hwr_recognize")
public func capiRecognize(_ engine: OpaquePointer?, _ image: UnsafePointer<hwr_image>?,
                   _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let image else { throw HWRError.invalidArgument("image is NULL") }
        try recognize(engine, [try imageInput(image.pointee)], options, out)
        return HWR_OK
    }
}

@_cdecl("hwr_recognize_batch")
public func capiRecognizeBatch(_ engine: OpaquePointer?, _ images: UnsafePointer<hwr_image>?, _ count: Int,
                        _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        try recognize(engine, try imageInputs(images, count), options, out, keepFailures: true)
        return HWR_OK
    }
}

@_cdecl("hwr_recognize_file")
public func capiRecognizeFile(_ engine: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                       _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let path else { throw HWRError.invalidArgument("path is NULL") }
        try recognize(engine, [.file(try utf8(path, "path"))], options, out)
        return HWR_OK
    }
}

@_cdecl("hwr_recognize_sequence")
public func capiRecognizeSequence(_ engine: OpaquePointer?, _ images: UnsafePointer<hwr_image>?, _ count: Int,
                                  _ options: UnsafePointer<hwr_recognize_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let box = engineBox(engine) else { throw HWRError.invalidArgument("engine is NULL") }
        guard let out else { throw HWRError.invalidArgument("out_result is NULL") }
        let inputs = try imageInputs(images, count)
        let reading = try box.recognizer.readSequence(inputs, options: try recognitionOptions(options, sequence: true))
        out.pointee = OpaquePointer(Unmanaged.passRetained(ResultBox([ResultBox.Item(.success(reading))])).toOpaque())
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
    entry(result, i, k, \.candidates)?.text.pointer
}

@_cdecl("hwr_result_candidate_score")
public func capiResultCandidateScore(_ result: OpaquePointer?, _ i: Int, _ k: Int) -> Float {
    entry(result, i, k, \.candidates)?.probability ?? -1
}

@_cdecl("hwr_result_rejected")
public func capiResultRejected(_ result: OpaquePointer?, _ i: Int) -> Int32 { item(result, i)?.rejected == true ? 1 : 0 }

@_cdecl("hwr_result_char_count")
public func capiResultCharCount(_ result: OpaquePointer?, _ i: Int) -> Int { item(result, i)?.characters.count ?? 0 }

@_cdecl("hwr_result_char_text")
public func capiResultCharText(_ result: OpaquePointer?, _ i: Int, _ j: Int) -> UnsafePointer<CChar>? {
    entry(result, i, j, \.characters)?.text.pointer
}

@_cdecl("hwr_result_char_score")
public func capiResultCharScore(_ result: OpaquePointer?, _ i: Int, _ j: Int) -> Float {
    entry(result, i, j, \.characters)?.probability ?? -1
}

@_cdecl("hwr_result_line_count")
public func capiResultLineCount(_ result: OpaquePointer?, _ i: Int) -> Int { item(result, i)?.lines.count ?? 0 }

@_cdecl("hwr_result_line_text")
public func capiResultLineText(_ result: OpaquePointer?, _ i: Int, _ l: Int) -> UnsafePointer<CChar>? { pageLine(result, i, l)?.text.pointer }

@_cdecl("hwr_result_line_confidence")
public func capiResultLineConfidence(_ result: OpaquePointer?, _ i: Int, _ l: Int) -> Float { pageLine(result, i, l)?.confidence ?? -1 }

@_cdecl("hwr_result_line_box")
public func capiResultLineBox(_ result: OpaquePointer?, _ i: Int, _ l: Int, _ x: UnsafeMutablePointer<Int32>?, _ y: UnsafeMutablePointer<Int32>?,
                              _ width: UnsafeMutablePointer<Int32>?, _ height: UnsafeMutablePointer<Int32>?) -> Int32 {
    writeBox(pageLine(result, i, l)?.box, x, y, width, height)
}

@_cdecl("hwr_result_word_count")
public func capiResultWordCount(_ result: OpaquePointer?, _ i: Int, _ l: Int) -> Int { pageLine(result, i, l)?.words.count ?? 0 }

@_cdecl("hwr_result_word_text")
public func capiResultWordText(_ result: OpaquePointer?, _ i: Int, _ l: Int, _ w: Int) -> UnsafePointer<CChar>? {
    pageWord(result, i, l, w)?.text.pointer
}

@_cdecl("hwr_result_word_confidence")
public func capiResultWordConfidence(_ result: OpaquePointer?, _ i: Int, _ l: Int, _ w: Int) -> Float {
    pageWord(result, i, l, w)?.confidence ?? -1
}

@_cdecl("hwr_result_word_box")
public func capiResultWordBox(_ result: OpaquePointer?, _ i: Int, _ l: Int, _ w: Int, _ x: UnsafeMutablePointer<Int32>?,
                              _ y: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int32>?,
                              _ height: UnsafeMutablePointer<Int32>?) -> Int32 {
    writeBox(pageWord(result, i, l, w)?.box, x, y, width, height)
}

@_cdecl("hwr_result_free")
public func capiResultFree(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ResultBox>.fromOpaque(UnsafeRawPointer(result)).release()
}

// MARK: - Diagnostics

@_cdecl("hwr_set_log_callback")
public func capiSetLogCallback(_ callback: hwr_log_callback?, _ minLevel: Int32, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        guard let level = CallbackLogHandler.levels[minLevel] else {
            throw HWRError.invalidArgument("log level \(minLevel) is not one of HWR_LOG_DEBUG...HWR_LOG_ERROR")
        }
        guard let callback else {
            Diagnostics.route(to: Logger(label: "hwr", factory: { _ in SwiftLogNoOpLogHandler() }))
            return HWR_OK
        }
        let sink = CallbackLogHandler.Sink(callback: callback, user: user)
        Diagnostics.route(to: Logger(label: "hwr", factory: { _ in CallbackLogHandler(sink: sink, logLevel: level) }))
        return HWR_OK
    }
}
