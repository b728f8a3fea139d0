import ArgumentParser
import Foundation
import HWRModel
import HWRTraining

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train the character model on the shared corpus.")

    @Option(help: "Corpus folder (mnist/ and chars/ as in ../shared/data).") var data = "../shared/data"
    @Option(help: "Run folder for checkpoints, metrics and plots.") var out = "runs/char"
    @Option(help: "Where to write the final (best) model.") var model = "models/hwr-char.hwrm"
    @Option(help: "Most epochs.") var epochs = 20
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Peak learning rate.") var lr: Float = 2e-3
    @Option(help: "Images drawn per class per epoch.") var samplesPerClass = 2000
    @Option(help: "Epochs without improvement before stopping.") var patience = 4
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Threads: each batch is split over this many network replicas (data parallel).") var threads = 2
    @Option(help: "Use at most this many images per source (smoke runs).") var limit: Int?
    @Flag(help: "Resume from the checkpoint in --out.") var resume = false
    @Option(help: "End this run after that epoch, leaving a checkpoint to --resume from.") var stopAfterEpoch: Int?
    @Flag(help: "No progress bar; one line per epoch.") var quiet = false
    @Flag(help: "Disable augmentation.") var noAugment = false

    func run() throws {
        let progress = ProgressBar(quiet: quiet)
        let started = Date()
        let all = try SharedData(root: data).load(limit: limit)
        let (train, validation) = SharedData.split(all)
        progress.log("loaded \(all.count) images in \(Int(Date().timeIntervalSince(started))) s: \(train.count) train, \(validation.count) validation (writer-disjoint)")
        var config = TrainingConfig()
        config.epochs = epochs; config.batchSize = batch; config.learningRate = lr
        config.samplesPerClass = samplesPerClass; config.patience = patience; config.seed = seed
        config.threads = threads; config.augment = !noAugment
        let metadata = ModelMetadata(name: "hwr-char", version: "1.0.0", created: ISO8601DateFormatter().string(from: Date()),
                                     trainingData: "MNIST train + shared chars (femnist, nist, kaggle_az, tasnim, chars74k, canvas); writer-disjoint 15% validation")
        let initial = try Model(architecture: .classicCharacterCRNN(classes: Charset.alphanumeric.count),
                                charset: Charset.alphanumeric, preprocessing: .mnistCharacter, metadata: metadata, seed: seed)
        let trainer = try Trainer(model: initial, config: config, train: train, validation: validation, output: out, resume: resume)
        let best = try trainer.run(progress: progress, stoppingAfterEpoch: stopAfterEpoch)
        let metrics = Evaluator.evaluate(model: best, data: validation)
        best.metadata.metrics = metrics.asMetadata
        try best.write(to: model)
        try Report.write(metrics: metrics, history: trainer.history, to: out)
        progress.log("best model written to \(model)\n" + metrics.summary)
    }
}
