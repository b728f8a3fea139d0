import Foundation
import HWRModel
import HWRTraining
import XCTest

final class TrainingTests: XCTestCase {
    func testIDXParsingAndErrors() throws {
        let bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3] + Array(1...12)
        let idx = try IDXFile(bytes: bytes)
        XCTAssertEqual(idx.dimensions, [2, 2, 3])
        XCTAssertEqual(idx.bytes, Array(1...12))
        XCTAssertThrowsError(try IDXFile(bytes: Array(bytes.dropLast())))      // truncated
        XCTAssertThrowsError(try IDXFile(bytes: [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])) // float data
        XCTAssertThrowsError(try IDXFile(bytes: [1, 2, 3]))                      // not IDX
    }

    func testIDXLoaderTransposesAndFoldsLabels() throws {
        // Two 8x8 images: a vertical bar stored transposed (as EMNIST does) must come out as a bar.
        var pixels = [UInt8](repeating: 0, count: 128)
        for i in 0..<8 { for r in 2...3 { pixels[r * 8 + i] = 255; pixels[64 + r * 8 + i] = 255 } } // rows 2-3 stored = columns 2-3 shown
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 8] + pixels).write(to: URL(fileURLWithPath: "\(dir)/img"))
        try Data([0, 0, 8, 1, 0, 0, 0, 2, 0, 1]).write(to: URL(fileURLWithPath: "\(dir)/lab"))
        let loader = DataLoader()
        let plain = try loader.loadIDX(images: "\(dir)/img", labels: "\(dir)/lab", labelCharacters: ["a", "Z"], source: "t")
        let transposed = try loader.loadIDX(images: "\(dir)/img", labels: "\(dir)/lab", transpose: true, labelCharacters: ["a", "Z"], source: "t")
        XCTAssertEqual(plain.labels, [Int32(Charset.classIndex(of: "A")!), Int32(Charset.classIndex(of: "Z")!)])
        // Plain: a horizontal bar -> ink spread along a row. Transposed: along a column.
        func spread(_ set: CharacterDataset) -> (rows: Int, cols: Int) {
            var rows = Set<Int>(), cols = Set<Int>()
            for y in 0..<28 { for x in 0..<28 where set.pixels[y * 28 + x] > 128 { rows.insert(y); cols.insert(x) } }
            return (rows.count, cols.count)
        }
        XCTAssertGreaterThan(spread(plain).cols, spread(plain).rows)
        XCTAssertGreaterThan(spread(transposed).rows, spread(transposed).cols)
    }

    func testWriterSplitNeverSharesAWriter() {
        var data = CharacterDataset(side: 1)
        for i in 0..<2000 {
            data.pixels.append(0); data.labels.append(Int32(i % 36))
            data.sources.append(i < 1000 ? "many" : "anon"); data.writers.append(i < 1000 ? "w\(i % 50)" : "")
        }
        let (train, validation) = Split.byWriter(data, validationFraction: 0.2)
        XCTAssertEqual(train.count + validation.count, 2000)
        let trainWriters = Set(train.filter { $0 < 1000 }.map { data.writers[$0] })
        let validationWriters = Set(validation.filter { $0 < 1000 }.map { data.writers[$0] })
        XCTAssertTrue(trainWriters.isDisjoint(with: validationWriters))
        XCTAssertFalse(validationWriters.isEmpty)
        let anonymousHeldOut = validation.filter { $0 >= 1000 }.count
        XCTAssertGreaterThan(anonymousHeldOut, 120)
        XCTAssertLessThan(anonymousHeldOut, 280)
    }

    func testMetricsOnAHandWorkedExample() {
        let charset: [Character] = ["0", "1", "A"]
        let m = ClassificationMetrics(charset: charset, predictions: [
            Prediction(top3: [0, 1, 2], bestOfSameKind: 0), Prediction(top3: [2, 0, 1], bestOfSameKind: 0),
            Prediction(top3: [1, 0, 2], bestOfSameKind: 1), Prediction(top3: [2, 1, 0], bestOfSameKind: 2),
        ], labels: [0, 0, 1, 2], sources: ["s", "s", "t", "t"])
        XCTAssertEqual(m.top1, 0.75)
        XCTAssertEqual(m.top3, 1)
        XCTAssertEqual(m.perClassAccuracy, [0.5, 1, 1])
        XCTAssertEqual(m.balancedAccuracy, 2.5 / 3, accuracy: 1e-9)
        XCTAssertEqual(m.confusion[0][2], 1)
        XCTAssertEqual(m.worstPairs.first?.truth, "0")
        XCTAssertEqual(m.worstPairs.first?.predicted, "A")
        XCTAssertEqual(m.digitAccuracy, 2.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(m.digitAccuracyDigitsOnly, 1, "the digit read as A is a 0 among digits")
        XCTAssertEqual(m.perSourceAccuracy["s"], 0.5)
    }

    func testAugmenterWithNoDistortionIsIdentity() {
        var a = Augmenter()
        a.rotation = 0; a.shift = 0; a.zoom = 0; a.shear = 0; a.thicknessProbability = 0
        var random = SeededGenerator(seed: 1)
        let input = (0..<784).map { Float($0 % 13) / 13 }
        var out = [Float](repeating: 0, count: 784)
        a.apply(&out, input, side: 28, random: &random)
        XCTAssertEqual(out, input)
        // With distortions, ink mass is roughly preserved and the image changes.
        a = Augmenter()
        var glyph = [Float](repeating: 0, count: 784)
        for y in 6..<22 { for x in 12..<16 { glyph[y * 28 + x] = 1 } }
        a.apply(&out, glyph, side: 28, random: &random)
        XCTAssertNotEqual(out, glyph)
        XCTAssertEqual(out.reduce(0, +), glyph.reduce(0, +), accuracy: glyph.reduce(0, +) * 0.45)
    }

    /// Two epochs in one run and one epoch + resume give bit-identical models; and training learns.
    func testTrainingLearnsAndResumesExactly() throws {
        var data = CharacterDataset(side: 28)
        var random = SeededGenerator(seed: 3)
        for i in 0..<240 { // class 0: vertical bar, class 1: horizontal bar, with jitter
            var img = [UInt8](repeating: 0, count: 784)
            let o = Int(random.next() % 6) + 11
            for k in 6..<22 { img[(i % 2 == 0 ? k * 28 + o : o * 28 + k)] = 255 }
            data.pixels += img; data.labels.append(Int32(i % 2)); data.sources.append("synthetic"); data.writers.append("")
        }
        let arch = Architecture(inputHeight: 28, inputWidth: 28, layers: [
            .conv(4), .maxPool, .dropout(0.1), .conv(4), .maxPool, .columnsToSequence,
            .biLSTM(8, returnSequences: false), .dense(2, relu: false),
        ])
        var config = TrainingConfig()
        config.epochs = 2; config.batchSize = 16; config.samplesPerClass = 64; config.warmupSteps = 2
        config.learningRate = 5e-3; config.threads = 1
        func fresh() throws -> Model {
            try Model(architecture: arch, charset: ["I", "-"], preprocessing: .mnistCharacter,
                      metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 5)
        }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("train-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let quiet = ProgressBar(quiet: true)
        let straight = try Trainer(model: fresh(), config: config, train: data, validation: data, output: "\(base)/a", resume: false)
        _ = try straight.run(progress: quiet)
        XCTAssertGreaterThan(straight.history.last!.validationTop1, 0.9, "two bar orientations are learnt")

        // A run interrupted after its first epoch, then resumed.
        _ = try Trainer(model: fresh(), config: config, train: data, validation: data, output: "\(base)/b", resume: false)
            .run(progress: quiet, stoppingAfterEpoch: 1)
        let resumed = try Trainer(model: fresh(), config: config, train: data, validation: data, output: "\(base)/b", resume: true)
        XCTAssertEqual(resumed.history.count, 1)
        _ = try resumed.run(progress: quiet)
        let difference = zip(resumed.model.parameters.array, straight.model.parameters.array).map { abs($0 - $1) }.max()
        XCTAssertEqual(difference, 0, "resumed and straight runs end with identical weights")
        // Every epoch's model is kept for weight averaging; the last is the final weights.
        let last = try Model.load(path: "\(base)/b/epoch-2.hwrm")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(base)/b/epoch-1.hwrm"))
        XCTAssertEqual(last.parameters.array, resumed.model.parameters.array)
    }

    func testDataParallelShardsGiveTheGradientOfTheWholeBatch() throws {
        // Without batch norm or dropout, splitting each batch over 3 replicas must train the same
        // weights as one replica (up to the order of floating-point sums).
        var data = CharacterDataset(side: 28)
        var random = SeededGenerator(seed: 11)
        for i in 0..<90 {
            data.pixels += (0..<784).map { _ in UInt8(random.next() % 256) }
            data.labels.append(Int32(i % 3)); data.sources.append("synthetic"); data.writers.append("")
        }
        let arch = Architecture(inputHeight: 28, inputWidth: 28, layers: [
            .columnsToSequence, .biLSTM(6, returnSequences: false), .dense(3, relu: false),
        ])
        func train(threads: Int) throws -> (weights: [Float], loss: Double) {
            var config = TrainingConfig()
            config.epochs = 1; config.batchSize = 15; config.samplesPerClass = 30; config.warmupSteps = 1
            config.threads = threads; config.augment = false
            let model = try Model(architecture: arch, charset: ["A", "B", "C"], preprocessing: .mnistCharacter,
                                  metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 2)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: base) }
            let trainer = try Trainer(model: model, config: config, train: data, validation: data, output: base, resume: false)
            _ = try trainer.run(progress: ProgressBar(quiet: true))
            return (trainer.model.parameters.array, trainer.history[0].trainLoss)
        }
        let (whole, sharded) = (try train(threads: 1), try train(threads: 3))
        let (one, three) = (whole.weights, sharded.weights)
        XCTAssertEqual(whole.loss, sharded.loss, accuracy: 1e-5, "the same mean loss")
        let initial = try Model(architecture: arch, charset: ["A", "B", "C"], preprocessing: .mnistCharacter,
                                metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 2).parameters.array
        XCTAssertGreaterThan(zip(one, initial).map { abs($0 - $1) }.max()!, 1e-3, "the weights moved")
        XCTAssertLessThan(zip(one, three).map { abs($0 - $1) }.max()!, 1e-4, "sharded and whole-batch training agree")
    }
}

