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
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Only run measurements whose name starts with this (for profiling), e.g. char_b1_t1.") var only: String?
    @Option(help: "Thread counts to measure.") var threads: [Int] = [1, 2]

    func run() throws {
        var recognizer = try models.recognizer(threads: 1)
        let char = try GrayImage(contentsOfFile: charImage)
        let word = try GrayImage(contentsOfFile: wordImage)
        let textLine = try GrayImage(contentsOfFile: textLineImage)
        let charFlops = Double(try recognizer.model.architecture.flops(width: 28))
        var results: [String: Double] = ["rss_mb": residentMegabytes(), "char_mflop_per_image": charFlops / 1e6]
        func wanted(_ name: String) -> Bool { only.map { name.hasPrefix($0) } ?? true }
        for threads in threads {
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
            for (name, loaded, image, charset) in [("line", recognizer.lineModel != nil, word, "alnum"), ("text_line", recognizer.textModel != nil, textLine, "text")] where loaded {
                var options = TextOptions()
                options.charset = charset
                if wanted("\(name)_b1_t\(threads)") {
                    let line = try measure { _ = try recognizer.recognizeLines([image], options: options) }
                    results["\(name)_b1_t\(threads)_ms"] = line.median * 1000
                    results["\(name)_b1_t\(threads)_p99_ms"] = line.p99 * 1000
                }
                if wanted("\(name)_b32_t\(threads)") {
                    let t = try measure { _ = try recognizer.recognizeLines([GrayImage](repeating: image, count: 32), options: options) }
                    results["\(name)_b32_t\(threads)_\(name == "line" ? "words" : "lines")_per_s"] = 32 / t.median
                }
            }
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
