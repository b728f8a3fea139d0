import CHwr
import CZMQ
import Foundation
import HWRProto
import Logging
import SwiftProtobuf

/// How a worker is reached.
public enum Topology: Sendable {
    /// A ROUTER socket bound to an endpoint (clients connect to it).
    case bind(String)
    /// A ROUTER socket connected to a broker's backend (`hwr broker`).
    case connect(String)
    /// A pipeline stage: PULL requests from `pull` (connect), PUSH replies to `push` (connect).
    case pipeline(pull: String, push: String)
}

/// Settings of a worker.
public struct WorkerConfig: Sendable {
    /// Where requests come from.
    public var topology: Topology
    /// Recognition threads for any request (default: one per core). One more thread serves only
    /// single-image character requests, so that slow requests never hold every thread.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Most requests one thread takes at once (consecutive compatible ones become one engine batch).
    public var batch = 16
    /// Every limit of the worker.
    public var limits = Limits()
    /// ZeroMQ high-water marks of the request socket, messages (default 1000).
    public var highWaterMark: Int32 = 1000
    /// Port of the Prometheus text endpoint on 127.0.0.1, or nil for none.
    public var metricsPort: UInt16?
    /// CURVE server secret key (Z85), or nil to serve in the clear.
    public var curveSecretKey: String?
    /// CURVE client public keys (Z85) allowed to connect, or nil to allow any client that knows the
    /// server's public key. Needs `curveSecretKey`, and at least one key (see `validate()`).
    public var curveAllowedClients: [String]?

    /// A worker for a topology, with defaults.
    public init(topology: Topology) { self.topology = topology }

    /// Checks the settings before a worker starts: the batch limit within the engine's, a queue
    /// budget that holds the largest request, and the
    /// security settings (an allow list without a secret key
    /// would serve every client in the clear, and an empty allow list would admit everyone).
    /// - Throws: `WorkerConfigError` naming the setting.
    public func validate() throws {
        guard (1...Int(HWR_MAX_BATCH)).contains(limits.maxBatch) else {
            throw WorkerConfigError("the batch limit must be 1 to HWR_MAX_BATCH (\(HWR_MAX_BATCH)), not \(limits.maxBatch)")
        }
        guard limits.maxQueuedBytes >= limits.maxMessageBytes else {
            throw WorkerConfigError("the queued-bytes budget (\(limits.maxQueuedBytes)) must hold at least one request of the largest size (\(limits.maxMessageBytes))")
        }
        if let secret = curveSecretKey, Curve.decode(secret) == nil {
            throw WorkerConfigError("the CURVE secret key is not a Z85 key (40 characters, from `hwr keygen`)")
        }
        guard let allowed = curveAllowedClients else { return }
        guard curveSecretKey != nil else {
            throw WorkerConfigError("an allow list of CURVE clients needs the server's secret key (--curve-secret-key-file): without it the worker would serve every client in the clear")
        }
        guard !allowed.isEmpty else {
            throw WorkerConfigError("the allow list of CURVE clients is empty: list at least one client public key, or give no list to admit any client that knows the server's public key")
        }
        if let bad = allowed.first(where: { Curve.decode($0) == nil }) {
            throw WorkerConfigError("\"\(bad)\" in the allow list is not a Z85 public key")
        }
    }
}

/// A worker setting that cannot be used.
public struct WorkerConfigError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
}

/// Set by SIGINT/SIGTERM.
private var stopRequested: sig_atomic_t = 0

/// One request waiting for a recognition thread.
struct Job {
    let route: [[UInt8]]
    let request: Hwr_V1_Request
    /// Size of the request body, counted against `Limits.maxQueuedBytes`.
    let bytes: Int
    let received: UInt64

    /// A single-image character recognition: bounded work, served even while slow requests
    /// (line and auto modes, batches) occupy every general thread.
    var isLight: Bool {
        guard case let .recognize(r)? = request.method else { return false }
        return r.mode == .char
    }
}