/// Batch-norm recalibration ("precise BN") and weight averaging, the two steps of stochastic weight
/// averaging on a line model.
final class BatchNormRecalibrationTests: XCTestCase {
    static let architecture = Architecture(inputHeight: 8, inputWidth: nil, layers: [
        .conv(3), .maxPool, .columnsToSequence, .dense(4, relu: false),
    ])

    func model(seed: UInt64) throws -> Model {
        try Model(architecture: Self.architecture, charset: ["a", "b", "c"], preprocessing: PreprocessingSpec(kind: "line", size: 8, box: 7),
                  metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: seed)
    }

    func sources() -> LineBatchSources {
        var random = SeededGenerator(seed: 4)
        let lines = (0..<40).map { i -> LineSample in
            let width = 6 + i % 5
            return LineSample(pixels: (0..<(8 * width)).map { _ in random.nextUniform() }, width: width, label: [0], text: "a",
                              source: i % 2 == 0 ? "one" : "two")
        }
        return LineBatchSources(pools: [LineSet(name: "one", samples: lines.filter { $0.source == "one" }),
                                        LineSet(name: "two", samples: lines.filter { $0.source == "two" })])
    }

    /// The running statistics become a plain average over the recalibration batches: whatever they
    /// were before (an exponential average would keep a tenth of them per batch), and with the
    /// learnt weights untouched.
    func testRecalibrationForgetsThePreviousStatisticsAndKeepsTheWeights() throws {
        let a = try model(seed: 1), b = try model(seed: 1)
        let stats = a.parameters.layout.tensors.filter { !$0.trainable }
        XCTAssertEqual(stats.map(\.name), ["L0.mean", "L0.var"])
        for tensor in stats { for i in 0..<tensor.count { b.parameters.buffer.pointer[tensor.offset + i] = 50 } }
        let before = a.parameters.array
        for m in [a, b] {
            sources().recalibrateBatchNorm(m, shares: ["one": 1, "two": 1], batches: 6, batchSize: 4, augmentProbability: 0, seed: 9)
        }
        XCTAssertEqual(a.parameters.array, b.parameters.array)
        let after = a.parameters.array
        for tensor in a.parameters.layout.tensors {
            let changed = (tensor.offset..<(tensor.offset + tensor.count)).contains { before[$0] != after[$0] }
            XCTAssertEqual(changed, !tensor.trainable, tensor.name)
        }
    }

