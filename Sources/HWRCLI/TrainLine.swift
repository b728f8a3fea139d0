import ArgumentParser
import Foundation
import HWRImage
import HWRModel
import HWRTraining

struct TrainLine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-line",
        abstract: "Train the text-line model (CRNN + CTC): real handwritten lines and words, lines rendered from handwriting fonts, lines composed from real characters.")

    @Option(help: "Shared data folder (real-lines/, chars/, mnist/, ocr-words/ as in ../shared/data).") var data = "../shared/data"
    @Option(help: "Generated corpus folder (made by scripts/build-text-corpus.sh), or '' for none.") var corpus = "\(NSHomeDirectory())/hwr-corpus/v1"
    @Option(help: "Run folder for checkpoints and history.") var out = "runs/text-line"
    @Option(help: "Where to write the final (best) model.") var model = "models/hwr-text.hwrm"
    @Option(help: "Most epochs.") var epochs = 40
    @Option(help: "Batches per epoch.") var stepsPerEpoch = 500
    @Option(help: "Lines per batch.") var batch = 24
    @Option(help: "Peak learning rate.") var lr: Float = 1e-3
    @Option(help: "Most lines of each generated or word validation set.") var validationLimit = 500
    @Option(help: "Random seed.") var seed: UInt64 = 7
    @Option(help: "Threads: each batch is split over this many network replicas (data parallel).") var threads = 2
    @Flag(help: "Resume from the checkpoint in --out.") var resume = false
    @Option(help: "Start from this model's weights instead of a fresh initialisation: every layer with the same shape.") var initialize: String?
    @Option(help: "Epochs without a lower validation CER before stopping.") var patience = 6
    @Option(help: "End this run after that epoch, leaving a checkpoint to --resume from.") var stopAfterEpoch: Int?
    @Flag(help: "No progress bar; one line per epoch.") var quiet = false
    @Option(help: "Write a PNG sheet of training batches (as the network sees them) to this file, then exit.") var dumpSamples: String?
    @Option(parsing: .upToNextOption, help: "Re-estimate this model's batch-norm statistics over training batches (precise BN), validate it, write it to --model, then exit. Several checkpoints of one run: their weights are averaged first (stochastic weight averaging).") var recalibrate: [String] = []
    @Option(help: "Share of the training batches drawn from each source, as name=share,... (default: \(LineTrainingConfig().shares.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))).") var shares: String?
    @Option(help: "Sources of the batch-norm recalibration batches, as name=share,... (default: the training shares).") var recalibrationShares: String?
    @Option(help: "Training batches the batch-norm statistics are re-estimated over, after each epoch and by --recalibrate (default: \(LineTrainingConfig().batchNormRecalibrationBatches ?? 0)); 0 keeps them (with --recalibrate: the checkpoints' statistics, averaged).") var recalibrationBatches: Int?
    @Option(help: "Version written into the model's metadata (default: 2.3.0 for a new run; with --recalibrate, the first checkpoint's).") var modelVersion: String?
    @Option(help: "Sources each training batch is drawn from (default: one source per batch).") var sourcesPerBatch: Int?
    @Option(help: "Corpus cache: read the normalised corpus from this file when it exists, else build it and write it there (delete it when the preprocessing or the corpus changes).") var cache: String?

    func run() throws {
        let progress = ProgressBar(quiet: quiet)
        let charset = Charset.text
        let preprocessing = PreprocessingSpec.textLine
        let normalizer = LineNormalizer(height: preprocessing.size, box: preprocessing.box)
        let started = Date()
        let text: TextLineCorpus
        if let cache, FileManager.default.fileExists(atPath: cache) {
            text = try TextLineCorpus.readCache(from: cache)
            progress.log("corpus read from the cache \(cache)")
        } else {
            text = try TextLineCorpus.load(data: data, generated: corpus.isEmpty ? nil : corpus, normalizer: normalizer,
                                           charset: charset, validationLimit: validationLimit, log: progress.log)
            if let cache { try text.writeCache(to: cache) }
        }
        // Digit strings composed from real character images (unseen writers' glyphs for validation).
        let chars = try SharedData(root: data).load()
        let (trainGlyphs, validationGlyphs) = SharedData.split(chars)
        let composer = LineComposer(glyphs: trainGlyphs, words: [], normalizer: normalizer)
        let digitCodes: (Int, inout SeededGenerator) -> [LineSample] = { size, random in
            let length = 1 + Int(random.next() % 12)
            var lines: [LineSample] = []
            while lines.count < size {
                let digits = (0..<length).map { _ in Int(random.next() % 10) }
                if let s = try? composer.compose(digits, random: &random) { lines.append(s) }
            }
            return lines
        }
        let validationComposer = LineComposer(glyphs: validationGlyphs, words: [], normalizer: normalizer, distortsGlyphs: false)
        var random = SeededGenerator(seed: seed &+ 1_000)
        var composed36: [LineSample] = []
        while composed36.count < min(validationLimit, 300) {
            let length = 1 + composed36.count % 12
            if let s = try? validationComposer.compose(validationComposer.randomText(length: length, random: &random), random: &random) {
                composed36.append(s)
            }
        }
        let validation = text.validation + [LineSet(name: "composed-36", samples: composed36, foldsCase: true)]
        for set in text.pools { progress.log("train pool \(set.name): \(set.samples.count) lines") }
        for set in validation { progress.log("validation \(set.name): \(set.samples.count) lines") }
        progress.log(String(format: "corpus loaded in %.0f s", Date().timeIntervalSince(started)))
        let sources = LineBatchSources(pools: text.pools, generators: ["digit-codes": digitCodes])
        var config = LineTrainingConfig()
        config.epochs = epochs; config.stepsPerEpoch = stepsPerEpoch; config.batchSize = batch
        /// "name=share,..." as shares by source name, every name one of `sources`.
        func parseShares(_ text: String, option: String) throws -> [String: Float] {
            var result: [String: Float] = [:]
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=")
                guard parts.count == 2, let share = Float(parts[1]), share >= 0 else {
                    throw ValidationError("\(option): expected name=share,..., got \(item)")
                }
                guard sources.names.contains(String(parts[0])) else {
                    throw ValidationError("\(option): no source \(parts[0]) (sources: \(sources.names.sorted().joined(separator: ", ")))")
                }
                result[String(parts[0])] = share
            }
            return result
        }
        if let shares { config.shares = try parseShares(shares, option: "--shares") }
        if let recalibrationShares {
            config.batchNormRecalibrationShares = try parseShares(recalibrationShares, option: "--recalibration-shares")
        }
        config.learningRate = lr; config.seed = seed; config.threads = threads; config.patience = patience
        if let sourcesPerBatch { config.sourcesPerBatch = sourcesPerBatch }
        if let recalibrationBatches {
            guard recalibrationBatches >= 0 else { throw ValidationError("--recalibration-batches must be 0 or more") }
            config.batchNormRecalibrationBatches = recalibrationBatches
        }
        if let dumpSamples {
            var random = SeededGenerator(seed: seed)
            var lines: [LineSample] = []
            for name in sources.names.sorted() {
                lines += sources.batch(from: name, size: 3, height: preprocessing.size, augmenter: LineAugmenter(),
                                       augmentProbability: config.augmentProbability, random: &random)
            }
            lines += validation.flatMap { $0.samples.prefix(1) }
            try sampleSheet(lines).write(to: URL(fileURLWithPath: dumpSamples))
            progress.log("wrote \(lines.count) lines to \(dumpSamples): " + lines.map(\.text).joined(separator: " | "))
            return
        }
        if let first = recalibrate.first {
            let trained = try Model.load(path: first)
            if recalibrate.count > 1 {
                try trained.averageParameters(with: try recalibrate.dropFirst().map { try Model.load(path: $0) })
            }
            func validate(_ label: String) {
                let (cer, cased, wer) = LineEvaluator.validate(model: trained, sets: validation)
                progress.log("\(label): CER/WER % (case-insensitive): " + LineEvaluator.summary(sets: validation, cer: cer, wer: wer)
                             + " | case-sensitive CER %: " + LineEvaluator.summary(sets: validation, cer: cased, wer: nil))
            }
            validate("before recalibration")
            if let batches = config.batchNormRecalibrationBatches, batches > 0 {
                sources.recalibrateBatchNorm(trained, shares: config.batchNormRecalibrationShares ?? config.shares,
                                             groups: config.sourcesPerBatch ?? 1, batches: batches,
                                             batchSize: config.batchSize, augmentProbability: config.augmentProbability, seed: seed)
                validate("recalibrated")
            }
            if let modelVersion {
                trained.metadata.version = modelVersion
                trained.metadata.created = ISO8601DateFormatter().string(from: Date())
            }
            try trained.write(to: model)
            progress.log("wrote \(model) (\(trained.metadata.name) \(trained.metadata.version))")
            return
        }
        let metadata = ModelMetadata(name: "hwr-text", version: modelVersion ?? "2.3.0", created: ISO8601DateFormatter().string(from: Date()),
                                     trainingData: "real-lines (Washington and Stanford, held-out pages and letters excluded; no Hooker), lines rendered from handwriting fonts (held-out fonts excluded), lines composed from the writer-disjoint training split of the shared characters, OCR words folds 0-5")
        let initial = try Model(architecture: .textLineCRNN(classes: charset.count + 1), charset: charset,
                                preprocessing: preprocessing, metadata: metadata, seed: seed)
        if let initialize {
            let copied = initial.copyMatchingTensors(from: try Model.load(path: initialize))
            guard !copied.isEmpty else { throw ValidationError("\(initialize) shares no layer with the line model") }
            progress.log("initialised \(copied.count) of \(initial.parameters.layout.tensors.count) tensors from \(initialize)")
        }
        let trainer = try LineTrainer(model: initial, config: config, sources: sources, validation: validation,
                                      output: out, resume: resume)
        let best = try trainer.run(progress: progress, stoppingAfterEpoch: stopAfterEpoch)
        guard let record = trainer.history.min(by: { $0.score < $1.score }) else { return }
        for (name, value) in record.cer { best.metadata.metrics["validation_\(name)_cer"] = value }
        for (name, value) in record.wer { best.metadata.metrics["validation_\(name)_wer"] = value }
        try best.write(to: model)
        progress.log(String(format: "best model (epoch %d, score %.2f%%) written to %@", record.epoch, record.score * 100, model))
    }
}

/// The lines stacked vertically as one grey PNG (white ink on black, as the network sees them),
/// with no frame around a single line.
func sampleSheet(_ lines: [LineSample]) throws -> Data {
    let height = lines.first.map { $0.pixels.count / $0.width } ?? 28
    let width = lines.map(\.width).max() ?? 1
    let rowHeight = lines.count == 1 ? height : height + 2
    var pixels = [UInt8](repeating: lines.count == 1 ? 0 : 40, count: width * rowHeight * lines.count)
    for (i, line) in lines.enumerated() {
        for y in 0..<height { for x in 0..<line.width {
            pixels[(i * rowHeight + y) * width + x] = UInt8(max(0, min(255, line.pixels[y * line.width + x] * 255)))
        } }
    }
    return try encodePNG(pixels, width: width, height: rowHeight * lines.count, channels: 1)
}
