import Foundation
import HWRDecoding
import HWRKernels
import HWRModel

/// Settings of a line-model training run.
public struct LineTrainingConfig: Codable, Sendable {
    /// Epochs (each `stepsPerEpoch` batches of fresh synthetic lines and real words).
    public var epochs = 12
    /// Batches per epoch.
    public var stepsPerEpoch = 400
    /// Lines per batch.
    public var batchSize = 32
    /// Peak learning rate (cosine decay to 2% of it, after a warm-up).
    public var learningRate: Float = 1.5e-3
    /// Warm-up steps.
    public var warmupSteps = 300
    /// Share of batches made of real handwritten words (the rest are composed lines).
    public var realWordShare: Float = 0.25
    /// Longest composed line, in characters.
    public var maximumLength = 12
    /// Epochs without a lower validation CER before stopping.
    public var patience = 3
    /// Seed.
    public var seed: UInt64 = 7
    /// Gradient clipping by global norm.
    public var clipNorm: Float = 5
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
    /// Greedy CER on the synthetic validation lines (unseen writers) and on the real validation words.
    public var syntheticCER: Double, wordsCER: Double
    /// Lines per second of training.
    public var linesPerSecond: Double
    /// Wall time, validation included.
    public var seconds: Double
}

/// Runs a line (CTC) model over samples and decodes them greedily.
public enum LineEvaluator {
    /// Per-step probabilities of each sample (batch of one each, so no padding affects the result).
    public static func posteriors(model: Model, samples: [LineSample]) -> [CTCPosteriors] {
        let network = model.makeNetwork()
        let classes = model.architecture.classes
        return samples.map { s in
            let (logits, shape) = network.forward(s.pixels, batch: 1, width: s.width, mode: .inference)
            guard case let .sequence(steps, _) = shape else { return CTCPosteriors(steps: 0, classes: classes, probabilities: []) }
            var p = [Float](repeating: 0, count: steps * classes)
            softmaxRows(&p, logits, rows: steps, cols: classes)
            return CTCPosteriors(steps: steps, classes: classes, probabilities: p)
        }
    }

    /// Greedy CER/WER of a model on samples.
    public static func evaluate(model: Model, samples: [LineSample]) -> TranscriptionMetrics {
        let hypotheses = posteriors(model: model, samples: samples).map { CTCDecoder.greedy($0, charset: model.charset).text }
        return TranscriptionMetrics(references: samples.map(\.text), hypotheses: hypotheses)
    }
}

/// Trains a line model with the CTC loss on composed lines and real words.
public final class LineTrainer {
    /// The model (parameters change in place).
    public private(set) var model: Model
    /// Settings.
    public let config: LineTrainingConfig
    /// Epoch summaries.
    public private(set) var history: [LineEpochRecord] = []
    let composer: LineComposer
    let realWords: [LineSample]
    let syntheticValidation: [LineSample], wordValidation: [LineSample]
    let output: String
    var adam: Adam
    var epoch = 0, bestCER = Double.infinity, bestEpoch = 0

