import CHwr
import Glibc
import HWRLayout
import HWRRecognition

// Translation between the C ABI and HWRRecognition, which decides every rule of a request. What
// is decided here is only what C alone has: NULL pointers, struct sizes, UTF-8 of C strings, and
// the numbering of modes and statuses.

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
    let linePath: OwnedCString?, textPath: OwnedCString?

    init(_ recognizer: Recognizer) {
        self.recognizer = recognizer
        name = OwnedCString(recognizer.model.metadata.name)
        version = OwnedCString(recognizer.model.metadata.version)
        path = OwnedCString(recognizer.modelPath)
        charset = OwnedCString(String(recognizer.model.charset))
        linePath = recognizer.lineModelPath.map(OwnedCString.init)
        textPath = recognizer.textModelPath.map(OwnedCString.init)
    }
}

/// What an hwr_result handle points to.
final class ResultBox {
    /// A text with its probability.
    typealias Scored = (text: OwnedCString, probability: Float)
    /// A word of a page.
    struct Word {
        var text: OwnedCString, confidence: Float, box: Box
    }
    /// A line of a page with its words.
    struct Line {
        var text: OwnedCString, confidence: Float, box: Box, words: [Word]
    }
    struct Item {
        var status: Int32
        var error: OwnedCString
        var text: OwnedCString
        var confidence: Float
        var rejected: Bool
        var candidates: [Scored]
        var characters: [Scored]
        /// Page mode: the lines with their words.
        var lines: [Line] = []
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

/// Entry `k` of a list (candidates or characters) of item `i`, or nil when either is out of range.
func entry(_ result: OpaquePointer?, _ i: Int, _ k: Int, _ list: KeyPath<ResultBox.Item, [ResultBox.Scored]>) -> ResultBox.Scored? {
    guard let it = item(result, i), k >= 0, k < it[keyPath: list].count else { return nil }
    return it[keyPath: list][k]
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

/// Runs an entry point: any thrown error becomes a status and the thread's last error message.
func guarded(_ body: () throws -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        let e = HWRError(error)
        setLastError(e.message)
        return e.status
    }
}

/// Checks the struct_size of a struct passed in: at least the size of its first version
/// (`minimum`), so that callers compiled against an older header keep working; fields past
/// `struct_size` are read as their defaults, fields this library does not know are ignored.
/// - Throws: `HWRError.invalidArgument`.
func checkStructSize(_ size: UInt32, minimum: Int, _ name: String) throws {
    guard Int(size) >= minimum else {
        throw HWRError.invalidArgument("\(name).struct_size is \(size), expected at least \(minimum): initialise it with its _init function")
    }
}

/// Whether a struct of `size` bytes covers the field at `offset` of `length` bytes.
func covers(_ size: UInt32, _ offset: Int?, _ length: Int) -> Bool { offset.map { Int(size) >= $0 + length } ?? false }

/// An hwr_image as a request input (its bytes borrowed for the call).
func imageInput(_ image: hwr_image) throws -> ImageInput {
    try checkStructSize(image.struct_size, minimum: MemoryLayout<hwr_image>.size, "hwr_image")
    guard let data = image.data else {
        if image.size == 0 { throw HWRError.imageEmpty("no bytes") }
        throw HWRError.invalidArgument("image data is NULL")
    }
    let bytes = UnsafeRawBufferPointer(start: data, count: image.size)
    switch image.format {
    case HWR_IMAGE_ENCODED: return .encoded(bytes)
    case HWR_IMAGE_GRAY8: return .gray8(bytes, width: Int(image.width), height: Int(image.height), stride: Int(image.stride))
    case HWR_IMAGE_RGBA8: return .rgba8(bytes, width: Int(image.width), height: Int(image.height), stride: Int(image.stride))
    default: throw HWRError.invalidArgument("unknown image format \(image.format)")
    }
}

/// The modes of hwr.h and of HWRRecognition, one to one.
let modes: [Int32: RecognitionMode] = [HWR_MODE_CHAR: .char, HWR_MODE_LINE: .line, HWR_MODE_AUTO: .auto, HWR_MODE_PAGE: .page]

/// The lexicon modes of hwr.h and of HWRRecognition, one to one.
let lexiconModes: [Int32: LexiconMode] = [HWR_LEXICON_LINE: .line, HWR_LEXICON_WORDS: .words]

/// Reads hwr_recognize_options (NULL: the defaults) into the request's options.
/// - Parameter sequence: the options of hwr_recognize_sequence, whose mode is ignored.
func recognitionOptions(_ options: UnsafePointer<hwr_recognize_options>?, sequence: Bool = false) throws -> RecognitionOptions {
    var r = RecognitionOptions()
    guard let options else { return r }
    let o = options.pointee
    // 1.0.0 callers pass the size up to reject_threshold; lexicon_mode was appended in 1.1.0.
    let lexiconModeOffset = MemoryLayout<hwr_recognize_options>.offset(of: \.lexicon_mode)
    try checkStructSize(o.struct_size, minimum: lexiconModeOffset ?? MemoryLayout<hwr_recognize_options>.size, "hwr_recognize_options")
    if covers(o.struct_size, lexiconModeOffset, MemoryLayout<Int32>.size) {
        guard let mode = lexiconModes[o.lexicon_mode] else {
            throw HWRError.invalidArgument("lexicon_mode \(o.lexicon_mode) is not HWR_LEXICON_LINE or HWR_LEXICON_WORDS")
        }
        r.text.lexiconMode = mode
    }
    // deadline_ms was appended after lexicon_mode: older callers have no deadline.
    if covers(o.struct_size, MemoryLayout<hwr_recognize_options>.offset(of: \.deadline_ms), MemoryLayout<Int32>.size) {
        r.text.deadline = try .after(milliseconds: Int(o.deadline_ms))
    }
    if !sequence {
        guard let mode = modes[o.mode] else { throw HWRError.unsupported("mode \(o.mode) is not supported by this library") }
        r.mode = mode
    }
    r.topK = Int(o.top_k)
    r.text.beamWidth = Int(o.beam_width)
    r.text.alternatives = Int(o.alternatives)
    r.text.rejectThreshold = o.reject_threshold
    r.text.charset = try o.charset.map { try utf8($0, "charset") }
    r.text.pattern = try o.pattern.map { try utf8($0, "pattern") }
    if o.lexicon_count > 0 {
        guard let words = o.lexicon else { throw HWRError.invalidArgument("lexicon is NULL but lexicon_count is \(o.lexicon_count)") }
        guard o.lexicon_count <= RecognitionLimits.maximumLexiconWords else {
            throw HWRError.invalidArgument("lexicon_count \(o.lexicon_count) exceeds HWR_MAX_LEXICON_WORDS (\(RecognitionLimits.maximumLexiconWords))")
        }
        r.text.lexicon = try (0..<o.lexicon_count).map { i in
            guard let w = words[i] else { throw HWRError.invalidArgument("lexicon word \(i) is NULL") }
            return try utf8(w, "lexicon word \(i)")
        }
    }
    return r
}

func utf8(_ p: UnsafePointer<CChar>, _ what: String) throws -> String {
    guard let s = String(validatingCString: p) else { throw HWRError.invalidArgument("\(what) is not valid UTF-8") }
    return s
}

extension ResultBox.Item {
    init(_ r: Result<TextReading, HWRError>) {
        switch r {
        case let .success(reading):
            self.init(status: HWR_OK, error: OwnedCString(""), text: OwnedCString(reading.text), confidence: reading.confidence,
                      rejected: reading.rejected, candidates: reading.alternatives.map { (OwnedCString($0.text), $0.probability) },
                      characters: reading.characters.map { (OwnedCString($0.text), $0.probability) },
                      lines: (reading.page?.lines ?? []).map { line in
                          ResultBox.Line(text: OwnedCString(line.text), confidence: line.confidence, box: line.box,
                                         words: line.words.map { ResultBox.Word(text: OwnedCString($0.text), confidence: $0.confidence, box: $0.box) })
                      })
        case let .failure(error):
            self.init(status: error.status, error: OwnedCString(error.message), text: OwnedCString(""), confidence: 0, rejected: false,
                      candidates: [], characters: [])
        }
    }
}

/// Shared body of hwr_recognize, hwr_recognize_batch and hwr_recognize_file: translates the call,
/// makes the one request of HWRRecognition, and stores the result in `out`.
/// - Parameter keepFailures: store a result even when items failed (batch); otherwise a failed single
///   item throws its error and stores nothing.
func recognize(_ engine: OpaquePointer?, _ inputs: [ImageInput], _ options: UnsafePointer<hwr_recognize_options>?,
               _ out: UnsafeMutablePointer<OpaquePointer?>?, keepFailures: Bool = false) throws {
    guard let box = engineBox(engine) else { throw HWRError.invalidArgument("engine is NULL") }
    guard let out else { throw HWRError.invalidArgument("out_result is NULL") }
    let results = try box.recognizer.read(inputs, options: try recognitionOptions(options))
    if !keepFailures, case let .failure(error) = results[0] { throw error }
    out.pointee = OpaquePointer(Unmanaged.passRetained(ResultBox(results.map(ResultBox.Item.init))).toOpaque())
}

/// The images of a batch or sequence call as request inputs.
func imageInputs(_ images: UnsafePointer<hwr_image>?, _ count: Int) throws -> [ImageInput] {
    guard let images, count > 0 else { throw HWRError.invalidArgument("images is NULL or count is 0") }
    guard count <= RecognitionLimits.maximumBatch else {
        throw HWRError.invalidArgument("count \(count) exceeds HWR_MAX_BATCH (\(RecognitionLimits.maximumBatch))")
    }
    return UnsafeBufferPointer(start: images, count: count).map { image in
        do { return try imageInput(image) } catch { return .untranslatable(HWRError(error)) }
    }
}

/// Line `l` of item `i`, or nil when out of range.
func pageLine(_ result: OpaquePointer?, _ i: Int, _ l: Int) -> ResultBox.Line? {
    guard let it = item(result, i), l >= 0, l < it.lines.count else { return nil }
    return it.lines[l]
}

/// Word `w` of line `l` of item `i`, or nil when out of range.
func pageWord(_ result: OpaquePointer?, _ i: Int, _ l: Int, _ w: Int) -> ResultBox.Word? {
    guard let line = pageLine(result, i, l), w >= 0, w < line.words.count else { return nil }
    return line.words[w]
}

/// Writes a box through the C out-pointers (any may be NULL).
func writeBox(_ box: Box?, _ x: UnsafeMutablePointer<Int32>?, _ y: UnsafeMutablePointer<Int32>?,
              _ width: UnsafeMutablePointer<Int32>?, _ height: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let box else {
        setLastError("line or word index out of range")
        return HWR_ERR_INVALID_ARGUMENT
    }
    x?.pointee = Int32(clamping: box.x); y?.pointee = Int32(clamping: box.y)
    width?.pointee = Int32(clamping: box.width); height?.pointee = Int32(clamping: box.height)
    return HWR_OK
}
