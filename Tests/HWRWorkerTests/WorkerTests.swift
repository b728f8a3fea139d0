import CZMQ
import Foundation
import HWRProto
import HWRWorker
import XCTest

/// Starts workers as separate processes (`hwr-cli worker`, built by
/// `swift build -c release --product hwr-cli`), exactly as operations would run them, and talks to them.
class WorkerHarness: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    let context = Context()
    var processes: [Process] = []
    let k = try! Data(contentsOf: URL(fileURLWithPath: "\(root)/Tests/Fixtures/formats/K.jpg"))

    func binary() throws -> String {
        let path = "\(Self.root)/.build/release/hwr-cli"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("hwr-cli not built: run `swift build -c release --product hwr-cli` first")
        }
        return path
    }

    /// Ports handed out so far: the system may offer a port again once its probe socket is closed,
    /// and two endpoints of one test must differ.
    nonisolated(unsafe) static var handedOut = Set<Int>()

    /// A free TCP port on 127.0.0.1 that no earlier call returned.
    func freePort() -> Int {
        while true {
            let port = probePort()
            if Self.handedOut.insert(port).inserted { return port }
        }
    }

    /// A port the system reports free now.
    private func probePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `hwr-cli ARGUMENTS`; a worker logs warnings and above to nowhere, or, with `log`,
    /// at the `--log-level` given in `arguments` to that file.
    @discardableResult
    func start(_ arguments: [String], log: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary())
        p.arguments = arguments + (arguments.first == "worker" && log == nil ? ["--log-level", "warning"] : [])
        p.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        if let log {
            FileManager.default.createFile(atPath: log.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: log)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        processes.append(p)
        return p
    }

    override func tearDown() {
        for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
    }

    func request(_ id: String, _ fill: (inout Hwr_V1_Request) -> Void) -> [UInt8] {
        var r = Hwr_V1_Request()
        r.protocolVersion = 1
        r.requestID = id
        fill(&r)
        return try! r.serializedBytes()
    }

    func recognizeK(_ id: String) -> [UInt8] {
        request(id) { $0.recognize.image.data = k }
    }

    /// Sends frames on a DEALER and waits for one reply.
    func call(_ socket: Socket, _ frames: [[UInt8]], timeout: Int32 = 10_000) throws -> Hwr_V1_Reply {
        try socket.send(frames)
        guard socket.waitForInput(milliseconds: Int(timeout)), let reply = try socket.receive() else { throw NoReply(timeout: timeout) }
        return try Hwr_V1_Reply(serializedBytes: reply.last!)
    }

    func dealer(_ endpoint: String) throws -> Socket {
        let s = try Socket(context, type: ZMQ_DEALER)
        try bounded(s)
        try s.connect(endpoint)
        return s
    }

    /// A test socket whose receives give up after 30 s (nil): a lost reply fails a test instead of
    /// hanging the suite.
    func bounded(_ socket: Socket) throws { try socket.setOption(ZMQ_RCVTIMEO, Int32(30_000)) }

    /// Waits until the worker answers a health request.
    func waitUntilServing(_ endpoint: String) throws {
        let s = try dealer(endpoint)
        for attempt in 0..<100 {
            try s.send([request("health-\(attempt)") { $0.health = Hwr_V1_HealthRequest() }])
            if s.waitForInput(milliseconds: 200), (try s.receive()) != nil { return }
        }
        XCTFail("worker at \(endpoint) never answered")
    }

}

