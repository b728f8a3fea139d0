import Foundation
import HWRKernels
import HWRModel

/// Settings of a training run (all saved with checkpoints).
public struct TrainingConfig: TrainingSchedule, Sendable {
    /// Most epochs to run.
    public var epochs = 20
    /// Images per step.
    public var batchSize = 128
    /// Peak learning rate.
    public var learningRate: Float = 2e-3
    /// Final learning rate as a fraction of the peak (cosine decay).
    public var finalLearningRateFraction: Float = 0.02
    /// Linear warm-up steps.
    public var warmupSteps = 300
    /// Stop after this many epochs without a better validation balanced accuracy.
    public var patience = 4
    /// Seed of initialisation, sampling, augmentation and dropout.
    public var seed: UInt64 = 42
    /// Images drawn per class per epoch (class-balanced sampling with replacement across epochs).
    public var samplesPerClass = 2000
    /// Whether to distort images as they are fed.
    public var augment = true
    /// Gradient clipping by global norm.
    public var clipNorm: Float = 5
    /// Threads: each batch is split into this many shards, run concurrently by network replicas with
    /// single-threaded matrix products, and their gradients summed (batch norm then normalises each
    /// shard with its own statistics).
    public var threads = 2

    /// Defaults.
    public init() {}
}

/// What happened in one epoch.
public struct EpochRecord: Codable, Sendable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss and accuracy (on augmented images, dropout on).
    public var trainLoss: Double, trainAccuracy: Double
    /// Validation top-1, balanced accuracy, digits and letters accuracy.
    public var validationTop1: Double, validationBalanced: Double, validationDigits: Double, validationLetters: Double
    /// Learning rate at the end of the epoch.
    public var learningRate: Double
    /// Training throughput.
    public var imagesPerSecond: Double
    /// Wall time of the epoch, validation included.
    public var seconds: Double
}

/// Trains a character model with class-balanced sampling, augmentation, Adam, a cosine schedule,
/// validation every epoch, early stopping, and checkpoints in an output directory:
/// `checkpoint.hwrm` + `checkpoint.state` (latest, for resuming), `best.hwrm` (best validation).
public final class Trainer {
    /// The model being trained (its parameters change in place).
    public var model: Model { loop.model }
    /// Settings.
    public var config: TrainingConfig { loop.config }
    /// Epoch summaries so far.
    public var history: [EpochRecord] { loop.history }
    let train: CharacterDataset, validation: CharacterDataset
    let loop: TrainingRun<TrainingConfig, EpochRecord>

    /// Starts a run, or resumes it when `output` holds a checkpoint and `resume` is set (the saved
    /// settings are kept, except the epoch count, which `config` may raise).
    /// - Throws: `ModelError` or `DataError` if a checkpoint cannot be read.
    public init(model: Model, config: TrainingConfig, train: CharacterDataset, validation: CharacterDataset,
                output: String, resume: Bool) throws {
        self.train = train; self.validation = validation
        loop = try TrainingRun(model: model, config: config, output: output, resume: resume, higherIsBetter: true)
    }

    /// Runs epochs until `config.epochs` or early stopping.
    /// - Parameter stoppingAfterEpoch: end this run after that epoch even if more remain, leaving a
    ///   checkpoint to resume from (for time-boxed sessions).
    /// - Returns: the best model so far (by validation balanced accuracy).
    public func run(progress: ProgressBar, stoppingAfterEpoch: Int? = nil) throws -> Model {
        let model = loop.model, config = loop.config
        let side = train.side, n = side * side, k = model.charset.count, batch = config.batchSize
        let replicas = Replicas(model: model, threads: config.threads, batchSize: batch)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: batch * n)
        let clean = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        let dLogits = UnsafeMutablePointer<Float>.allocate(capacity: batch * k)
        defer { input.deallocate(); clean.deallocate(); labels.deallocate(); dLogits.deallocate() }
        var byClass = [[Int]](repeating: [], count: k)
        for i in 0..<train.count { byClass[Int(train.labels[i])].append(i) }
        let present = byClass.filter { !$0.isEmpty }.count
        let stepsPerEpoch = present * config.samplesPerClass / batch
        let totalSteps = stepsPerEpoch * config.epochs
        let augmenter = Augmenter()

