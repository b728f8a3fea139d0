import ArgumentParser
import Foundation
import HWRWorker
import Logging

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve the protobuf API of proto/hwr.proto over ZeroMQ.",
        discussion: """
        Give exactly one of: --bind ENDPOINT (a ROUTER socket clients connect to), --connect ENDPOINT \
        (join a broker's backend, see `hwr broker`), or --pull UP --push DOWN (a pipeline stage). \
        Endpoints: tcp://, ipc://, inproc://. The engine is libhwr.so, loaded through its C ABI \
        (the build next to this program by default). SIGINT/SIGTERM: stop taking requests, answer \
        those in flight, exit 0.
        """)

    @Option(help: "Bind a ROUTER socket here.") var bind: String?
    @Option(help: "Connect a ROUTER socket to a broker backend.") var connect: String?
    @Option(help: "Pipeline: pull requests from this endpoint.") var pull: String?
    @Option(help: "Pipeline: push replies to this endpoint.") var push: String?
    @Option(help: "libhwr.so to load (checked by its ABI version).") var engine: String?
    @Option(help: "Recognition threads for any request (default: one per core); one more serves single characters only.") var threads: Int?
    @Option(help: "Threads each engine call splits its images over (hwr_engine_options.threads; 0: one per core).") var engineThreads: Int32 = 1
    @Option(help: "Largest request, bytes (default \(Limits().maxMessageBytes)).") var maxMessageBytes: Int?
    @Option(help: "Largest image, pixels, enforced by the engine (default: HWR_MAX_IMAGE_PIXELS, \(Limits().effectiveMaxPixels)).") var maxPixels: Int64?
    @Option(help: "Most images per batch request (default \(Limits().maxBatch)).") var maxBatch: Int?
    @Option(help: "Most requests queued before OVERLOADED replies (default \(Limits().maxQueue)).") var maxQueue: Int?
    @Option(help: "Most request bytes queued before OVERLOADED replies (default \(Limits().maxQueuedBytes)).") var maxQueuedBytes: Int?
    @Option(help: "Decoded pixels one recognition thread may hold at once (default \(Limits().pixelBudget)).") var pixelBudget: Int64?
    @Option(help: "Deadline of recognition requests that give none (Request.deadline_ms), milliseconds from their receipt (default: none).") var requestTimeoutMs: UInt32?
    @Option(help: "ZeroMQ high-water mark of the request socket, messages (default \(WorkerConfig(topology: .bind("")).highWaterMark)).") var hwm: Int32?
    @Option(help: "Serve Prometheus text metrics on 127.0.0.1:PORT.") var metricsPort: UInt16?
    @Option(help: "File holding the CURVE server secret key (Z85, from `hwr keygen`); enables encryption.") var curveSecretKeyFile: String?
    @Option(help: "File of allowed CURVE client public keys, one per line (default: any client).") var curveAllow: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() throws {
        let topology: Topology
        switch (bind, connect, pull, push) {
        case let (b?, nil, nil, nil): topology = .bind(b)
        case let (nil, c?, nil, nil): topology = .connect(c)
        case let (nil, nil, p?, q?): topology = .pipeline(pull: p, push: q)
        default: throw ValidationError("give --bind, --connect, or --pull with --push")
        }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level \(logLevel)") }
        var logger = Logger(label: "hwr.worker") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        var config = WorkerConfig(topology: topology)
        if let threads { config.threads = threads }
        if let maxMessageBytes { config.limits.maxMessageBytes = maxMessageBytes }
        if let maxPixels { config.limits.maxPixels = maxPixels }
        if let maxBatch { config.limits.maxBatch = maxBatch }
        if let maxQueue { config.limits.maxQueue = maxQueue }
        if let maxQueuedBytes { config.limits.maxQueuedBytes = maxQueuedBytes }
        if let pixelBudget { config.limits.pixelBudget = pixelBudget }
        if let requestTimeoutMs { config.limits.requestTimeoutMilliseconds = requestTimeoutMs }
        if let hwm { config.highWaterMark = hwm }
        config.metricsPort = metricsPort
        if let file = curveSecretKeyFile {
            guard let key = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                  Curve.decode(key) != nil else { throw ValidationError("\(file): not a Z85 CURVE secret key") }
            config.curveSecretKey = key
            let publicKey = try Curve.publicKey(ofSecret: key)
            logger.info("CURVE on", metadata: ["server public key": "\(publicKey)"])
        }
        if let file = curveAllow {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("\(file): cannot read") }
            config.curveAllowedClients = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        do {
            let abi = try EngineABI(path: engine ?? EngineABI.defaultPath())
            let routed = abi.routeDiagnostics(to: logger)
            logger.info("engine", metadata: ["library": "\(abi.path)", "version": "\(abi.version)", "abi": "\(abi.abiVersion)",
                                             "diagnostics": "\(routed ? "routed" : "not available")"])
            let opened = try Engine(abi: abi, threads: engineThreads, maxPixels: config.limits.maxPixels)
            logger.info("model", metadata: ["name": "\(opened.modelName)", "version": "\(opened.modelVersion)", "line model": "\(opened.hasLineModel)", "text model": "\(opened.hasTextModel)"])
            try Worker(config: config, engine: opened, logger: logger).run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a ROUTER/DEALER proxy: clients connect to --frontend, workers (`hwr worker --connect`) to --backend.")

    @Option(help: "Endpoint clients connect to.") var frontend: String
    @Option(help: "Endpoint workers connect to.") var backend: String

    func run() throws {
        let logger = Logger(label: "hwr.broker") { StreamLogHandler.standardError(label: $0) }
        try Broker.run(frontend: frontend, backend: backend, logger: logger)
    }
}

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new CURVE key pair (Z85): the public key, then the secret key.")

    @Option(help: "Also write the secret key to this new file (created with mode 0600) and the public key to FILE.pub.") var out: String?

    func run() throws {
        let (publicKey, secretKey) = try out.map { try Curve.writeKeyPair(to: $0) } ?? Curve.keyPair()
        print("public \(publicKey)\nsecret \(secretKey)")
    }
}
