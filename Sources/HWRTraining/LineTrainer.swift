import Foundation
import HWRDecoding
import HWRKernels
import HWRModel
import HWRRecognition

/// Settings of a line-model training run.
public struct LineTrainingConfig: TrainingSchedule, Sendable {
    /// Epochs (each `stepsPerEpoch` batches).
    public var epochs = 40
    /// Batches per epoch.
    public var stepsPerEpoch = 500
    /// Lines per batch.
    public var batchSize = 24
    /// Peak learning rate (cosine decay to 2% of it, after a warm-up).
    public var learningRate: Float = 1e-3
    /// Warm-up steps.
    public var warmupSteps = 500
    /// Share of batches drawn from each training pool, by pool name (pools not named get none;
    /// "digit-codes" is the composer of digit strings from real character images).
    public var shares: [String: Float] = ["fonts": 0.28, "composed": 0.22, "real-washington": 0.22, "real-stanford": 0.13,
                                          "ocr-words": 0.05, "digit-codes": 0.1]
    /// Probability that a stored line is distorted (stretch, slant, thickness) as it is fed.
    public var augmentProbability: Float = 0.7
    /// Validation sets whose mean case-insensitive CER selects the best epoch.
    public var selectionSets: [String] = ["stanford", "gw-lines", "val-font", "val-composed"]
    /// Epochs without a lower selection CER before stopping.
    public var patience = 6
    /// Seed.
    public var seed: UInt64 = 7
    /// Gradient clipping by global norm.
    public var clipNorm: Float = 5
    /// Training batches over which the batch-norm running statistics are re-estimated after each
    /// epoch, before validation (`recalibrateBatchNorm`); nil (runs saved before this setting) or 0
    /// keeps the running averages of training.
    public var batchNormRecalibrationBatches: Int? = 200
    /// Share of the recalibration batches drawn from each source, as `shares`; nil: `shares`.
    public var batchNormRecalibrationShares: [String: Float]?
    /// Sources each batch is drawn from (groups of similar widths, interleaved so that every shard
    /// holds lines of each); nil (runs saved before this setting) or 1: one source per batch, whose
    /// batch-norm statistics are then that source's alone.
    public var sourcesPerBatch: Int?
    /// Threads: each batch is split into this many shards run concurrently by network replicas with
    /// single-threaded matrix products (see `TrainingConfig.threads`).
    public var threads = 2

    /// Defaults.
    public init() {}
}

/// What happened in one line-training epoch.
public struct LineEpochRecord: Codable, Sendable {
    /// 1-based epoch.
    public var epoch: Int
    /// Mean CTC loss per line.
    public var trainLoss: Double
    /// Greedy CER by validation set (case-insensitive, and case-sensitive).
    public var cer: [String: Double], cerCaseSensitive: [String: Double]
    /// Greedy WER by validation set (case-insensitive).
    public var wer: [String: Double]
    /// The selection score: mean case-insensitive CER of `LineTrainingConfig.selectionSets`.
    public var score: Double
    /// Lines per second of training.
    public var linesPerSecond: Double
    /// Wall time, validation included.
    public var seconds: Double
}

