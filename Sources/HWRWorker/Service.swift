import CHwr
import Foundation
import HWRProto
import SwiftProtobuf

/// Limits a worker enforces on every request (each over-limit request gets an error reply).
public struct Limits: Sendable {
    /// Largest request message, bytes (default 8 MiB).
    public var maxMessageBytes = 8 << 20
    /// Largest image, pixels (default and upper bound: the engine's HWR_MAX_IMAGE_PIXELS).
    public var maxPixels = 4096 * 4096
    /// Most images in one RecognizeBatch request (default 256).
    public var maxBatch = 256
    /// Most requests queued or being processed before new ones are answered OVERLOADED (default 1024).
    public var maxQueue = 1024

    /// Defaults.
    public init() {}
}

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

    /// Parses and checks one request body; returns the request or the error reply to send instead.
    public func parse(_ body: [UInt8]) -> Result<Hwr_V1_Request, ReplyError> {
        guard !body.isEmpty else { return .failure(ReplyError(.badRequest, "empty request frame")) }
        guard body.count <= limits.maxMessageBytes else {
            let id = (try? Hwr_V1_Request(serializedBytes: body))?.requestID ?? ""
            return .failure(ReplyError(.imageTooLarge, "request of \(body.count) bytes exceeds the limit of \(limits.maxMessageBytes)", id))
        }
        let request: Hwr_V1_Request
        do { request = try Hwr_V1_Request(serializedBytes: body) } catch {
            return .failure(ReplyError(.badRequest, "not a valid hwr.v1.Request: \(error)"))
        }
        guard request.protocolVersion == 1 else {
            return .failure(ReplyError(.wrongVersion, "protocol_version \(request.protocolVersion) is not supported (1 is)", request.requestID))
        }
        guard request.method != nil else { return .failure(ReplyError(.badRequest, "the request names no method", request.requestID)) }
        return .success(request)
    }

    /// Serves requests. Consecutive single-image recognitions with the same mode and options are run
    /// as one batched engine call.
    public func handle(_ requests: [Hwr_V1_Request]) -> [Hwr_V1_Reply] {
        var replies = [Hwr_V1_Reply?](repeating: nil, count: requests.count)
        var i = 0
        while i < requests.count {
            if case let .recognize(first)? = requests[i].method {
                var j = i + 1
                while j < requests.count, case let .recognize(next)? = requests[j].method,
                      next.mode == first.mode, next.options == first.options { j += 1 }
                let results = recognize(requests[i..<j].map { r -> Hwr_V1_Image in
                    if case let .recognize(x)? = r.method { return x.image }
                    return Hwr_V1_Image()
                }, mode: first.mode, options: first.options)
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
            replies[i] = handleOther(requests[i])
            i += 1
        }
        return replies.map { $0! }
    }

    func handleOther(_ request: Hwr_V1_Request) -> Hwr_V1_Reply {
        var reply = Self.errorReply(.ok, "", requestID: request.requestID)
        switch request.method {
        case let .recognizeBatch(batch)?:
            guard !batch.images.isEmpty else { return Self.errorReply(.badRequest, "the batch has no image", requestID: request.requestID) }
            guard batch.images.count <= limits.maxBatch else {
                return Self.errorReply(.imageTooLarge, "batch of \(batch.images.count) images exceeds the limit of \(limits.maxBatch)", requestID: request.requestID)
            }
            let results = recognize(batch.images, mode: batch.mode, options: batch.options)
            var r = Hwr_V1_RecognizeBatchReply()
            r.modelName = engine.modelName; r.modelVersion = engine.modelVersion
            for result in results {
                switch result {
                case let .success(recognition): r.results.append(recognition)
                case let .failure(e): return Self.errorReply(e.status, e.message, requestID: request.requestID)
                }
            }
            reply.recognizeBatch = r
        case .modelInfo?:
            var info = Hwr_V1_ModelInfoReply()
            info.modelName = engine.modelName; info.modelVersion = engine.modelVersion; info.charset = engine.charset
            info.lineModel = engine.hasLineModel; info.libraryVersion = engine.abi.version; info.abiVersion = engine.abi.abiVersion
            info.maxMessageBytes = UInt64(limits.maxMessageBytes); info.maxPixels = UInt64(limits.maxPixels)
            info.maxBatch = UInt32(limits.maxBatch)
            info.stats = stats.snapshot()
            reply.modelInfo = info
        case .health?:
            var health = Hwr_V1_HealthReply()
            health.serving = true
            reply.health = health
        default:
            return Self.errorReply(.unsupported, "unknown method", requestID: request.requestID)
        }
        return reply
    }

    /// Recognises images through the C ABI. An error for the whole call (bad options) fails every item.
    func recognize(_ images: [Hwr_V1_Image], mode: Hwr_V1_Mode, options: Hwr_V1_DecodingOptions) -> [Result<Hwr_V1_Recognition, ReplyError>] {
        var recognitions = [Result<Hwr_V1_Recognition, ReplyError>?](repeating: nil, count: images.count)
        var valid: [Int] = []
        for (i, image) in images.enumerated() {
            if let problem = check(image) { recognitions[i] = .success(problem) } else { valid.append(i) }
        }
        guard !valid.isEmpty else { return recognitions.map { $0! } }
        let outcome: Result<[Hwr_V1_Recognition], ReplyError> = withCOptions(mode: mode, options) { copts in
            withCImages(valid.map { images[$0] }) { cimages in
                var result: OpaquePointer?
                let status = engine.abi.batch(engine.handle, cimages.baseAddress, cimages.count, copts, &result)
                guard status == HWR_OK, let result else {
                    return .failure(ReplyError(Self.statusCode(status), String(cString: engine.abi.lastError())))
                }
                defer { engine.abi.free(result) }
                return .success((0..<engine.abi.count(result)).map { recognition(result, $0) })
            }
        }
        switch outcome {
        case let .success(list): for (i, r) in zip(valid, list) { recognitions[i] = .success(r) }
        case let .failure(e): for i in valid { recognitions[i] = .failure(e) }
        }
        return recognitions.map { $0! }
    }

    /// A failed recognition for an image over the limits or malformed, or nil when it may be sent to the engine.
    func check(_ image: Hwr_V1_Image) -> Hwr_V1_Recognition? {
        func failure(_ status: Hwr_V1_StatusCode, _ message: String) -> Hwr_V1_Recognition {
            var r = Hwr_V1_Recognition()
            r.status = status; r.message = message
            return r
        }
        if image.data.isEmpty { return failure(.decodeFailure, "the image has no bytes") }
        if let (w, h) = Self.dimensions(image) {
            guard w > 0, h > 0 else { return failure(.decodeFailure, "the image is \(w)x\(h)") }
            let (pixels, overflow) = w.multipliedReportingOverflow(by: h)
            guard !overflow, pixels <= limits.maxPixels else {
                return failure(.imageTooLarge, "\(w)x\(h) exceeds the limit of \(limits.maxPixels) pixels")
            }
        }
        if image.encoding == .gray8, image.data.count != Int(image.width) * Int(image.height) {
            return failure(.badRequest, "GRAY8 image of \(image.data.count) bytes is not \(image.width)x\(image.height)")
        }
        return nil
    }

    /// Width and height from a GRAY8 header or a PNG's IHDR, when known without decoding.
    static func dimensions(_ image: Hwr_V1_Image) -> (Int, Int)? {
        if image.encoding == .gray8 { return (Int(image.width), Int(image.height)) }
        let d = image.data
        if d.count >= 24, d.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            func be32(_ o: Int) -> Int { d.dropFirst(o).prefix(4).reduce(0) { $0 << 8 | Int($1) } }
            return (be32(16), be32(20))
        }
        return nil
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
        return r
    }

    /// The reply status of an HWR_ERR_* code.
    static func statusCode(_ status: Int32) -> Hwr_V1_StatusCode {
        switch status {
        case HWR_OK: return .ok
        case HWR_ERR_INVALID_ARGUMENT: return .badRequest
        case HWR_ERR_IMAGE_DECODE, HWR_ERR_IMAGE_EMPTY: return .decodeFailure
        case HWR_ERR_IMAGE_TOO_LARGE: return .imageTooLarge
        case HWR_ERR_UNSUPPORTED: return .unsupported
        default: return .internal
        }
    }

    /// Runs `body` with the C form of the decoding options (strings alive for the call).
    func withCOptions<T>(mode: Hwr_V1_Mode, _ o: Hwr_V1_DecodingOptions, _ body: (UnsafePointer<hwr_recognize_options>) -> T) -> T {
        var c = hwr_recognize_options()
        hwr_recognize_options_init(&c)
        switch mode {
        case .line: c.mode = HWR_MODE_LINE
        case .auto: c.mode = HWR_MODE_AUTO
        default: c.mode = HWR_MODE_CHAR
        }
        if o.topK > 0 { c.top_k = Int32(clamping: o.topK) }
        if o.beamWidth > 0 { c.beam_width = Int32(clamping: o.beamWidth) }
        if o.alternatives > 0 { c.alternatives = Int32(clamping: o.alternatives) }
        c.reject_threshold = o.rejectThreshold
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