        return try loop.run(progress: progress, stoppingAfterEpoch: stoppingAfterEpoch, scoreName: "balanced accuracy") { epoch in
            let started = Date()
            var random = SeededGenerator(seed: config.seed &* 1_000_003 &+ UInt64(epoch))
            replicas.reseed(seed: config.seed, epoch: epoch)
            var order: [Int] = []
            for members in byClass where !members.isEmpty {
                for _ in 0..<config.samplesPerClass { order.append(members[Int(random.next() % UInt64(members.count))]) }
            }
            order.shuffle(using: &random)
            var lossSum = 0.0, hits = 0, seen = 0
            var lr: Float = 0
            for s in 0..<stepsPerEpoch {
                for j in 0..<batch {
                    let i = order[s * batch + j]
                    labels[j] = train.labels[i]
                    if config.augment {
                        train.image(i, into: clean)
                        augmenter.apply(input + j * n, clean, side: side, random: &random)
                    } else {
                        train.image(i, into: input + j * n)
                    }
                }
                // Each shard forward and backward on its own replica; the gradient of the batch mean
                // is the sum of the shards' gradients, each scaled by its share of the batch.
                let summed = replicas.step { i, network, gradients in
                    let shard = replicas.rows(ofShard: i, batch: batch)
                    let lo = shard.lowerBound, rows = shard.count
                    let (logits, _) = network.forward(input + lo * n, batch: rows, width: side, mode: .training)
                    var correct = 0
                    for j in 0..<rows {
                        let row = logits + j * k
                        var best = 0
                        for c in 1..<k where row[c] > row[best] { best = c }
                        if best == Int(labels[lo + j]) { correct += 1 }
                    }
                    let d = dLogits + lo * k
                    let loss = softmaxCrossEntropy(dLogits: d, logits: logits, labels: labels + lo, rows: rows, cols: k)
                    let share = Float(rows) / Float(batch)
                    for e in 0..<(rows * k) { d[e] *= share }
                    network.backward(d, batch: rows, gradients: gradients)
                    return (Double(loss) * Double(rows), correct)
                }
                lossSum += summed.loss; hits += summed.count
                seen += batch
                lr = learningRate(step: loop.adam.step, peak: config.learningRate, warmupSteps: config.warmupSteps,
                                  totalSteps: totalSteps, final: config.finalLearningRateFraction)
                loop.adam.update(parameters: model.parameters.buffer.pointer, gradients: summed.gradients,
                            learningRate: lr, clipNorm: config.clipNorm)
                progress.update(epoch: epoch + 1, done: s + 1, total: stepsPerEpoch, loss: lossSum / Double(seen),
                                accuracy: Double(hits) / Double(seen), imagesPerSecond: Double(seen) / Date().timeIntervalSince(started))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            let metrics = Evaluator.evaluate(model: model, data: validation)
            let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(seen), trainAccuracy: Double(hits) / Double(seen),
                                     validationTop1: metrics.top1, validationBalanced: metrics.balancedAccuracy,
                                     validationDigits: metrics.mnistAccuracy,
                                     validationLetters: metrics.letterAccuracy, learningRate: Double(lr),
                                     imagesPerSecond: Double(seen) / trainSeconds, seconds: Date().timeIntervalSince(started))
            progress.log(String(format: "epoch %d: loss %.4f train %.2f%% | val top-1 %.2f%% balanced %.2f%% mnist %.2f%% letters %.2f%% | lr %.2e | %.0f img/s | %.0f s",
                                record.epoch, record.trainLoss, record.trainAccuracy * 100, record.validationTop1 * 100,
                                record.validationBalanced * 100, record.validationDigits * 100, record.validationLetters * 100,
                                record.learningRate, record.imagesPerSecond, record.seconds))
            return (record, metrics.balancedAccuracy)
        } report: { history in
            try Report.write(history: history, to: self.loop.output)
        }
    }
}