    /// A batch from several sources is interleaved: each half (a data-parallel shard) holds lines of
    /// every source drawn.
    func testAMixedBatchSpreadsItsSourcesOverEveryShard() {
        let sources = sources()
        var random = SeededGenerator(seed: 5), mixed = 0
        for _ in 0..<20 {
            let batch = sources.mixedBatch(shares: ["one": 1, "two": 1], groups: 2, size: 10, height: 8,
                                           augmenter: LineAugmenter(), augmentProbability: 0, random: &random)
            XCTAssertEqual(batch.count, 10)
            guard Set(batch.map(\.source)).count == 2 else { continue }
            mixed += 1
            XCTAssertEqual(Set(batch[..<5].map(\.source)).count, 2)
            XCTAssertEqual(Set(batch[5...].map(\.source)).count, 2)
        }
        XCTAssertGreaterThan(mixed, 0)
        let single = sources.mixedBatch(shares: ["one": 1], groups: 3, size: 9, height: 8, augmenter: LineAugmenter(),
                                        augmentProbability: 0, random: &random)
        XCTAssertEqual(Set(single.map(\.source)), ["one"])
    }

    func testAveragedWeightsAreTheMeanAndOtherArchitecturesAreRefused() throws {
        let a = try model(seed: 1), b = try model(seed: 2), c = try model(seed: 3)
        let expected = zip(zip(a.parameters.array, b.parameters.array), c.parameters.array).map { ($0.0 + $0.1 + $1) / 3 }
        try a.averageParameters(with: [b, c])
        XCTAssertEqual(zip(a.parameters.array, expected).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-6)
        let other = try Model(architecture: .init(inputHeight: 8, inputWidth: nil, layers: [.conv(2), .columnsToSequence, .dense(4, relu: false)]),
                              charset: ["a", "b", "c"], preprocessing: PreprocessingSpec(kind: "line", size: 8, box: 7),
                              metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 1)
        XCTAssertThrowsError(try a.averageParameters(with: [other]))
    }
}

