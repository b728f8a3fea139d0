import Foundation
import HWRDecoding
import HWRImage
import HWRModel
import HWRWorker
import XCTest

/// Fuzz targets: deterministic random-input testing of what untrusted bytes reach. Each target
/// mutates its seed corpus (`Tests/Fixtures/fuzz/<target>/`, plus seeds made here) with a seeded
/// generator (bit flips, random and boundary bytes, inserted, deleted and repeated runs, splices,
/// truncations) and runs each input through the code under test. A crash fails the run (the test
/// process dies); an input that runs longer than `hangSeconds` aborts it after writing the input to
/// `$TMPDIR/hwr-fuzz-hang-<target>`. Without `HWR_FUZZ_SECONDS` each target runs its seeds and
/// 300 mutations (a quick regression check); with it, mutations for that many seconds per target
/// (CI: 60). Each target prints its executions.
final class FuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    /// An input running longer than this is a hang.
    static let hangSeconds = 30.0

    /// Image decoding: every encoded format and the character normaliser behind it.
    func testImageDecoding() throws {
        let normalizer = CharacterNormalizer(size: 28, box: 20)
        var scratch = NormalizerScratch()
        var input = [Float](repeating: 0, count: 28 * 28)
        try fuzz("image") { bytes in
            guard let image = try? GrayImage(encoded: Data(bytes), maximumPixels: 1 << 20) else { return }
            try? input.withUnsafeMutableBufferPointer { try normalizer.normalize(image, into: $0.baseAddress!, scratch: &scratch) }
        }
    }

    /// Model loading: mutated model files with their checksum made valid again (what a crafted file
    /// does); a file that loads must run a forward pass with finite outputs.
    func testModelLoading() throws {
        let metadata = ModelMetadata(name: "fuzz", version: "0", created: "2026-11-30", trainingData: "none")
        let seeds = try [
            Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
                .conv(2), .maxPool, .columnsToSequence, .biLSTM(3, returnSequences: false), .dense(3, relu: false),
            ]), charset: Array("xyz"), preprocessing: .init(kind: "character", size: 8, box: 6), metadata: metadata, seed: 2),
            Model(architecture: Architecture(inputHeight: 8, inputWidth: nil, layers: [
                .conv(2), .maxPool, .maxPoolRows, .columnsToSequence, .biLSTM(3, returnSequences: true), .dense(4, relu: false),
            ]), charset: Array("xyz"), preprocessing: .init(kind: "line", size: 8, box: 6), metadata: metadata, seed: 2),
        ].map { [UInt8](try $0.fileData()) }
        try fuzz("model", extraSeeds: seeds, prepare: { bytes in
            guard bytes.count > 4 else { return bytes }
            let body = bytes.dropLast(4)
            return Array(body) + withUnsafeBytes(of: crc32(body).littleEndian, Array.init)
        }) { bytes in
            guard let model = try? Model(fileData: Data(bytes)) else { return }
            let width = model.architecture.inputWidth ?? ModelLimits.lineCheckWidth
            let pixels = [Float](repeating: 1, count: model.architecture.inputHeight * width)
            let network = model.makeNetwork()
            let (logits, shape) = network.forward(pixels, batch: 1, width: width, mode: .inference)
            for i in 0..<shape.count where !logits[i].isFinite {
                XCTFail("a model that loads gives a non-finite output")
                return
            }
        }
    }

    /// Request parsing: worker request bodies through the worker's service and the engine, as the
    /// worker serves them (control requests answered, recognition requests recognised with a
    /// deadline of 2 s so that no input runs long by design).
    func testRequestParsing() throws {
        let abi = try EngineABI(path: "\(Self.root)/.build/release/libhwr.so")
        let engine = try Engine(abi: abi, threads: 1, maxPixels: 1 << 20)
        var limits = Limits()
        limits.maxBatch = 8
        limits.requestTimeoutMilliseconds = 2000
        let service = Service(engine: engine, limits: limits, stats: Stats())
        try fuzz("request") { bytes in
            let parsed = bytes.withUnsafeBytes { service.parse($0) }
            guard case let .success(request) = parsed else { return }
            if service.control(request) == nil {
                let replies = service.handle([request], received: [DispatchTime.now().uptimeNanoseconds])
                XCTAssertEqual(replies.count, 1)
            }
        }
    }

    /// Constrained decoding: a pattern, lexicon or charset and posteriors from the input, decoded
    /// by CTC beam search and by the sequence decoder. Input: byte 0 the beam width, byte 1 the
    /// alternatives, byte 2 the kind of constraint (pattern, lexicon, words, charset), then the
    /// constraint's text up to a 0 byte (lexicon words one per line), then the posteriors (one byte
    /// per class per step, normalised per step).
    func testConstrainedDecoding() throws {
        let charset = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
        let classes = charset.count + 1
        try fuzz("decoding") { bytes in
            guard bytes.count >= 3 else { return }
            let beam = 1 + Int(bytes[0]) % 64, alternatives = 1 + Int(bytes[1]) % 8, kind = bytes[2] % 4
            let rest = bytes.dropFirst(3)
            let end = rest.firstIndex(of: 0) ?? rest.endIndex
            let text = String(decoding: rest[..<end], as: UTF8.self)
            let weights = Array(rest[min(end + 1, rest.endIndex)...].prefix(classes * 400))
            let steps = weights.count / classes
            guard steps > 0 else { return }
            var probabilities = [Float](repeating: 0, count: steps * classes)
            for t in 0..<steps {
                let row = weights[(t * classes)..<((t + 1) * classes)].map { Float($0) + 0.5 }
                let sum = row.reduce(0, +)
                for k in 0..<classes { probabilities[t * classes + k] = row[k] / sum }
            }
            let words = text.split(separator: "\n").map(String.init)
            guard let constraint = try? DecodingConstraint.make(
                charset: kind == 3 ? text : nil, pattern: kind == 0 ? text : nil, lexicon: kind == 1 || kind == 2 ? words : nil,
                classes: charset.count, classOf: { charset.firstIndex(of: $0) }, lexiconPerWord: kind == 2)
            else { return }
            let posteriors = CTCPosteriors(steps: steps, classes: classes, probabilities: probabilities)
            let deadline = Deadline(milliseconds: 10_000)
            let readings = try CTCDecoder.beamSearch(posteriors, charset: charset, beamWidth: beam, constraint: constraint,
                                                     alternatives: alternatives, deadline: deadline)
            XCTAssertLessThanOrEqual(readings.count, alternatives)
            for r in readings where !(r.probability >= 0 && r.probability <= 1) { XCTFail("probability \(r.probability)") }
            let distributions = (0..<min(steps, 32)).map { t in Array(probabilities[(t * classes)..<(t * classes + charset.count)]) }
            _ = try SequenceDecoder.decode(distributions, charset: charset, constraint: constraint, beamWidth: beam,
                                           alternatives: alternatives, deadline: deadline)
        }
    }

    // MARK: - The harness

    /// Runs `body` on every seed of `Tests/Fixtures/fuzz/<target>/` and `extraSeeds`, then on
    /// mutations of them (each passed through `prepare`), for `HWR_FUZZ_SECONDS` seconds or 300
    /// inputs; prints the executions.
    func fuzz(_ target: String, extraSeeds: [[UInt8]] = [], prepare: ([UInt8]) -> [UInt8] = { $0 },
              _ body: ([UInt8]) throws -> Void) throws {
        let folder = "\(Self.root)/Tests/Fixtures/fuzz/\(target)"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder).sorted()) ?? []
        let seeds = try files.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\($0)"))) } + extraSeeds
        XCTAssertFalse(seeds.isEmpty, "\(folder) has no seed")
        let budget = ProcessInfo.processInfo.environment["HWR_FUZZ_SECONDS"].flatMap(Double.init)
        let watchdog = Watchdog(target: target, limit: Self.hangSeconds)
        defer { watchdog.stop() }
        var generator = SeededGenerator(seed: 0x6877_7266_757A_7A00 ^ UInt64(target.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        let started = Date()
        var executions = 0
        func run(_ input: [UInt8]) throws {
            watchdog.begin(input)
            try body(input)
            watchdog.end()
            executions += 1
        }
        for seed in seeds { try run(seed) }
        while budget.map({ Date().timeIntervalSince(started) < $0 }) ?? (executions < seeds.count + 300) {
            try run(prepare(mutate(seeds[Int(generator.next() % UInt64(seeds.count))], seeds: seeds, &generator)))
        }
        let seconds = Date().timeIntervalSince(started)
        print("fuzz \(target): \(executions) executions in \(String(format: "%.1f", seconds)) s (\(seeds.count) seeds)")
    }

    /// One to four random edits of `input`.
    func mutate(_ input: [UInt8], seeds: [[UInt8]], _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(g.next() % UInt64(n)) }
        for _ in 0...below(4) {
            let at = below(bytes.count + 1)
            switch below(8) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: g.next())
            case 2 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = [0, 1, 0x7F, 0x80, 0xFF][below(5)]
            case 3: bytes.insert(contentsOf: (0..<1 + below(16)).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at)
            case 4 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(64)))
            case 5 where !bytes.isEmpty:
                let from = below(bytes.count), count = min(bytes.count - from, 1 + below(64))
                bytes.insert(contentsOf: bytes[from..<(from + count)], at: at)
            case 6:
                let other = seeds[below(seeds.count)]
                let from = below(other.count)
                bytes.replaceSubrange(at..<min(bytes.count, at + 1 + below(64)), with: other[from..<min(other.count, from + 1 + below(256))])
            default: bytes.removeLast(below(bytes.count / 4 + 1))
            }
        }
        return bytes
    }
}

/// Aborts the process when one input runs longer than `limit` seconds, after writing it to
/// `$TMPDIR/hwr-fuzz-hang-<target>`.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var input: [UInt8]?
    private var since = Date()
    private var stopped = false

    init(target: String, limit: Double) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                lock.lock()
                defer { lock.unlock() }
                if stopped { return }
                guard let input, Date().timeIntervalSince(since) > limit else { continue }
                let path = NSTemporaryDirectory() + "hwr-fuzz-hang-\(target)"
                _ = FileManager.default.createFile(atPath: path, contents: Data(input))
                FileHandle.standardError.write(Data("fuzz \(target): an input ran over \(limit) s (a hang); written to \(path)\n".utf8))
                abort()
            }
        }
        thread.start()
    }

    func begin(_ input: [UInt8]) { lock.lock(); self.input = input; since = Date(); lock.unlock() }
    func end() { lock.lock(); input = nil; lock.unlock() }
    func stop() { lock.lock(); stopped = true; lock.unlock() }
}