/// Runs a line (CTC) model over samples and decodes them greedily.
public enum LineEvaluator {
    /// Per-step probabilities of each sample through `LineReader`, the inference path recognition
    /// uses (a batch of one each, so no padding affects the result), on `threads` threads.
    public static func posteriors(model: Model, samples: [LineSample], threads: Int = 2) -> [CTCPosteriors] {
        let reader = LineReader(model)
        var results = [CTCPosteriors](repeating: CTCPosteriors(steps: 0, classes: model.architecture.classes, probabilities: []),
                                      count: samples.count)
        results.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: max(1, threads)) { part in
                for i in stride(from: part, to: samples.count, by: max(1, threads)) {
                    out[i] = reader.posteriors(normalized: samples[i].pixels, width: samples[i].width)
                }
            }
        }
        return results
    }

    /// Greedy transcriptions of samples.
    public static func transcribe(model: Model, samples: [LineSample]) -> [String] {
        posteriors(model: model, samples: samples).map { CTCDecoder.greedy($0, charset: model.charset).text }
    }

    /// Greedy CER by set (case-insensitive, and case-sensitive) and case-insensitive WER by set.
    public static func validate(model: Model, sets: [LineSet])
        -> (cer: [String: Double], cerCaseSensitive: [String: Double], wer: [String: Double]) {
        var cer: [String: Double] = [:], cased: [String: Double] = [:], wer: [String: Double] = [:]
        for set in sets {
            let hypotheses = transcribe(model: model, samples: set.samples), references = set.samples.map(\.text)
            let folded = TranscriptionMetrics(references: references, hypotheses: hypotheses, foldingCase: true)
            cer[set.name] = folded.characterErrorRate; wer[set.name] = folded.wordErrorRate
            cased[set.name] = TranscriptionMetrics(references: references, hypotheses: hypotheses).characterErrorRate
        }
        return (cer, cased, wer)
    }

    /// "name CER/WER, ..." (or "name CER, ..." without `wer`) in percent, in the order of `sets`.
    public static func summary(sets: [LineSet], cer: [String: Double], wer: [String: Double]?) -> String {
        sets.map { set in
            let c = (cer[set.name] ?? 0) * 100
            return wer.map { String(format: "%@ %.1f/%.1f", set.name, c, ($0[set.name] ?? 0) * 100) } ?? String(format: "%@ %.1f", set.name, c)
        }.joined(separator: ", ")
    }

    /// Greedy CER/WER of a model on samples.
    public static func evaluate(model: Model, samples: [LineSample], foldingCase: Bool = false) -> TranscriptionMetrics {
        TranscriptionMetrics(references: samples.map(\.text), hypotheses: transcribe(model: model, samples: samples),
                             foldingCase: foldingCase)
    }
}

/// Where training batches come from: named pools of stored lines (distorted as they are fed), and
/// named generators of fresh lines.
public struct LineBatchSources {
    /// Stored lines by pool name, each sorted by width so that a batch has similar widths.
    var pools: [String: [LineSample]]
    /// Generators by name: given a batch size, fresh lines.
    var generators: [String: (Int, inout SeededGenerator) -> [LineSample]]

    /// Creates sources from pools of stored lines and generators.
    public init(pools: [LineSet], generators: [String: (Int, inout SeededGenerator) -> [LineSample]] = [:]) {
        var byName: [String: [LineSample]] = [:]
        for pool in pools { byName[pool.name, default: []] += pool.samples }
        self.pools = byName.mapValues { $0.sorted { $0.width < $1.width } }
        self.generators = generators
    }

    /// Names of every pool and generator.
    public var names: [String] { Array(pools.keys) + Array(generators.keys) }

    /// The name of a source drawn by `shares` (by source name) among the available sources.
    func drawSource(shares: [String: Float], random: inout SeededGenerator) -> String {
        let available = shares.filter { names.contains($0.key) && $0.value > 0 }.sorted { $0.key < $1.key }
        let total = available.reduce(0) { $0 + $1.value }
        var u = random.nextUniform() * total
        for (name, share) in available {
            u -= share
            if u <= 0 { return name }
        }
        return available.last!.key
    }

    /// Re-estimates the batch-norm running statistics of `model` (in place) as the plain average of
    /// the batch statistics of `batches` training batches drawn by `shares` ("precise BN": Wu and
    /// Johnson 2021, "Rethinking 'Batch' in BatchNorm", section 3). Training keeps exponential averages
    /// (momentum 0.9) that mostly reflect the last few batches, each from one source, so they swing
    /// with whichever sources came last; inference reads them.
    /// - Parameter groups: sources per batch, as in training (`mixedBatch`).
    public func recalibrateBatchNorm(_ model: Model, shares: [String: Float], groups: Int = 1, batches: Int, batchSize: Int,
                                     augmentProbability: Float, seed: UInt64) {
        let network = model.makeNetwork(seed: seed), height = model.architecture.inputHeight
        let augmenter = LineAugmenter()
        var random = SeededGenerator(seed: seed &* 104_729 &+ 17)
        var averaged = 0
        for _ in 0..<batches {
            let batch = mixedBatch(shares: shares, groups: groups, size: batchSize, height: height, augmenter: augmenter,
                                   augmentProbability: augmentProbability, random: &random)
            guard !batch.isEmpty else { continue }
            network.runningStatisticsMomentum = Float(averaged) / Float(averaged + 1)
            averaged += 1
            let (input, width) = Self.paddedInput(batch[...], height: height)
            _ = network.forward(input, batch: batch.count, width: width, mode: .training, widths: batch.map(\.width))
        }
    }