/// A blocking queue of jobs for the recognition threads, with the bytes it holds.
final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closed = false
    private var heldBytes = 0

    /// Bytes of the requests queued or being recognised.
    var bytes: Int { condition.lock(); defer { condition.unlock() }; return heldBytes }

    func push(_ job: Job) {
        condition.lock(); jobs.append(job); heldBytes += job.bytes; condition.broadcast(); condition.unlock()
    }

    /// Waits for jobs and takes them in order: one job that is not light, or up to `max` light
    /// ones; with `lightOnly`, only light jobs. Nil once closed and nothing is left to take.
    func pop(max: Int, lightOnly: Bool) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let first = jobs.firstIndex(where: { !lightOnly || $0.isLight }) {
                guard jobs[first].isLight else { return [jobs.remove(at: first)] }
                let taken = Set(jobs.indices.filter { jobs[$0].isLight }.prefix(max))
                let light = taken.sorted().map { jobs[$0] }
                jobs = jobs.indices.filter { !taken.contains($0) }.map { jobs[$0] }
                return light
            }
            if closed { return nil }
            condition.wait()
        }
    }

    /// Releases the bytes of answered jobs.
    func finished(_ done: [Job]) {
        condition.lock(); heldBytes -= done.reduce(0) { $0 + $1.bytes }; condition.unlock()
    }

    func close() { condition.lock(); closed = true; condition.broadcast(); condition.unlock() }
}

/// The ZeroMQ worker: receives requests on one socket, answers each exactly once, recognises on a
/// pool of threads, and shuts down gracefully on SIGINT/SIGTERM (requests in flight are answered;
/// requests arriving meanwhile get SHUTTING_DOWN).
public final class Worker {
    let config: WorkerConfig
    let service: Service
    let stats: Stats
    let logger: Logger
    let context = Context()

    /// Creates a worker over an opened engine.
    public init(config: WorkerConfig, engine: Engine, logger: Logger) {
        self.config = config
        stats = Stats()
        service = Service(engine: engine, limits: config.limits, stats: stats)
        self.logger = logger
    }