/// The text-line corpus cache gives back what was written (pixels to within a byte's rounding).
final class CorpusCacheTests: XCTestCase {
    func testTheCacheRoundTripsAndRefusesForeignFiles() throws {
        let a = LineSample(pixels: (0..<(32 * 5)).map { Float($0 % 7) / 6 }, width: 5, label: [3, 40, 62], text: "3e ", source: "fonts")
        let b = LineSample(pixels: [Float](repeating: 1, count: 32 * 2), width: 2, label: [0], text: "0", source: "stanford")
        let corpus = TextLineCorpus(pools: [LineSet(name: "fonts", samples: [a])],
                                    validation: [LineSet(name: "stanford", samples: [b], foldsCase: true)])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try corpus.writeCache(to: path)
        let back = try TextLineCorpus.readCache(from: path)
        XCTAssertEqual(back.pools.map(\.name), ["fonts"])
        XCTAssertEqual(back.validation.map(\.foldsCase), [true])
        let s = back.pools[0].samples[0]
        XCTAssertEqual([s.width, s.label.count], [5, 3])
        XCTAssertEqual(s.label, a.label)
        XCTAssertEqual(s.text, "3e ")
        XCTAssertEqual(s.source, "fonts")
        XCTAssertEqual(zip(s.pixels, a.pixels).map { abs($0 - $1) }.max()!, 0, accuracy: 1.0 / 255)
        try Data("HWRM1234".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TextLineCorpus.readCache(from: path))
    }
}
