import ArgumentParser
import Foundation
import HWRImage
import HWRModel
import HWRTraining

struct TrainLine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-line",
        abstract: "Train the line model (CRNN + CTC) on composed lines and real handwritten words.")

    @Option(help: "Corpus folder (mnist/, chars/, ocr-words/ as in ../shared/data).") var data = "../shared/data"
    @Option(help: "Run folder for checkpoints, metrics and plots.") var out = "runs/line"
    @Option(help: "Where to write the final (best) model.") var model = "models/hwr-line.hwrm"
    @Option(help: "Most epochs.") var epochs = 12
    @Option(help: "Batches per epoch.") var stepsPerEpoch = 400
    @Option(help: "Lines per batch.") var batch = 32
    @Option(help: "Peak learning rate.") var lr: Float = 1.5e-3
    @Option(help: "Synthetic validation lines.") var validationLines = 600
    @Option(help: "Random seed.") var seed: UInt64 = 7
    @Option(help: "Threads: each batch is split over this many network replicas (data parallel).") var threads = 2
    @Flag(help: "Resume from the checkpoint in --out.") var resume = false
    @Option(help: "Start from this model's weights instead of a fresh initialisation: every layer with the same shape (a line model to fine-tune, or the character model's convolutional and LSTM layers).") var initialize: String?
    @Option(help: "Epochs without a lower validation CER before stopping.") var patience = 3
    @Option(help: "End this run after that epoch, leaving a checkpoint to --resume from.") var stopAfterEpoch: Int?
    @Flag(help: "No progress bar; one line per epoch.") var quiet = false
    @Option(help: "Write a PNG sheet of training and validation lines to this file, then exit.") var dumpSamples: String?
    @Option(help: "Write a test fixture of validation lines (composed, unseen writers) and real validation words to this folder, then exit.") var exportFixture: String?

    func run() throws {
        let progress = ProgressBar(quiet: quiet)
        let corpus = try LineCorpus.load(root: data, validationLines: validationLines, seed: seed)
        progress.log("glyphs: \(corpus.composer.glyphs.count) train; real words: \(corpus.trainWords.count) train, \(corpus.validationWords.count) validation; synthetic validation lines: \(corpus.syntheticValidation.count)")
        if let dumpSamples {
            var random = SeededGenerator(seed: seed)
            var lines: [LineSample] = []
            for length in [1, 3, 5, 8, 12, 4, 7, 10] {
                lines.append(try corpus.composer.compose(corpus.composer.randomText(length: length, random: &random), random: &random))
            }
            lines += corpus.trainWords.prefix(4) + corpus.validationWords.prefix(4) + corpus.syntheticValidation.suffix(4)
            try sampleSheet(lines).write(to: URL(fileURLWithPath: dumpSamples))
            progress.log("wrote \(lines.count) lines to \(dumpSamples): " + lines.map(\.text).joined(separator: " "))
            return
        }
        if let exportFixture {
            try FileManager.default.createDirectory(atPath: exportFixture, withIntermediateDirectories: true)
            var manifest = "path,text,source\n"
            for (i, line) in corpus.syntheticValidation.prefix(72).enumerated() {
                let name = String(format: "composed-%03d.png", i)
                try sampleSheet([line]).write(to: URL(fileURLWithPath: "\(exportFixture)/\(name)"))
                manifest += "\(name),\(line.text),composed\n"
            }
            let words = try OCRWords(folder: "\(data)/ocr-words").words.filter { LineCorpus.validationFolds.contains($0.fold) }
            var random = SeededGenerator(seed: seed)
            for i in 0..<72 {
                let word = words[Int(random.next() % UInt64(words.count))]
                let name = String(format: "word-%03d.png", i)
                try word.image.pngData().write(to: URL(fileURLWithPath: "\(exportFixture)/\(name)"))
                manifest += "\(name),\(word.text.uppercased()),ocr-words\n"
            }
            try manifest.write(toFile: "\(exportFixture)/manifest.csv", atomically: true, encoding: .utf8)
            progress.log("wrote 144 fixture lines to \(exportFixture)")
            return
        }
        var config = LineTrainingConfig()
        config.epochs = epochs; config.stepsPerEpoch = stepsPerEpoch; config.batchSize = batch
        config.learningRate = lr; config.seed = seed; config.threads = threads; config.patience = patience
        let metadata = ModelMetadata(name: "hwr-line", version: "1.0.0", created: ISO8601DateFormatter().string(from: Date()),
                                     trainingData: "lines composed from the writer-disjoint training split of MNIST + shared chars; OCR words folds 0-5")
        let initial = try Model(architecture: .lineCRNN(classes: Charset.alphanumeric.count + 1), charset: Charset.alphanumeric,
                                preprocessing: .line, metadata: metadata, seed: seed)
        if let initialize {
            let copied = initial.copyMatchingTensors(from: try Model.load(path: initialize))
            guard !copied.isEmpty else { throw ValidationError("\(initialize) shares no layer with the line model") }
            progress.log("initialised \(copied.count) of \(initial.parameters.layout.tensors.count) tensors from \(initialize)")
        }
        let trainer = try LineTrainer(model: initial, config: config, composer: corpus.composer, realWords: corpus.trainWords,
                                      syntheticValidation: corpus.syntheticValidation, wordValidation: corpus.validationWords,
                                      output: out, resume: resume)
        let best = try trainer.run(progress: progress, stoppingAfterEpoch: stopAfterEpoch)
        let synthetic = LineEvaluator.evaluate(model: best, samples: corpus.syntheticValidation)
        let words = LineEvaluator.evaluate(model: best, samples: corpus.validationWords)
        best.metadata.metrics = [
            "validation_synthetic_cer": synthetic.characterErrorRate, "validation_synthetic_line_accuracy": synthetic.lineAccuracy,
            "validation_words_cer": words.characterErrorRate, "validation_words_accuracy": words.lineAccuracy,
        ]
        try best.write(to: model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(trainer.history).write(to: URL(fileURLWithPath: "\(out)/history.json"))
        progress.log(String(format: "best model written to %@: synthetic CER %.2f%%, words CER %.2f%% (greedy)", model,
                            synthetic.characterErrorRate * 100, words.characterErrorRate * 100))
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