    /// Starts or resumes (when `resume` and a checkpoint exists in `output`) a run.
    /// - Throws: `ModelError`/`DataError` for unreadable checkpoints.
    public init(model: Model, config: LineTrainingConfig, composer: LineComposer, realWords: [LineSample],
                syntheticValidation: [LineSample], wordValidation: [LineSample], output: String, resume: Bool) throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var model = model, config = config
        var adam = Adam(layout: model.parameters.layout)
        if resume, FileManager.default.fileExists(atPath: "\(output)/checkpoint.state") {
            model = try Model.load(path: "\(output)/checkpoint.hwrm")
            let state = try TrainerState<LineTrainingConfig, LineEpochRecord>.read("\(output)/checkpoint.state", adam: &adam)
            let epochs = config.epochs
            config = state.config
            config.epochs = epochs
            epoch = state.epoch; bestCER = state.best; bestEpoch = state.bestEpoch; history = state.history
        }
        self.model = model; self.config = config; self.adam = adam
        self.composer = composer; self.realWords = realWords
        self.syntheticValidation = syntheticValidation; self.wordValidation = wordValidation; self.output = output
    }

    /// Trains until `config.epochs`, early stopping, or `stoppingAfterEpoch`.
    /// - Returns: the model with the lowest synthetic validation CER.
    public func run(progress: ProgressBar, stoppingAfterEpoch: Int? = nil) throws -> Model {
        let replicas = Replicas(model: model, threads: config.threads, batchSize: config.batchSize)
        let classes = model.architecture.classes, height = model.architecture.inputHeight
        let totalSteps = config.epochs * config.stepsPerEpoch
        while epoch < config.epochs {
            let started = Date()
            var random = SeededGenerator(seed: config.seed &* 7_919 &+ UInt64(epoch))
            replicas.reseed(seed: config.seed, epoch: epoch)
            var lossSum = 0.0, lines = 0
            for step in 0..<config.stepsPerEpoch {
                // One batch of similar widths: real words, or composed lines of one length.
                var batch: [LineSample] = []
                if !realWords.isEmpty && random.nextUniform() < config.realWordShare {
                    for _ in 0..<config.batchSize { batch.append(realWords[Int(random.next() % UInt64(realWords.count))]) }
                } else {
                    let length = 1 + Int(random.next() % UInt64(config.maximumLength))
                    while batch.count < config.batchSize {
                        if let s = try? composer.compose(composer.randomText(length: length, random: &random), random: &random) { batch.append(s) }
                    }
                }
                // Each shard (padded to its own widest line) forward and backward on its own replica;
                // the CTC gradients are scaled by 1/batch, so the shards' gradients sum to the batch mean's.
                let b = batch.count
                let summed = replicas.step { i, network, gradients in
                    let part = batch[replicas.rows(ofShard: i, batch: b)]
                    let width = part.map(\.width).max()!, rows = part.count
                    var input = [Float](repeating: 0, count: rows * height * width)
                    for (j, s) in part.enumerated() {
                        for y in 0..<height { for x in 0..<s.width { input[(j * height + y) * width + x] = s.pixels[y * s.width + x] } }
                    }
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
                let lr = learningRate(step: adam.step, peak: config.learningRate, warmupSteps: config.warmupSteps,
                                      totalSteps: totalSteps, final: 0.02)
                adam.update(parameters: model.parameters.buffer.pointer, gradients: summed.gradients, learningRate: lr, clipNorm: config.clipNorm)
                progress.update(epoch: epoch + 1, done: step + 1, total: config.stepsPerEpoch, loss: lossSum / Double(max(1, lines)),
                                accuracy: 0, imagesPerSecond: Double((step + 1) * config.batchSize) / Date().timeIntervalSince(started))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            let synthetic = LineEvaluator.evaluate(model: model, samples: syntheticValidation)
            let words = LineEvaluator.evaluate(model: model, samples: wordValidation)
            epoch += 1
            let record = LineEpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(1, lines)),
                                         syntheticCER: synthetic.characterErrorRate, wordsCER: words.characterErrorRate,
                                         linesPerSecond: Double(config.stepsPerEpoch * config.batchSize) / trainSeconds,
                                         seconds: Date().timeIntervalSince(started))
            history.append(record)
            progress.log(String(format: "epoch %d: CTC loss %.4f | val CER synthetic %.2f%% (lines exact %.1f%%), words %.2f%% | %.1f lines/s | %.0f s",
                                epoch, record.trainLoss, synthetic.characterErrorRate * 100, synthetic.lineAccuracy * 100,
                                words.characterErrorRate * 100, record.linesPerSecond, record.seconds))
            let score = synthetic.characterErrorRate + words.characterErrorRate
            if score < bestCER {
                bestCER = score; bestEpoch = epoch
                try model.write(to: "\(output)/best.hwrm")
            }
            try model.write(to: "\(output)/checkpoint.hwrm")
            try TrainerState(config: config, epoch: epoch, best: bestCER, bestEpoch: bestEpoch, history: history,
                             adamStep: adam.step).write("\(output)/checkpoint.state", adam: adam)
            if epoch - bestEpoch >= config.patience {
                progress.log("early stop: no lower validation CER for \(config.patience) epochs (best epoch \(bestEpoch))")
                break
            }
            if let stop = stoppingAfterEpoch, epoch >= stop { break }
        }
        return try Model.load(path: "\(output)/best.hwrm")
    }
}