    /// A batch of `size` lines from `groups` sources drawn by `shares` (`batch(from:)` for each group),
    /// interleaved line by line, so that any contiguous shard of it holds lines of every group.
    public func mixedBatch(shares: [String: Float], groups: Int, size: Int, height: Int, augmenter: LineAugmenter,
                    augmentProbability: Float, random: inout SeededGenerator) -> [LineSample] {
        let count = max(1, min(groups, size))
        let parts = (0..<count).map { g in
            batch(from: drawSource(shares: shares, random: &random), size: (g + 1) * size / count - g * size / count,
                  height: height, augmenter: augmenter, augmentProbability: augmentProbability, random: &random)
        }
        guard count > 1 else { return parts[0] }
        return (0..<(parts.map(\.count).max() ?? 0)).flatMap { i in parts.compactMap { i < $0.count ? $0[i] : nil } }
    }

    /// A batch as one input tensor [lines, height, width], each line padded with zeros to the widest.
    static func paddedInput(_ lines: ArraySlice<LineSample>, height: Int) -> (input: [Float], width: Int) {
        let width = lines.map(\.width).max() ?? 1
        var input = [Float](repeating: 0, count: lines.count * height * width)
        for (j, s) in lines.enumerated() {
            for y in 0..<height { for x in 0..<s.width { input[(j * height + y) * width + x] = s.pixels[y * s.width + x] } }
        }
        return (input, width)
    }

    /// One batch from the source `name`: lines of similar widths from a stored pool (a random window
    /// of the width-sorted pool), distorted with probability `augmentProbability`, or a generator's.
    public func batch(from name: String, size: Int, height: Int, augmenter: LineAugmenter, augmentProbability: Float,
               random: inout SeededGenerator) -> [LineSample] {
        if let generate = generators[name] { return generate(size, &random) }
        guard let pool = pools[name], !pool.isEmpty else { return [] }
        let window = min(pool.count, size * 4)
        let start = Int(random.next() % UInt64(pool.count - window + 1))
        return (0..<size).map { _ in
            let s = pool[start + Int(random.next() % UInt64(window))]
            return random.nextUniform() < augmentProbability ? augmenter.apply(s, height: height, random: &random) : s
        }
    }
}

/// Trains a line model with the CTC loss on batches from named sources, validated on named sets.
public final class LineTrainer {
    /// The model (parameters change in place).
    public var model: Model { loop.model }
    /// Settings.
    public var config: LineTrainingConfig { loop.config }
    /// Epoch summaries.
    public var history: [LineEpochRecord] { loop.history }
    let sources: LineBatchSources
    let validation: [LineSet]
    let loop: TrainingRun<LineTrainingConfig, LineEpochRecord>

    /// Starts or resumes (when `resume` and a checkpoint exists in `output`) a run.
    /// - Throws: `ModelError`/`DataError` for unreadable checkpoints.
    public init(model: Model, config: LineTrainingConfig, sources: LineBatchSources, validation: [LineSet],
                output: String, resume: Bool) throws {
        self.sources = sources; self.validation = validation
        loop = try TrainingRun(model: model, config: config, output: output, resume: resume, higherIsBetter: false)
    }