/// The worker over real sockets.
final class WorkerTests: WorkerHarness {
    func testRequestReplyOverTCPAndIPCWithEveryErrorPath() throws {
        let ipc = "ipc:///tmp/hwr-test-\(getpid()).sock"
        for endpoint in ["tcp://127.0.0.1:\(freePort())", ipc] {
            try start(["worker", "--bind", endpoint, "--threads", "2", "--max-batch", "4", "--max-message-bytes", "200000"])
            try waitUntilServing(endpoint)
            let s = try dealer(endpoint)
            let ok = try call(s, [recognizeK("k1")])
            XCTAssertEqual(ok.status, .ok)
            XCTAssertEqual(ok.requestID, "k1")
            XCTAssertEqual(ok.recognize.result.text, "K")
            XCTAssertEqual(ok.recognize.modelName, "hwr-char")
            XCTAssertGreaterThan(ok.serverTimeMs, 0)
            // Garbage, empty frame, wrong version, no method, over-size, undecodable, too many images, unsupported...
            XCTAssertEqual(try call(s, [Array("garbage\u{1}\u{2}".utf8)]).status, .badRequest)
            XCTAssertEqual(try call(s, [[]]).status, .badRequest)
            let versioned = try call(s, [request("v") { $0.protocolVersion = 2; $0.health = .init() }])
            XCTAssertEqual(versioned.status, .wrongVersion)
            XCTAssertEqual(versioned.requestID, "v")
            XCTAssertEqual(try call(s, [request("none") { _ in }]).status, .badRequest)
            XCTAssertEqual(try call(s, [request("big") { $0.recognize.image.data = Data(count: 300_000) }]).status, .imageTooLarge)
            XCTAssertEqual(try call(s, [request("junk") { $0.recognize.image.data = Data("junk".utf8) }]).status, .decodeFailure)
            XCTAssertEqual(try call(s, [request("gray8") {
                $0.recognize.image.encoding = .gray8; $0.recognize.image.width = 5000; $0.recognize.image.height = 5000
                $0.recognize.image.data = Data(count: 16)
            }]).status, .badRequest, "GRAY8 rows are packed: the bytes must be width x height")
            XCTAssertEqual(try call(s, [request("gray8-4G") {
                $0.recognize.image.encoding = .gray8; $0.recognize.image.width = .max; $0.recognize.image.height = .max
                $0.recognize.image.data = Data(count: 1)
            }]).status, .badRequest, "width x height past Int.max")
            XCTAssertEqual(try call(s, [request("nul") { $0.recognize.image.data = k; $0.recognize.options.charset = "0\u{0}1" }]).status,
                           .badRequest, "a C string cannot carry a NUL: refused, not truncated")
            XCTAssertEqual(try call(s, [request("many") { r in
                for _ in 0..<5 { var i = Hwr_V1_Image(); i.data = k; r.recognizeBatch.images.append(i) }
            }]).status, .imageTooLarge)
            XCTAssertEqual(try call(s, [request("opts") { $0.recognize.image.data = k; $0.recognize.options.topK = 99 }]).status, .badRequest)
            // A batch with a bad image: the others are recognised.
            let batch = try call(s, [request("b") { r in
                for d in [k, Data("x".utf8), k] { var i = Hwr_V1_Image(); i.data = d; r.recognizeBatch.images.append(i) }
            }])
            XCTAssertEqual(batch.recognizeBatch.results.map(\.status), [.ok, .decodeFailure, .ok])
            // Line mode with a lexicon, model info, and still serving after all of it.
            let word = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/lines/word-000.png"))
            let line = try call(s, [request("line") {
                $0.recognize.image.data = word; $0.recognize.mode = .line
                $0.recognize.options.lexicon = ["inconsequential", "nconsequential", "commanding"]
            }])
            XCTAssertEqual(line.recognize.result.text, "nconsequential", "the lexicon word as the list spells it")
            // A dictionary (LEXICON_WORDS): each word of the free text is a lexicon word.
            let twoWords = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/inputs/09-two-words-with-space.png"))
            let dictionary = try call(s, [request("dict") {
                $0.recognize.image.data = twoWords; $0.recognize.mode = .line
                $0.recognize.options.lexicon = ["BIG", "BOX", "BAG"]; $0.recognize.options.lexiconMode = .lexiconWords
            }])
            XCTAssertEqual(dictionary.recognize.result.text, "BIG BOX")
            XCTAssertEqual(try call(s, [request("mode") {
                $0.recognize.image.data = twoWords; $0.recognize.mode = .line
                $0.recognize.options.lexicon = ["BIG"]; $0.recognize.options.lexiconMode = .UNRECOGNIZED(7)
            }]).status, .badRequest, "an unknown lexicon mode is refused")
            let info = try call(s, [request("info") { $0.modelInfo = .init() }])
            XCTAssertTrue(info.modelInfo.lineModel)
            XCTAssertTrue(info.modelInfo.textModel)
            XCTAssertEqual(info.modelInfo.abiVersion, 1)
            XCTAssertEqual(info.modelInfo.maxBatch, 4)
            XCTAssertGreaterThanOrEqual(info.modelInfo.stats.requests, 12)
            XCTAssertGreaterThanOrEqual(info.modelInfo.stats.errors, 8)
            XCTAssertEqual(try call(s, [recognizeK("again")]).recognize.result.text, "K")
            // A REQ-style envelope (empty delimiter) is echoed back.
            let req = try Socket(context, type: ZMQ_REQ)
            try bounded(req)
            try req.connect(endpoint)
            try req.send([recognizeK("req")])
            XCTAssertEqual(try Hwr_V1_Reply(serializedBytes: try XCTUnwrap(try req.receive()).last!).requestID, "req")
            for p in processes where p.isRunning { p.terminate(); p.waitUntilExit() }
        }
    }