    /// Serves until SIGINT or SIGTERM, then drains and returns.
    /// - Throws: `WorkerConfigError` for unusable settings, `ZMQError` when the sockets cannot be
    ///   set up, the metrics server's error when its port cannot be bound.
    public func run() throws {
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        signal(SIGPIPE, SIG_IGN)
        try config.validate()
        let metrics = try config.metricsPort.map { try MetricsServer(port: $0, stats: stats, logger: logger) }
        defer { metrics?.stop() }
        if config.curveSecretKey != nil { try startAuthenticator() }

        let (input, output) = try openSockets()
        let replies = try Socket(context, type: ZMQ_PULL)
        try replies.bind("inproc://hwr-replies")
        let queue = JobQueue()
        let general = max(1, config.threads)
        let threads = (0...general).map { i in startRecognitionThread(i, queue: queue, lightOnly: i == general) }

        var inFlight = 0
        var draining = false
        var items = [zmq_pollitem_t(socket: input.raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
                     zmq_pollitem_t(socket: replies.raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)]
        logger.info("serving", metadata: ["threads": "\(general) + 1 for single characters", "topology": "\(config.topology)"])
        while true {
            if stopRequested != 0 && !draining {
                draining = true
                logger.info("stopping: answering \(inFlight) requests in flight")
            }
            if draining && inFlight == 0 { break }
            let rc = zmq_poll(&items, 2, 100)
            if rc < 0 { if zmq_errno() == EINTR { continue }; throw ZMQError("zmq_poll") }
            if items[1].revents & Int16(ZMQ_POLLIN) != 0 {
                while let frames = try replies.receive(dontWait: true) {
                    inFlight -= 1
                    send(output, frames)
                }
            }
            if items[0].revents & Int16(ZMQ_POLLIN) != 0 {
                var received = 0
                while received < 256, case let (route, bytes, parsed)? = try receiveRequest(input) {
                    received += 1
                    let start = DispatchTime.now().uptimeNanoseconds
                    switch parsed {
                    case let .failure(e):
                        answer(output, route, Service.errorReply(e.status, e.message, requestID: e.requestID), start)
                    case let .success(request):
                        if draining {
                            answer(output, route, Service.errorReply(.shuttingDown, "the worker is shutting down", requestID: request.requestID), start)
                        } else if let reply = service.control(request) {
                            answer(output, route, reply, start)
                        } else if inFlight >= config.limits.maxQueue || queue.bytes + bytes > config.limits.maxQueuedBytes {
                            answer(output, route, Service.errorReply(.overloaded, "\(inFlight) requests of \(queue.bytes) bytes queued; retry later",
                                                                     requestID: request.requestID), start)
                        } else {
                            inFlight += 1
                            queue.push(Job(route: route, request: request, bytes: bytes, received: start))
                        }
                    }
                }
            }
        }
        queue.close()
        threads.forEach { $0.wait() }
        logger.info("stopped", metadata: ["requests": "\(stats.snapshot().requests)"])
    }

    /// Receives one request without copying what the limits rule out: routing frames past
    /// `maxRoutingFrames` or `maxRoutingFrameBytes` are dropped (the reply goes back along the
    /// frames kept, with BAD_REQUEST), and the body is parsed in place.
    /// - Returns: the routing frames, the body's size and the parsed request or the error to reply
    ///   with; nil when no message is waiting.
    func receiveRequest(_ socket: Socket) throws -> ([[UInt8]], Int, Result<Hwr_V1_Request, ReplyError>)? {
        let limits = config.limits
        var route: [[UInt8]] = [], envelopeProblem: String?
        var bytes = 0, parsed: Result<Hwr_V1_Request, ReplyError> = .failure(ReplyError(.badRequest, "no request frame"))
        let received = try socket.receive(dontWait: true) { frame, more in
            guard more else { bytes = frame.count; parsed = service.parse(frame); return }
            guard envelopeProblem == nil else { return }
            if route.count == limits.maxRoutingFrames {
                envelopeProblem = "more than \(limits.maxRoutingFrames) routing frames"
            } else if frame.count > limits.maxRoutingFrameBytes {
                envelopeProblem = "a routing frame of \(frame.count) bytes exceeds the limit of \(limits.maxRoutingFrameBytes)"
            } else {
                route.append(Array(frame))
            }
        }
        guard received else { return nil }
        if let envelopeProblem {
            let requestID = (try? parsed.get())?.requestID ?? ""
            parsed = .failure(ReplyError(.badRequest, "envelope refused: \(envelopeProblem)", requestID))
        }
        return (route, bytes, parsed)
    }

    /// The request socket and the socket replies go out on (the same, except in a pipeline).
    func openSockets() throws -> (Socket, Socket) {
        func configure(_ s: Socket) throws {
            try s.setOption(ZMQ_SNDHWM, config.highWaterMark)
            try s.setOption(ZMQ_RCVHWM, config.highWaterMark)
            // The transport's hard cap, far above the limit: the limit itself gets an error reply.
            try s.setOption(ZMQ_MAXMSGSIZE, config.limits.transportCapBytes)
            if let secret = config.curveSecretKey {
                try s.setOption(ZMQ_CURVE_SERVER, Int32(1))
                try s.setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(secret.utf8))
            }
        }
        switch config.topology {
        case let .bind(endpoint):
            let s = try Socket(context, type: ZMQ_ROUTER)
            try s.setOption(ZMQ_ROUTER_MANDATORY, Int32(0))
            try configure(s)
            try s.bind(endpoint)
            return (s, s)
        case let .connect(endpoint):
            let s = try Socket(context, type: ZMQ_ROUTER)
            try configure(s)
            try s.connect(endpoint)
            return (s, s)
        case let .pipeline(pull, push):
            let input = try Socket(context, type: ZMQ_PULL), output = try Socket(context, type: ZMQ_PUSH)
            try configure(input)
            try output.setOption(ZMQ_SNDHWM, config.highWaterMark)
            try input.connect(pull)
            try output.connect(push)
            return (input, output)
        }
    }