    /// Trains until `config.epochs`, early stopping, or `stoppingAfterEpoch`.
    /// - Returns: the model with the lowest selection score.
    public func run(progress: ProgressBar, stoppingAfterEpoch: Int? = nil) throws -> Model {
        let model = loop.model, config = loop.config
        let replicas = Replicas(model: model, threads: config.threads, batchSize: config.batchSize)
        let classes = model.architecture.classes, height = model.architecture.inputHeight
        let totalSteps = config.epochs * config.stepsPerEpoch
        let augmenter = LineAugmenter()
        return try loop.run(progress: progress, stoppingAfterEpoch: stoppingAfterEpoch, scoreName: "validation CER") { epoch in
            let started = Date()
            var random = SeededGenerator(seed: config.seed &* 7_919 &+ UInt64(epoch))
            replicas.reseed(seed: config.seed, epoch: epoch)
            var lossSum = 0.0, lines = 0
            for step in 0..<config.stepsPerEpoch {
                let batch = sources.mixedBatch(shares: config.shares, groups: config.sourcesPerBatch ?? 1, size: config.batchSize,
                                               height: height, augmenter: augmenter,
                                               augmentProbability: config.augmentProbability, random: &random)
                guard !batch.isEmpty else { continue }
                // Each shard (padded to its own widest line) forward and backward on its own replica;
                // the CTC gradients are scaled by 1/batch, so the shards' gradients sum to the batch mean's.
                let b = batch.count
                let summed = replicas.step { i, network, gradients in
                    let part = batch[replicas.rows(ofShard: i, batch: b)], rows = part.count
                    let (input, width) = LineBatchSources.paddedInput(part, height: height)
                    let (logits, shape) = network.forward(input, batch: rows, width: width, mode: .training, widths: part.map(\.width))
                    guard case let .sequence(steps, _) = shape else { fatalError("a line model outputs a sequence") }
                    var dLogits = [Float](repeating: 0, count: steps * rows * classes)
                    var loss = 0.0, counted = 0
                    for (j, s) in part.enumerated() {
                        let own = Network.steps(ofWidth: s.width, steps: steps, width: width)
                        let l = ctcLoss(dLogits: &dLogits[j * classes], logits: logits + j * classes, label: s.label,
                                        steps: own, classes: classes, rowStride: rows * classes, scale: 1 / Float(b))
                        if l.isFinite { loss += Double(l); counted += 1 }
                    }
                    network.backward(&dLogits, batch: rows, gradients: gradients)
                    return (loss, counted)
                }
                lossSum += summed.loss; lines += summed.count
                let lr = learningRate(step: loop.adam.step, peak: config.learningRate, warmupSteps: config.warmupSteps,
                                      totalSteps: totalSteps, final: 0.02)
                loop.adam.update(parameters: model.parameters.buffer.pointer, gradients: summed.gradients, learningRate: lr, clipNorm: config.clipNorm)
                progress.update(epoch: epoch + 1, done: step + 1, total: config.stepsPerEpoch, loss: lossSum / Double(max(1, lines)),
                                accuracy: 0, imagesPerSecond: Double(lines) / Date().timeIntervalSince(started))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            if let batches = config.batchNormRecalibrationBatches, batches > 0 {
                sources.recalibrateBatchNorm(model, shares: config.batchNormRecalibrationShares ?? config.shares,
                                             groups: config.sourcesPerBatch ?? 1, batches: batches,
                                             batchSize: config.batchSize, augmentProbability: config.augmentProbability,
                                             seed: config.seed &+ UInt64(epoch))
            }
            let (cer, cerCased, wer) = LineEvaluator.validate(model: model, sets: validation)
            let selected = config.selectionSets.compactMap { cer[$0] }
            let score = selected.isEmpty ? lossSum / Double(max(1, lines)) : selected.reduce(0, +) / Double(selected.count)
            let record = LineEpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(1, lines)), cer: cer, cerCaseSensitive: cerCased,
                                         wer: wer, score: score, linesPerSecond: Double(lines) / trainSeconds,
                                         seconds: Date().timeIntervalSince(started))
            let bySet = LineEvaluator.summary(sets: self.validation, cer: cer, wer: wer)
            progress.log(String(format: "epoch %d: CTC loss %.4f | score %.2f%% | CER/WER %% (case-insensitive): %@ | %.1f lines/s | %.0f s",
                                record.epoch, record.trainLoss, score * 100, bySet, record.linesPerSecond, record.seconds))
            return (record, score)
        } report: { history in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(history).write(to: URL(fileURLWithPath: "\(self.loop.output)/history.json"))
        }
    }
}