    func testManyConcurrentClientsGetExactlyOneReplyEach() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint])
        try waitUntilServing(endpoint)
        let clients = try (0..<4).map { _ in try dealer(endpoint) }
        var expected = Set<String>()
        for (c, s) in clients.enumerated() {
            for i in 0..<50 { let id = "c\(c)-\(i)"; expected.insert(id); try s.send([recognizeK(id)]) }
        }
        var seen: [String: Int] = [:]
        for s in clients {
            for _ in 0..<50 {
                let frames = try XCTUnwrap(try s.receive())
                let reply = try Hwr_V1_Reply(serializedBytes: frames.last!)
                XCTAssertEqual(reply.recognize.result.text, "K")
                seen[reply.requestID, default: 0] += 1
            }
        }
        XCTAssertEqual(Set(seen.keys), expected)
        XCTAssertTrue(seen.values.allSatisfy { $0 == 1 }, "no duplicates")
    }

    func testBrokerSpreadsRequestsOverTwoWorkers() throws {
        let front = "tcp://127.0.0.1:\(freePort())", back = "tcp://127.0.0.1:\(freePort())"
        try start(["broker", "--frontend", front, "--backend", back])
        try start(["worker", "--connect", back, "--threads", "1", "--max-batch", "7"])
        try start(["worker", "--connect", back, "--threads", "1", "--max-batch", "9"])
        try waitUntilServing(front)
        Thread.sleep(forTimeInterval: 0.5) // let both workers connect
        let s = try dealer(front)
        for i in 0..<40 { try s.send([recognizeK("b\(i)")]) }
        var ids = Set<String>()
        for _ in 0..<40 {
            // Never wait forever: a lost reply fails the test instead of hanging the suite.
            guard s.waitForInput(milliseconds: 20_000) else { return XCTFail("the broker stopped answering") }
            ids.insert(try Hwr_V1_Reply(serializedBytes: try XCTUnwrap(try s.receive()).last!).requestID)
        }
        XCTAssertEqual(ids.count, 40)
        // The two workers differ in their batch limit: model info answered by both shows both.
        var limits = Set<UInt32>()
        for i in 0..<8 { limits.insert(try call(s, [request("i\(i)") { $0.modelInfo = .init() }]).modelInfo.maxBatch) }
        XCTAssertEqual(limits, [7, 9], "both workers served requests through the broker")
    }

    func testPipelineStageReadsFromPushAndWritesToPull() throws {
        let up = "tcp://127.0.0.1:\(freePort())", down = "tcp://127.0.0.1:\(freePort())"
        let source = try Socket(context, type: ZMQ_PUSH), sink = try Socket(context, type: ZMQ_PULL)
        try bounded(sink)
        try source.bind(up)
        try sink.bind(down)
        try start(["worker", "--pull", up, "--push", down])
        for i in 0..<20 { try source.send([recognizeK("p\(i)")]) }
        try source.send([Array("not protobuf".utf8)])
        var ids = Set<String>(), statuses: [Hwr_V1_StatusCode] = []
        for _ in 0..<21 {
            guard sink.waitForInput(milliseconds: 20_000) else { return XCTFail("pipeline stopped answering") }
            let reply = try Hwr_V1_Reply(serializedBytes: try XCTUnwrap(try sink.receive()).last!)
            ids.insert(reply.requestID); statuses.append(reply.status)
        }
        XCTAssertEqual(ids.count, 21) // 20 ids + "" for the unreadable one
        XCTAssertEqual(statuses.filter { $0 == .badRequest }.count, 1)
    }

    func testShutdownAnswersEveryRequestInFlightAndExitsZero() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let worker = try start(["worker", "--bind", endpoint, "--threads", "1"])
        try waitUntilServing(endpoint)
        let s = try dealer(endpoint)
        let word = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/lines/word-000.png"))
        for i in 0..<60 { try s.send([request("s\(i)") { $0.recognize.image.data = word; $0.recognize.mode = .line }]) }
        Thread.sleep(forTimeInterval: 0.2)
        worker.interrupt() // SIGINT while most requests are still queued
        var answered = 0, ok = 0
        while answered < 60 {
            guard s.waitForInput(milliseconds: 30_000) else { break }
            let reply = try Hwr_V1_Reply(serializedBytes: try XCTUnwrap(try s.receive()).last!)
            answered += 1
            if reply.status == .ok { ok += 1 } else { XCTAssertEqual(reply.status, .shuttingDown) }
        }
        worker.waitUntilExit()
        XCTAssertEqual(answered, 60, "every request got a reply")
        XCTAssertGreaterThan(ok, 0)
        XCTAssertEqual(worker.terminationStatus, 0)
    }

    func testCurveRefusesClientsWithoutTheServerKey() throws {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-keys-\(getpid())").path
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let server = try Curve.keyPair(), client = try Curve.keyPair(), stranger = try Curve.keyPair()
        try server.secretKey.write(toFile: "\(keys)/server", atomically: true, encoding: .utf8)
        try client.publicKey.write(toFile: "\(keys)/allowed", atomically: true, encoding: .utf8)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint, "--curve-secret-key-file", "\(keys)/server", "--curve-allow", "\(keys)/allowed"])
        func secureDealer(_ pair: (publicKey: String, secretKey: String)) throws -> Socket {
            let s = try Socket(context, type: ZMQ_DEALER)
            try s.setOption(ZMQ_CURVE_SERVERKEY, bytes: Array(server.publicKey.utf8))
            try s.setOption(ZMQ_CURVE_PUBLICKEY, bytes: Array(pair.publicKey.utf8))
            try s.setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(pair.secretKey.utf8))
            try s.connect(endpoint)
            return s
        }
        Thread.sleep(forTimeInterval: 1)
        let allowed = try secureDealer(client)
        XCTAssertEqual(try call(allowed, [recognizeK("secure")]).recognize.result.text, "K")
        let refused = try secureDealer(stranger)
        try refused.send([recognizeK("stranger")])
        XCTAssertFalse(refused.waitForInput(milliseconds: 1500), "an unknown client key gets no session")
        let plain = try dealer(endpoint)
        try plain.send([recognizeK("plain")])
        XCTAssertFalse(plain.waitForInput(milliseconds: 1500), "a client without encryption gets no session")
    }
}