    func answer(_ output: Socket, _ route: [[UInt8]], _ reply: Hwr_V1_Reply, _ start: UInt64) {
        var reply = reply
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        reply.serverTimeMs = seconds * 1000
        stats.record(status: reply.status, seconds: seconds)
        if reply.status != .ok { logger.debug("error reply", metadata: ["status": "\(reply.status)", "message": "\(reply.message)"]) }
        send(output, route + [(try? reply.serializedBytes()) ?? []])
    }

    func send(_ output: Socket, _ frames: [[UInt8]]) {
        do { try output.send(frames) } catch { logger.warning("reply not delivered: \(error)") }
    }

    /// A recognition thread: takes jobs (with `lightOnly`, single-image character ones only),
    /// serves them, pushes replies to the main thread.
    func startRecognitionThread(_ index: Int, queue: JobQueue, lightOnly: Bool) -> ThreadHandle {
        let handle = ThreadHandle()
        let thread = Thread { [self] in
            defer { handle.finish() }
            guard let push = try? Socket(context, type: ZMQ_PUSH), (try? push.connect("inproc://hwr-replies")) != nil else {
                logger.critical("recognition thread \(index) cannot reach the main thread")
                return
            }
            while let jobs = queue.pop(max: min(config.batch, config.limits.imagesPerCall), lightOnly: lightOnly) {
                let replies = service.handle(jobs.map(\.request), received: jobs.map(\.received))
                queue.finished(jobs)
                for (job, reply) in zip(jobs, replies) {
                    var reply = reply
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - job.received) / 1e9
                    reply.serverTimeMs = seconds * 1000
                    stats.record(status: reply.status, seconds: seconds)
                    let body = (try? reply.serializedBytes()) ?? (try? Service.errorReply(.internal, "cannot serialise the reply",
                                                                                           requestID: job.request.requestID).serializedBytes()) ?? []
                    do { try push.send(job.route + [body]) } catch { logger.error("reply lost inside the worker: \(error)") }
                }
            }
        }
        thread.name = lightOnly ? "hwr-recognize-light" : "hwr-recognize-\(index)"
        thread.start()
        return handle
    }

    /// The ZAP handler for CURVE: admits clients whose public key is in `curveAllowedClients`
    /// (any client when there is no list).
    func startAuthenticator() throws {
        let allowed = Set((config.curveAllowedClients ?? []).compactMap(Curve.decode))
        let zap = try Socket(context, type: ZMQ_REP)
        try zap.bind("inproc://zeromq.zap.01")
        let logger = self.logger
        let thread = Thread {
            while let frames = try? zap.receive() {
                guard frames.count >= 6 else { continue }
                let mechanism = String(decoding: frames[5], as: UTF8.self)
                let key = frames.count > 6 ? frames[6] : []
                let ok = mechanism == "CURVE" && (allowed.isEmpty || allowed.contains(key))
                if !ok { logger.warning("refused a client", metadata: ["mechanism": "\(mechanism)"]) }
                try? zap.send([frames[0], frames[1], Array((ok ? "200" : "400").utf8), Array((ok ? "OK" : "not allowed").utf8), [], []])
            }
        }
        thread.name = "hwr-zap"
        thread.start()
    }
}

/// Lets the main thread wait for a thread to finish.
final class ThreadHandle: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    func finish() { done.signal() }
    func wait() { done.wait() }
}

/// `hwr broker`: a ROUTER frontend for clients and a DEALER backend for workers, joined by
/// zmq_proxy, so that many workers on many machines serve one endpoint.
public enum Broker {
    /// Runs the proxy until the process is stopped.
    /// - Throws: `ZMQError`.
    public static func run(frontend: String, backend: String, logger: Logger) throws {
        let context = Context()
        let front = try Socket(context, type: ZMQ_ROUTER), back = try Socket(context, type: ZMQ_DEALER)
        try front.bind(frontend)
        try back.bind(backend)
        logger.info("broker", metadata: ["frontend": "\(frontend)", "backend": "\(backend)"])
        zmq_proxy(front.raw, back.raw, nil)
    }
}
