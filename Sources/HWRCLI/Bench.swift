import ArgumentParser
import Foundation
import HWRImage
import HWRRecognition

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure recognition speed: latency percentiles at batch 1 and throughput at larger batches, per thread count.",
        discussion: "Times start from decoded pixels (preprocessing included). Run on an idle machine; numbers vary with load.")

    @OptionGroup var models: ModelOptions
    @Option(help: "Image of one character (default: the fixture K).") var charImage = "Tests/Fixtures/formats/K-grey-background.png"
    @Option(help: "Image of a word (default: a fixture word).") var wordImage = "Tests/Fixtures/lines/word-000.png"
    @Option(help: "Image of a real handwritten line of about 40 characters (default: a 38-character fixture Stanford line).") var textLineImage = "Tests/Fixtures/text-lines/stanford-007.png"
    @Option(help: "A 6-line note, 1600x1200 JPEG, timed from its encoded bytes (page mode).") var pageImage = "Benchmarks/fixtures/note-6-lines-1600x1200.jpg"
    @Option(help: "int8 character model (hwr quantize) for the char_int8_ keys; skipped when the file is missing.") var int8Model = "models/hwr-char-int8.hwrm"
    @Option(help: "int8 text-line model for the text_line_int8_ and page6_int8_ keys; skipped when the file is missing.") var int8TextModel = "models/hwr-text-int8.hwrm"
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Only run measurements whose name starts with this (for profiling), e.g. char_b1_t1.") var only: String?
    @Option(help: "Thread counts to measure.") var threads: [Int] = [1, 2]

    func run() throws {
        var recognizer = try models.recognizer(threads: 1)
        let char = try GrayImage(contentsOfFile: charImage)
        let word = try GrayImage(contentsOfFile: wordImage)
        let textLine = try GrayImage(contentsOfFile: textLineImage)
        let page = try Data(contentsOf: URL(fileURLWithPath: pageImage))
        let charFlops = Double(try recognizer.model.architecture.flops(width: 28))
        var results: [String: Double] = ["rss_mb": residentMegabytes(), "char_mflop_per_image": charFlops / 1e6]
        let hasInt8 = FileManager.default.fileExists(atPath: int8Model) && FileManager.default.fileExists(atPath: int8TextModel)
        if !hasInt8 {
            FileHandle.standardError.write("no int8 measurements: \(int8Model) or \(int8TextModel) not found (hwr quantize writes them)\n".data(using: .utf8)!)
        }
        for threads in threads {
            if hasInt8 {
                let int8 = try Recognizer(modelPath: int8Model, lineModelPath: nil, textModelPath: int8TextModel, threads: threads)
                guard int8.model.precision == .int8, int8.textModel?.precision == .int8 else {
                    throw ValidationError("--int8-model and --int8-text-model must be int8 models (hwr quantize)")
                }
                try measureText(int8, name: "text_line_int8", page: "page6_int8", threads: threads, line: textLine, pageData: page, into: &results)
                if wanted("char_int8_b1_t\(threads)") {
                    results["char_int8_b1_t\(threads)_ms"] = try measure { _ = try int8.recognize([char]) }.median * 1000
                }
                for batch in [64] where wanted("char_int8_b\(batch)_t\(threads)") {
                    let images = [GrayImage](repeating: char, count: batch)
                    results["char_int8_b\(batch)_t\(threads)_img_per_s"] = Double(batch) / (try measure { _ = try int8.recognize(images) }.median)
                }
                try measureNetwork(int8.characters, name: "char_net_int8", image: char, threads: threads, into: &results)
            }
            recognizer = try models.recognizer(threads: threads)
            if wanted("char_b1_t\(threads)") {
                let latency = try measure { _ = try recognizer.recognize([char]) }
                results["char_b1_t\(threads)_ms"] = latency.median * 1000
                results["char_b1_t\(threads)_p90_ms"] = latency.p90 * 1000
                results["char_b1_t\(threads)_p99_ms"] = latency.p99 * 1000
                results["char_b1_t\(threads)_runs"] = Double(latency.runs)
            }
            if wanted("char_core_b1_t\(threads)") {
                // The allocation-free path: decoded pixels to probabilities in caller memory.
                var probabilities = [Float](repeating: 0, count: recognizer.model.charset.count)
                try probabilities.withUnsafeMutableBufferPointer { out in
                    let latency = try measure { try recognizer.classify(char, into: out) }
                    results["char_core_b1_t\(threads)_ms"] = latency.median * 1000
                    results["char_core_b1_t\(threads)_p99_ms"] = latency.p99 * 1000
                    if threads == 1, let perCall = try allocationsPerCall({ try recognizer.classify(char, into: out) }) {
                        results["char_core_b1_allocations_per_call"] = perCall
                    }
                }
            }
            try measureNetwork(recognizer.characters, name: "char_net", image: char, threads: threads, into: &results)
            if threads == 1, wanted("char_b1_t1"), let perCall = try allocationsPerCall({ _ = try recognizer.recognize([char]) }) {
                results["char_b1_allocations_per_call"] = perCall
            }
            for batch in [8, 64] where wanted("char_b\(batch)_t\(threads)") {
                let images = [GrayImage](repeating: char, count: batch)
                let t = try measure { _ = try recognizer.recognize(images) }
                results["char_b\(batch)_t\(threads)_img_per_s"] = Double(batch) / t.median
                results["char_b\(batch)_t\(threads)_gflop_per_s"] = Double(batch) * charFlops / t.median / 1e9
            }
            // Codes through the line model (charset alnum), free text through the text-line model.
            if recognizer.lineModel != nil {
                try measureLines(recognizer, name: "line", unit: "words", image: word, charset: "alnum", threads: threads, into: &results)
            }
            try measureText(recognizer, name: "text_line", page: "page6", threads: threads, line: textLine, pageData: page, into: &results)
        }
        results["rss_after_mb"] = residentMegabytes()
        if json {
            let body = results.keys.sorted().map { "\"\($0)\": \(String(format: "%.4f", results[$0]!))" }.joined(separator: ", ")
            print("{\(body)}")
        } else {
            for key in results.keys.sorted() { print(key.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%12.3f", results[key]!)) }
        }
    }

    struct Timing { var median: Double; var p90: Double; var p99: Double; var runs: Int }

    func wanted(_ name: String) -> Bool { only.map { name.hasPrefix($0) } ?? true }

    /// The network alone, from normalised 28x28 inputs to probabilities (no preprocessing: what a
    /// bare inference runtime such as TensorFlow Lite times): `<name>_b1_t<threads>_ms` and
    /// `<name>_b64_t<threads>_img_per_s`, the batch split over the threads as `Recognizer` does.
    func measureNetwork(_ classifier: CharacterClassifier, name: String, image: GrayImage, threads: Int,
                        into results: inout [String: Double]) throws {
        let input = try classifier.normalizer.normalize(image)
        for batch in [1, 64] where wanted("\(name)_b\(batch)_t\(threads)") {
            let shard = (batch + threads - 1) / threads, shards = (batch + shard - 1) / shard
            let inputs = [Float]((0..<shard).map { _ in input }.joined())
            let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: batch * classifier.classes)
            defer { probabilities.deallocate() }
            let t = measure {
                DispatchQueue.concurrentPerform(iterations: shards) { i in
                    classifier.classify(normalized: inputs, count: min(shard, batch - i * shard),
                                        into: probabilities + i * shard * classifier.classes)
                }
            }
            results[batch == 1 ? "\(name)_b1_t\(threads)_ms" : "\(name)_b\(batch)_t\(threads)_img_per_s"] =
                batch == 1 ? t.median * 1000 : Double(batch) / t.median
        }
    }

    /// `<name>_b1_t<threads>_ms` (and p99) and `<name>_b32_t<threads>_<unit>_per_s` of one line image.
    func measureLines(_ recognizer: Recognizer, name: String, unit: String, image: GrayImage, charset: String,
                      threads: Int, into results: inout [String: Double]) throws {
        var options = TextOptions()
        options.charset = charset
        if wanted("\(name)_b1_t\(threads)") {
            let line = try measure { _ = try recognizer.recognizeLines([image], options: options) }
            results["\(name)_b1_t\(threads)_ms"] = line.median * 1000
            results["\(name)_b1_t\(threads)_p99_ms"] = line.p99 * 1000
        }
        if wanted("\(name)_b32_t\(threads)") {
            let t = try measure { _ = try recognizer.recognizeLines([GrayImage](repeating: image, count: 32), options: options) }
            results["\(name)_b32_t\(threads)_\(unit)_per_s"] = 32 / t.median
        }
    }

    /// The text-line model's line keys, and `<page>_t<threads>_ms`: a page from its encoded JPEG to
    /// the layout (decoding, preprocessing, line segmentation, reading).
    func measureText(_ recognizer: Recognizer, name: String, page: String, threads: Int, line: GrayImage, pageData: Data,
                     into results: inout [String: Double]) throws {
        guard recognizer.textModel != nil else { return }
        try measureLines(recognizer, name: name, unit: "lines", image: line, charset: "text", threads: threads, into: &results)
        guard wanted("\(page)_t\(threads)") else { return }
        let t = try pageData.withUnsafeBytes { bytes in
            try measure { _ = try recognizer.recognizePage(try recognizer.decode(.encoded(bytes))) }
        }
        results["\(page)_t\(threads)_ms"] = t.median * 1000
    }

    /// Runs `body` for `seconds` after a warm-up and returns percentiles of its wall time.
    func measure(_ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<5 { try body() }
        var samples: [Double] = []
        let start = Date()
        while Date().timeIntervalSince(start) < seconds || samples.count < 10 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        samples.sort()
        func q(_ p: Double) -> Double { samples[min(samples.count - 1, Int(p * Double(samples.count)))] }
        return Timing(median: q(0.5), p90: q(0.9), p99: q(0.99), runs: samples.count)
    }

    /// Allocations per call of `body` once warm, when the allocation counter of
    /// `Benchmarks/malloc_count.c` is preloaded (LD_PRELOAD); nil otherwise.
    func allocationsPerCall(_ body: () throws -> Void) rethrows -> Double? {
        typealias Counter = @convention(c) () -> UInt
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "hwr_bench_allocation_count") else { return nil }
        let count = unsafeBitCast(symbol, to: Counter.self)
        for _ in 0..<10 { try body() }
        let calls = 1_000, before = count()
        for _ in 0..<calls { try body() }
        return Double(count() - before) / Double(calls)
    }

    func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
