import CHwr
import Foundation
import HWRProto
import SwiftProtobuf

/// Turns requests into replies by calling the engine. Thread-safe (the engine is).
public final class Service: @unchecked Sendable {
    let engine: Engine
    let limits: Limits
    let stats: Stats

    /// Creates a service over an opened engine.
    public init(engine: Engine, limits: Limits, stats: Stats) {
        self.engine = engine; self.limits = limits; self.stats = stats
    }

    /// A reply that carries only a status (the request could not be served).
    public static func errorReply(_ status: Hwr_V1_StatusCode, _ message: String, requestID: String = "") -> Hwr_V1_Reply {
        var reply = Hwr_V1_Reply()
        reply.protocolVersion = 1
        reply.requestID = requestID
        reply.status = status
        reply.message = message
        return reply
    }

    /// Parses and checks one request body (read in place: the bytes need live only for the call);
    /// returns the request or the error reply to send instead. Unknown fields are dropped.
    public func parse(_ body: UnsafeRawBufferPointer) -> Result<Hwr_V1_Request, ReplyError> {
        guard let base = body.baseAddress, !body.isEmpty else { return .failure(ReplyError(.badRequest, "empty request frame")) }
        let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: body.count, deallocator: .none)
        let request: Hwr_V1_Request
        do {
            request = try Hwr_V1_Request(serializedBytes: bytes, options: Self.decodingOptions)
        } catch {
            guard body.count <= limits.maxMessageBytes else { return .failure(tooLarge(body.count, "")) }
            return .failure(ReplyError(.badRequest, "not a valid hwr.v1.Request: \(error)"))
        }
        guard body.count <= limits.maxMessageBytes else { return .failure(tooLarge(body.count, request.requestID)) }
        guard request.protocolVersion == 1 else {
            return .failure(ReplyError(.wrongVersion, "protocol_version \(request.protocolVersion) is not supported (1 is)", request.requestID))
        }
        let options: Hwr_V1_DecodingOptions
        switch request.method {
        case nil: return .failure(ReplyError(.badRequest, "the request names no method", request.requestID))
        case let .recognize(r)?: options = r.options
        case let .recognizeBatch(r)?: options = r.options
        case .modelInfo?, .health?: return .success(request)
        }
        // C strings end at the first NUL: a string holding one cannot be passed on unchanged.
        if ([options.charset, options.pattern] + options.lexicon).contains(where: { $0.utf8.contains(0) }) {
            return .failure(ReplyError(.badRequest, "a string option contains a NUL character", request.requestID))
        }
        return .success(request)
    }

    static let decodingOptions: BinaryDecodingOptions = {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        return options
    }()

    func tooLarge(_ bytes: Int, _ requestID: String) -> ReplyError {
        ReplyError(.imageTooLarge, "request of \(bytes) bytes exceeds the limit of \(limits.maxMessageBytes)", requestID)
    }

    /// The reply to a control request (ModelInfo, Health), or nil for a recognition request.
    /// Control requests are answered at once, never behind recognition.
    public func control(_ request: Hwr_V1_Request) -> Hwr_V1_Reply? {
        var reply = Self.errorReply(.ok, "", requestID: request.requestID)
        switch request.method {
        case .modelInfo?:
            var info = Hwr_V1_ModelInfoReply()
            info.modelName = engine.modelName; info.modelVersion = engine.modelVersion; info.charset = engine.charset
            info.lineModel = engine.hasLineModel; info.textModel = engine.hasTextModel; info.libraryVersion = engine.abi.version; info.abiVersion = engine.abi.abiVersion
            info.maxMessageBytes = UInt64(limits.maxMessageBytes); info.maxPixels = UInt64(limits.effectiveMaxPixels)
            info.maxBatch = UInt32(limits.maxBatch)
            (info.modelPrecision, info.lineModelPrecision, info.textModelPrecision) = (engine.precisions[0], engine.precisions[1], engine.precisions[2])
            info.stats = stats.snapshot()
            reply.modelInfo = info
        case .health?:
            var health = Hwr_V1_HealthReply()
            health.serving = true
            reply.health = health
        default:
            return nil
        }
        return reply
    }

    /// The monotonic time (nanoseconds) by which a request received at `received` must be answered:
    /// its `deadline_ms`, else `limits.requestTimeoutMilliseconds`; nil for no deadline.
    func deadline(of request: Hwr_V1_Request, received: UInt64) -> UInt64? {
        let ms = request.deadlineMs != 0 ? request.deadlineMs : limits.requestTimeoutMilliseconds
        return ms == 0 ? nil : received + UInt64(ms) * 1_000_000
    }

    /// Serves recognition requests (Recognize, RecognizeBatch; `control` answers the others), each
    /// with the monotonic time it was received at (its deadline counts from there).
    /// Consecutive single-image recognitions with the same mode, options and deadline setting are
    /// run as batched engine calls (under the latest of their deadlines).
    public func handle(_ requests: [Hwr_V1_Request], received: [UInt64]) -> [Hwr_V1_Reply] {
        var replies = [Hwr_V1_Reply?](repeating: nil, count: requests.count)
        var i = 0
        while i < requests.count {
            if case let .recognize(first)? = requests[i].method {
                var j = i + 1
                while j < requests.count, case let .recognize(next)? = requests[j].method,
                      next.mode == first.mode, next.options == first.options, requests[j].deadlineMs == requests[i].deadlineMs { j += 1 }
                let deadlines = (i..<j).map { deadline(of: requests[$0], received: received[$0]) }
                let results = recognize(requests[i..<j].map(\.recognize.image), mode: first.mode, options: first.options,
                                        deadline: deadlines.contains(nil) ? nil : deadlines.compactMap { $0 }.max())
                for (k, result) in zip(i..<j, results) {
                    var reply = Self.errorReply(.ok, "", requestID: requests[k].requestID)
                    switch result {
                    case let .success(recognition) where recognition.status != .ok:
                        reply.status = recognition.status
                        reply.message = recognition.message
                    case let .success(recognition):
                        var r = Hwr_V1_RecognizeReply()
                        r.result = recognition
                        r.modelName = engine.modelName; r.modelVersion = engine.modelVersion
                        reply.recognize = r
                    case let .failure(e):
                        reply.status = e.status; reply.message = e.message
                    }
                    replies[k] = reply
                }
                i = j
                continue
            }
            replies[i] = recognizeBatch(requests[i], deadline: deadline(of: requests[i], received: received[i]))
            i += 1
        }
        return replies.map { $0! }
    }

    func recognizeBatch(_ request: Hwr_V1_Request, deadline: UInt64?) -> Hwr_V1_Reply {
        guard case let .recognizeBatch(batch)? = request.method else {
            return Self.errorReply(.unsupported, "not a recognition method", requestID: request.requestID)
        }
        guard !batch.images.isEmpty else { return Self.errorReply(.badRequest, "the batch has no image", requestID: request.requestID) }
        guard batch.images.count <= limits.maxBatch else {
            return Self.errorReply(.imageTooLarge, "batch of \(batch.images.count) images exceeds the limit of \(limits.maxBatch)", requestID: request.requestID)
        }
        var r = Hwr_V1_RecognizeBatchReply()
        r.modelName = engine.modelName; r.modelVersion = engine.modelVersion
        for result in recognize(batch.images, mode: batch.mode, options: batch.options, deadline: deadline) {
            switch result {
            case let .success(recognition): r.results.append(recognition)
            case let .failure(e): return Self.errorReply(e.status, e.message, requestID: request.requestID)
            }
        }
        var reply = Self.errorReply(.ok, "", requestID: request.requestID)
        reply.recognizeBatch = r
        return reply
    }

    /// Recognises images through the C ABI, in engine calls of at most `limits.imagesPerCall`
    /// images (the pixel budget), each given the time left before `deadline` (monotonic
    /// nanoseconds, nil: none) as its `deadline_ms`. An error for a whole call (bad options) fails
    /// each of its items; once the deadline has passed, the images left get DEADLINE_EXCEEDED.
    func recognize(_ images: [Hwr_V1_Image], mode: Hwr_V1_Mode, options: Hwr_V1_DecodingOptions,
                   deadline: UInt64?) -> [Result<Hwr_V1_Recognition, ReplyError>] {
        var recognitions = [Result<Hwr_V1_Recognition, ReplyError>?](repeating: nil, count: images.count)
        var valid: [Int] = []
        for (i, image) in images.enumerated() {
            if let problem = check(image) { recognitions[i] = .success(problem) } else { valid.append(i) }
        }
        withCOptions(mode: mode, options) { copts in
            for start in stride(from: 0, to: valid.count, by: limits.imagesPerCall) {
                let call = Array(valid[start..<min(valid.count, start + limits.imagesPerCall)])
                if let deadline {
                    let now = DispatchTime.now().uptimeNanoseconds
                    guard now < deadline else {
                        var late = Hwr_V1_Recognition()
                        late.status = .deadlineExceeded
                        late.message = "the request's deadline passed before this image was read"
                        for i in call { recognitions[i] = .success(late) }
                        continue
                    }
                    // Whole milliseconds left, rounded up (at least 1: 0 would mean no deadline).
                    copts.pointee.deadline_ms = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
                }
                let outcome: Result<[Hwr_V1_Recognition], ReplyError> = withCImages(call.map { images[$0] }) { cimages in
                    var result: OpaquePointer?
                    let status = engine.abi.batch(engine.handle, cimages.baseAddress, cimages.count, copts, &result)
                    guard status == HWR_OK, let result else {
                        return .failure(ReplyError(Self.statusCode(status), String(cString: engine.abi.lastError())))
                    }
                    defer { engine.abi.free(result) }
                    return .success((0..<engine.abi.count(result)).map { recognition(result, $0) })
                }
                switch outcome {
                case let .success(list): for (i, r) in zip(call, list) { recognitions[i] = .success(r) }
                case let .failure(e): for i in call { recognitions[i] = .failure(e) }
                }
            }
        }
        return recognitions.map { $0! }
    }

    /// A failed recognition for an image the wire format itself rules out, or nil when the image
    /// goes to the engine (which owns every image limit and decides every other status).
    func check(_ image: Hwr_V1_Image) -> Hwr_V1_Recognition? {
        guard image.encoding == .gray8 else { return nil }
        let (pixels, overflow) = Int(image.width).multipliedReportingOverflow(by: Int(image.height))
        guard overflow || pixels != image.data.count else { return nil }
        var r = Hwr_V1_Recognition()
        r.status = .badRequest
        r.message = "GRAY8 image of \(image.data.count) bytes is not \(image.width)x\(image.height)"
        return r
    }

    func recognition(_ result: OpaquePointer, _ i: Int) -> Hwr_V1_Recognition {
        let abi = engine.abi
        var r = Hwr_V1_Recognition()
        r.status = Self.statusCode(abi.status(result, i))
        if r.status != .ok { r.message = abi.error(result, i).map { String(cString: $0) } ?? ""; return r }
        r.text = abi.text(result, i).map { String(cString: $0) } ?? ""
        r.confidence = abi.confidence(result, i)
        r.rejected = abi.rejected(result, i) != 0
        r.chars = (0..<abi.charCount(result, i)).map { j in
            var c = Hwr_V1_Character()
            c.text = abi.charText(result, i, j).map { String(cString: $0) } ?? ""
            c.p = abi.charScore(result, i, j)
            return c
        }
        r.alternatives = (0..<abi.candidateCount(result, i)).map { k in
            var a = Hwr_V1_Alternative()
            a.text = abi.candidateText(result, i, k).map { String(cString: $0) } ?? ""
            a.score = abi.candidateScore(result, i, k)
            return a
        }
        if let layout = abi.layout {
            r.lines = (0..<layout.lineCount(result, i)).map { l in
                var line = Hwr_V1_Line()
                line.text = layout.lineText(result, i, l).map { String(cString: $0) } ?? ""
                line.confidence = layout.lineConfidence(result, i, l)
                line.box = Self.box { layout.lineBox(result, i, l, $0, $1, $2, $3) }
                line.words = (0..<layout.wordCount(result, i, l)).map { w in
                    var word = Hwr_V1_Word()
                    word.text = layout.wordText(result, i, l, w).map { String(cString: $0) } ?? ""
                    word.confidence = layout.wordConfidence(result, i, l, w)
                    word.box = Self.box { layout.wordBox(result, i, l, w, $0, $1, $2, $3) }
                    return word
                }
                return line
            }
        }
        return r
    }

    /// A box read through one of the C getters that write x, y, width and height.
    static func box(_ read: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>,
                             UnsafeMutablePointer<Int32>) -> Int32) -> Hwr_V1_Box {
        var x: Int32 = 0, y: Int32 = 0, width: Int32 = 0, height: Int32 = 0
        var b = Hwr_V1_Box()
        if read(&x, &y, &width, &height) == HWR_OK { b.x = x; b.y = y; b.width = width; b.height = height }
        return b
    }

    /// The reply status of each HWR_ERR_* code: the one table the worker translates statuses with.
    /// Codes it does not list (HWR_ERR_IO, HWR_ERR_MODEL_FORMAT, HWR_ERR_INTERNAL, codes of newer
    /// libraries) are INTERNAL: a request cannot cause them.
    static let statusTable: [Int32: Hwr_V1_StatusCode] = [
        HWR_OK: .ok,
        HWR_ERR_INVALID_ARGUMENT: .badRequest,
        HWR_ERR_IMAGE_DECODE: .decodeFailure,
        HWR_ERR_IMAGE_EMPTY: .decodeFailure,
        HWR_ERR_IMAGE_TOO_LARGE: .imageTooLarge,
        HWR_ERR_UNSUPPORTED: .unsupported,
        HWR_ERR_OUT_OF_MEMORY: .overloaded,
        HWR_ERR_DEADLINE_EXCEEDED: .deadlineExceeded,
    ]

    /// The reply status of an HWR_ERR_* code (see `statusTable`).
    static func statusCode(_ status: Int32) -> Hwr_V1_StatusCode { statusTable[status] ?? .internal }

    /// Runs `body` with the C form of the decoding options (strings alive for the call).
    func withCOptions<T>(mode: Hwr_V1_Mode, _ o: Hwr_V1_DecodingOptions, _ body: (UnsafeMutablePointer<hwr_recognize_options>) -> T) -> T {
        var c = hwr_recognize_options()
        hwr_recognize_options_init(&c)
        switch mode {
        case .line: c.mode = HWR_MODE_LINE
        case .auto: c.mode = HWR_MODE_AUTO
        case .page: c.mode = HWR_MODE_PAGE
        default: c.mode = HWR_MODE_CHAR
        }
        if o.topK > 0 { c.top_k = Int32(clamping: o.topK) }
        if o.beamWidth > 0 { c.beam_width = Int32(clamping: o.beamWidth) }
        if o.alternatives > 0 { c.alternatives = Int32(clamping: o.alternatives) }
        c.reject_threshold = o.rejectThreshold
        c.lexicon_mode = Int32(clamping: o.lexiconMode.rawValue) // LexiconMode numbers HWR_LEXICON_*; the library checks the range
        let strings = ([o.charset, o.pattern] + o.lexicon).map { strdup($0) }
        defer { strings.forEach { free($0) } }
        if !o.charset.isEmpty { c.charset = UnsafePointer(strings[0]) }
        if !o.pattern.isEmpty { c.pattern = UnsafePointer(strings[1]) }
        let words = strings.dropFirst(2).map { UnsafePointer($0) }
        return words.withUnsafeBufferPointer { lexicon in
            if !o.lexicon.isEmpty { c.lexicon = lexicon.baseAddress; c.lexicon_count = lexicon.count }
            return body(&c)
        }
    }

    /// Runs `body` with hwr_image descriptions of the images (their bytes copied into one buffer
    /// that lives for the call).
    func withCImages<T>(_ images: [Hwr_V1_Image], _ body: (UnsafeBufferPointer<hwr_image>) -> T) -> T {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        for image in images { offsets.append(storage.count); storage.append(contentsOf: image.data) }
        // Never a NULL pointer, even when every image has no bytes (an empty image is the engine's
        // to judge, not a missing one): the byte added is outside every image's size.
        if storage.isEmpty { storage = [0] }
        return storage.withUnsafeBytes { raw in
            let cimages = images.enumerated().map { i, image -> hwr_image in
                var c = hwr_image()
                let start = raw.baseAddress.map { $0 + offsets[i] }
                if image.encoding == .gray8 {
                    hwr_image_init_gray8(&c, start, image.data.count, Int32(clamping: image.width),
                                         Int32(clamping: image.height), Int32(clamping: image.width))
                } else {
                    hwr_image_init_encoded(&c, start, image.data.count)
                }
                return c
            }
            return cimages.withUnsafeBufferPointer(body)
        }
    }
}

/// A status and message to reply with instead of a result.
public struct ReplyError: Error {
    /// The reply status.
    public let status: Hwr_V1_StatusCode
    /// Detail for the caller.
    public let message: String
    /// The request id, when it could be read.
    public let requestID: String

    init(_ status: Hwr_V1_StatusCode, _ message: String, _ requestID: String = "") {
        self.status = status; self.message = message; self.requestID = requestID
    }
}