/// Limits, isolation of slow requests and the metrics endpoint (issues 10 and 14).
final class WorkerLimitTests: WorkerHarness {
    /// `--max-pixels` is the engine's limit (hwr_engine_options.max_pixels), so it applies to every
    /// format. Needs a libhwr.so that reads max_pixels (1.1.0).
    func testMaxPixelsAppliesToPNGJPEGPGMAndGray8() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint, "--max-pixels", "4096"])
        try waitUntilServing(endpoint)
        let s = try dealer(endpoint)
        let fixtures = "\(Self.root)/Tests/Fixtures/worker"
        // 1600 x 1600 = 2.56 M pixels: more than 4096 even at the smallest decoding scale (1/16 a side).
        let png = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/K-1600.png"))
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/K-1600.jpg"))
        let pgm = Data("P5\n1600 1600\n255\n".utf8) + Self.inked(side: 1600)
        for (name, data) in [("png", png), ("jpeg", jpeg), ("pgm", pgm)] {
            let reply = try call(s, [request(name) { $0.recognize.image.data = data }])
            XCTAssertEqual(reply.status, .imageTooLarge, "\(name): \(reply.message)")
        }
        let gray = try call(s, [request("gray8") {
            $0.recognize.image.encoding = .gray8; $0.recognize.image.width = 100; $0.recognize.image.height = 100
            $0.recognize.image.data = Self.inked(side: 100)
        }])
        XCTAssertEqual(gray.status, .imageTooLarge, "gray8: \(gray.message)")
        XCTAssertEqual(try call(s, [recognizeK("small")]).recognize.result.text, "K", "30 x 34 is within the limit")
        XCTAssertEqual(try call(s, [request("info") { $0.modelInfo = .init() }]).modelInfo.maxPixels, 4096)
    }

    /// White grey pixels, side x side, with a black square in the middle (so that no image is blank).
    static func inked(side: Int) -> Data {
        var pixels = Data(repeating: 255, count: side * side)
        for y in side / 4..<side * 3 / 4 { for x in side * 2 / 5..<side * 3 / 5 { pixels[y * side + x] = 0 } }
        return pixels
    }

    /// Health and ModelInfo are answered at once, and single characters are still recognised, while
    /// slow line requests hold every general recognition thread; past the queued-bytes budget new
    /// recognition requests get OVERLOADED.
    func testSlowRequestsHoldNeitherControlRequestsNorCharacters() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let worker = try start(["worker", "--bind", endpoint, "--threads", "2", "--max-message-bytes", "100000", "--max-queued-bytes", "100000"])
        defer { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } // the slow requests are not waited for
        try waitUntilServing(endpoint)
        let line = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/worker/wide-line.png"))
        let slow = try dealer(endpoint)
        for i in 0..<3 {
            try slow.send([request("slow\(i)") { r in
                r.recognize.image.data = line; r.recognize.mode = .line
                r.recognize.options.pattern = ".{64}.{64}"; r.recognize.options.beamWidth = 1000; r.recognize.options.alternatives = 100
            }])
        }
        // Two requests of 40 KB are held: the third passes the 100,000-byte budget.
        XCTAssertTrue(slow.waitForInput(milliseconds: 2000))
        let third = try Hwr_V1_Reply(serializedBytes: try XCTUnwrap(try slow.receive()).last!)
        XCTAssertEqual(third.requestID, "slow2")
        XCTAssertEqual(third.status, .overloaded, third.message)
        Thread.sleep(forTimeInterval: 0.5)
        let s = try dealer(endpoint)
        var began = Date()
        XCTAssertTrue(try call(s, [request("health") { $0.health = .init() }], timeout: 1000).health.serving)
        XCTAssertEqual(try call(s, [request("info") { $0.modelInfo = .init() }], timeout: 1000).status, .ok)
        XCTAssertLessThan(Date().timeIntervalSince(began), 1.5, "control requests do not wait behind recognition")
        began = Date()
        XCTAssertEqual(try call(s, [recognizeK("k")], timeout: 10_000).recognize.result.text, "K")
        XCTAssertLessThan(Date().timeIntervalSince(began), 10, "a single character does not wait behind slow requests")
    }

    /// A request's deadline_ms (or, when it gives none, --request-timeout-ms) stops a slow
    /// constrained decoding with DEADLINE_EXCEEDED soon after it passes, counted from the receipt;
    /// requests within their deadline are answered as usual.
    func testDeadlinesStopSlowRequests() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint, "--threads", "1", "--request-timeout-ms", "400"])
        try waitUntilServing(endpoint)
        let line = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/worker/wide-line.png"))
        func slow(_ id: String, deadline: UInt32) -> [UInt8] {
            request(id) { r in
                r.deadlineMs = deadline
                r.recognize.image.data = line; r.recognize.mode = .line
                r.recognize.options.pattern = ".{64}.{64}"; r.recognize.options.beamWidth = 1000; r.recognize.options.alternatives = 100
            }
        }
        let s = try dealer(endpoint)
        // Bounds relative to a greedy read of the same line (its forward pass, which a deadline does
        // not cut short), so that a loaded machine slows both alike: without a deadline the
        // decoding takes about 20 of them.
        let started = Date()
        let greedy = try call(s, [request("greedy") { r in
            r.deadlineMs = 20_000 // its own deadline: the worker's 400 ms default is for the slow requests
            r.recognize.image.data = line; r.recognize.mode = .line
            r.recognize.options.charset = "alnum"; r.recognize.options.beamWidth = 1
        }], timeout: 20_000)
        XCTAssertEqual(greedy.status, .ok, greedy.message)
        let forward = Date().timeIntervalSince(started)
        for (id, deadline, bound) in [("own", UInt32(250), 3 * forward + 1.0), ("default", UInt32(0), 3 * forward + 1.5)] {
            let began = Date()
            let reply = try call(s, [slow(id, deadline: deadline)], timeout: 20_000)
            XCTAssertEqual(reply.requestID, id)
            XCTAssertEqual(reply.status, .deadlineExceeded, reply.message)
            XCTAssertLessThan(Date().timeIntervalSince(began), bound, "\(id): answered soon after the deadline")
        }
        // A batch: the images not read in time carry the status, the reply itself is OK.
        let batch = try call(s, [request("batch") { r in
            r.deadlineMs = 300
            r.recognizeBatch.images = [Hwr_V1_Image.with { $0.data = line }, Hwr_V1_Image.with { $0.data = line }]
            r.recognizeBatch.mode = .line
            r.recognizeBatch.options.pattern = ".{64}.{64}"; r.recognizeBatch.options.beamWidth = 1000
        }], timeout: 20_000)
        XCTAssertEqual(batch.status, .ok, batch.message)
        XCTAssertEqual(batch.recognizeBatch.results.map(\.status), [.deadlineExceeded, .deadlineExceeded])
        XCTAssertEqual(try call(s, [request("k") { $0.deadlineMs = 10_000; $0.recognize.image.data = k }]).recognize.result.text, "K")
    }

    /// Routing frames past the envelope limits are dropped, not echoed: the request gets one
    /// BAD_REQUEST reply along the frames kept; a body between --max-message-bytes and the
    /// transport's cap gets IMAGE_TOO_LARGE.
    func testEnvelopeAndMessageSizeLimitsAnswerEveryRequestOnce() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint, "--max-message-bytes", "1000000"])
        try waitUntilServing(endpoint)
        let s = try dealer(endpoint)
        let health = request("h") { $0.health = .init() }
        let many = try call(s, Array(repeating: [UInt8](repeating: 1, count: 8), count: 40) + [health])
        XCTAssertEqual(many.status, .badRequest)
        XCTAssertEqual(many.requestID, "h")
        XCTAssertTrue(many.message.contains("routing frames"), many.message)
        try s.send([[UInt8](repeating: 2, count: 1 << 20), [UInt8](repeating: 3, count: 1 << 20), health])
        XCTAssertTrue(s.waitForInput(milliseconds: 10_000))
        let frames = try XCTUnwrap(try s.receive())
        XCTAssertEqual(frames.count, 1, "oversized routing frames are not echoed")
        XCTAssertEqual(try Hwr_V1_Reply(serializedBytes: frames[0]).status, .badRequest)
        // 4 MB: four times the limit, within the transport's cap (8 times).
        let large = try call(s, [request("large") { $0.recognize.image.data = Data(count: 4_000_000) }])
        XCTAssertEqual(large.status, .imageTooLarge)
        XCTAssertEqual(large.requestID, "large")
        XCTAssertTrue(try call(s, [health]).health.serving, "still serving")
    }

    /// A batch split into engine calls by the pixel budget keeps its results in order.
    func testPixelBudgetSplitsBatchesAndKeepsTheirOrder() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        try start(["worker", "--bind", endpoint, "--pixel-budget", "1"])
        try waitUntilServing(endpoint)
        let s = try dealer(endpoint)
        let batch = try call(s, [request("b") { r in
            for d in [k, Data("x".utf8), k, k] { var i = Hwr_V1_Image(); i.data = d; r.recognizeBatch.images.append(i) }
        }])
        XCTAssertEqual(batch.recognizeBatch.results.map(\.status), [.ok, .decodeFailure, .ok, .ok])
        XCTAssertEqual(batch.recognizeBatch.results.map(\.text), ["K", "", "K", "K"])
    }

    /// The engine's own diagnostics (hwr_set_log_callback) reach the worker's logger, marked as the
    /// engine's, and the engine received the worker's pixel limit.
    func testEngineDiagnosticsGoToTheWorkersLog() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-worker-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let worker = try start(["worker", "--bind", endpoint, "--max-pixels", "1000000", "--log-level", "debug"], log: log)
        try waitUntilServing(endpoint)
        worker.terminate(); worker.waitUntilExit()
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(text.contains("diagnostics=routed"), text)
        XCTAssertTrue(text.split(separator: "\n").contains { $0.contains("[engine]") && $0.contains("max_pixels=1000000") }, text)
    }

    /// The pixel budget bounds the memory of a batch of images that decode to the pixel limit each:
    /// 12 images of 4096 x 4096 (16.7 M pixels, about 16 MiB each in the engine) in one request, with
    /// a budget of two such images per engine call, raise the worker's peak memory by far less than
    /// the 200 MiB that one call with all twelve takes.
    func testPixelBudgetBoundsTheMemoryOfABatchOfLargeImages() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let worker = try start(["worker", "--bind", endpoint, "--threads", "1", "--pixel-budget", "\(2 * 4096 * 4096)"])
        try waitUntilServing(endpoint)
        func peakKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(worker.processIdentifier)/status", encoding: .utf8)
            let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
            return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }
        let s = try dealer(endpoint)
        XCTAssertEqual(try call(s, [recognizeK("warm")]).status, .ok)
        let before = try peakKiB()
        let png = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/Tests/Fixtures/worker/max-4096x4096.png"))
        let batch = try call(s, [request("large") { r in
            for _ in 0..<12 { var i = Hwr_V1_Image(); i.data = png; r.recognizeBatch.images.append(i) }
        }], timeout: 120_000)
        XCTAssertEqual(batch.recognizeBatch.results.count, 12)
        let grown = try peakKiB() - before
        XCTAssertLessThan(grown, 96 << 10, "peak memory grew by \(grown >> 10) MiB")
    }

    /// Request parsing under mutated input (a seeded, deterministic harness): 10,000 requests made
    /// from valid ones by flipping, inserting, deleting and truncating bytes each get exactly one
    /// reply, and the worker keeps serving.
    func testMutatedRequestsGetExactlyOneReplyEach() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let worker = try start(["worker", "--bind", endpoint, "--threads", "1"])
        try waitUntilServing(endpoint)
        let seeds = [
            request("h") { $0.health = .init() },
            request("i") { $0.modelInfo = .init() },
            request("k") { $0.recognize.image.data = k; $0.recognize.options.topK = 3; $0.recognize.options.charset = "letters" },
            request("b") { r in for _ in 0..<2 { var i = Hwr_V1_Image(); i.data = k; r.recognizeBatch.images.append(i) } },
            request("g") { $0.recognize.image.encoding = .gray8; $0.recognize.image.width = 8; $0.recognize.image.height = 8
                           $0.recognize.image.data = Data(repeating: 200, count: 64) },
        ]
        var rng = SplitMix64(seed: 14)
        let s = try dealer(endpoint)
        for n in 0..<10_000 {
            var bytes = seeds[n % seeds.count]
            for _ in 0...rng.next(below: 4) {
                let at = rng.next(below: bytes.count + 1)
                switch rng.next(below: 4) {
                case 0 where at < bytes.count: bytes[at] ^= UInt8(1 << rng.next(below: 8))
                case 1: bytes.insert(UInt8(rng.next(below: 256)), at: at)
                case 2 where at < bytes.count: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            XCTAssertNoThrow(try call(s, [bytes], timeout: 20_000), "mutation \(n): \(bytes)")
        }
        XCTAssertFalse(s.waitForInput(milliseconds: 500), "no request was answered twice")
        XCTAssertTrue(worker.isRunning)
        XCTAssertEqual(try call(s, [recognizeK("after")]).recognize.result.text, "K")
    }

    /// The metrics endpoint serves connections concurrently: a client that connects and sends
    /// nothing does not delay another one.
    func testMetricsAnswerWhileAnotherClientSendsNothing() throws {
        let endpoint = "tcp://127.0.0.1:\(freePort())", port = freePort()
        try start(["worker", "--bind", endpoint, "--metrics-port", "\(port)"])
        try waitUntilServing(endpoint)
        let silent = try connectTCP(port)
        defer { close(silent) }
        let began = Date()
        let client = try connectTCP(port)
        defer { close(client) }
        let get = Array("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        XCTAssertEqual(get.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }, get.count)
        var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.") && text.contains(" 200 "), text)
        XCTAssertTrue(text.contains("hwr_requests_total "), text)
        XCTAssertTrue(text.contains("hwr_replies_total{status=\"ok\"}"), text)
        XCTAssertTrue(text.contains("hwr_request_latency_seconds{quantile=\"0.99\"}"), text)
        XCTAssertTrue(text.contains("hwr_uptime_seconds "), text)
        XCTAssertLessThan(Date().timeIntervalSince(began), 2, "answered promptly")
    }

    /// A TCP connection to 127.0.0.1:port whose reads time out after 5 s.
    func connectTCP(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }
}

/// CURVE settings that would weaken security are refused before a worker starts.
final class CurveConfigTests: XCTestCase {
    func testAnAllowListNeedsAKeyAndAtLeastOneClient() throws {
        let server = try Curve.keyPair(), client = try Curve.keyPair()
        var config = WorkerConfig(topology: .bind("tcp://127.0.0.1:1"))
        XCTAssertNoThrow(try config.validate(), "no security at all is allowed")
        config.curveAllowedClients = [client.publicKey]
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("in the clear"), "\($0)") }
        config.curveSecretKey = server.secretKey
        XCTAssertNoThrow(try config.validate())
        config.curveAllowedClients = []
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        config.curveAllowedClients = ["not a key"]
        XCTAssertThrowsError(try config.validate())
        config.curveAllowedClients = nil
        XCTAssertNoThrow(try config.validate(), "a key without a list admits any client that knows the server key")
    }

    func testTheSecretKeyFileIsNeverReadableByOthers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: path + ".pub") }
        let previous = umask(0) // even with a permissive umask
        defer { umask(previous) }
        let pair = try Curve.writeKeyPair(to: path)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), pair.secretKey + "\n")
        XCTAssertEqual(try Curve.publicKey(ofSecret: pair.secretKey), pair.publicKey)
        XCTAssertThrowsError(try Curve.writeKeyPair(to: path), "an existing key is never overwritten")
    }
}

/// A small seeded random generator (SplitMix64), so that every run mutates the same way.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(1, bound)))
    }
}

/// No reply arrived in time.
struct NoReply: Error {
    let timeout: Int32
}
