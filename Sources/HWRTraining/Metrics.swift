import Foundation
import HWRModel
import HWRRecognition

/// Classification metrics over a labelled set.
public struct ClassificationMetrics: Codable {
    /// Class characters, in class order.
    public var charset: String
    /// Images evaluated.
    public var count: Int
    /// Top-1 accuracy.
    public var top1: Double
    /// Top-3 accuracy.
    public var top3: Double
    /// Mean of the per-class top-1 accuracies (classes with no images are left out).
    public var balancedAccuracy: Double
    /// Top-1 accuracy per class (NaN-free: -1 when the class has no images).
    public var perClassAccuracy: [Double]
    /// Top-1 accuracy (36-way) on images of digits, and on images of letters.
    public var digitAccuracy: Double, letterAccuracy: Double
    /// Top-1 accuracy on images of digits read with the charset restricted to digits, and on letters
    /// read with the charset restricted to letters (what a caller who knows the field type gets).
    public var digitAccuracyDigitsOnly: Double, letterAccuracyLettersOnly: Double
    /// MNIST validation digits: 36-way and digits-only accuracy (0 when there are none).
    public var mnistAccuracy: Double, mnistAccuracyDigitsOnly: Double
    /// Top-1 accuracy per data source.
    public var perSourceAccuracy: [String: Double]
    /// `confusion[truth][predicted]` counts.
    public var confusion: [[Int]]
    /// The most frequent confusions, "A->4" style, with counts.
    public var worstPairs: [WorstPair]

    /// One frequent confusion.
    public struct WorstPair: Codable {
        /// True class character.
        public var truth: String
        /// Predicted class character.
        public var predicted: String
        /// How many images.
        public var count: Int
    }

    /// Computes metrics from predictions.
    /// - Parameters:
    ///   - predictions: per image, the top-3 classes and the best class within its own kind (digit or letter)
    ///   - labels: true class per image
    ///   - sources: source per image
    public init(charset: [Character], predictions all: [Prediction], labels: [Int32], sources: [String]) {
        let predictions = all.map(\.top3)
        let k = charset.count
        self.charset = String(charset)
        count = labels.count
        confusion = Array(repeating: Array(repeating: 0, count: k), count: k)
        var hit1 = 0, hit3 = 0, digitHit = 0, digitN = 0, letterHit = 0, letterN = 0
        var digitOnlyHit = 0, letterOnlyHit = 0, mnistHit = 0, mnistOnlyHit = 0, mnistN = 0
        var sourceHit: [String: Int] = [:], sourceN: [String: Int] = [:]
        for i in 0..<labels.count {
            let y = Int(labels[i]), p = predictions[i]
            confusion[y][p[0]] += 1
            let ok = p[0] == y
            if ok { hit1 += 1 }
            if p.prefix(3).contains(y) { hit3 += 1 }
            let kindOK = all[i].bestOfSameKind == y
            if charset[y].isNumber {
                digitN += 1
                if ok { digitHit += 1 }
                if kindOK { digitOnlyHit += 1 }
            } else {
                letterN += 1
                if ok { letterHit += 1 }
                if kindOK { letterOnlyHit += 1 }
            }
            if sources[i] == "mnist" { mnistN += 1; if ok { mnistHit += 1 }; if kindOK { mnistOnlyHit += 1 } }
            sourceN[sources[i], default: 0] += 1
            if ok { sourceHit[sources[i], default: 0] += 1 }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        top1 = ratio(hit1, count); top3 = ratio(hit3, count)
        digitAccuracy = ratio(digitHit, digitN); letterAccuracy = ratio(letterHit, letterN)
        digitAccuracyDigitsOnly = ratio(digitOnlyHit, digitN); letterAccuracyLettersOnly = ratio(letterOnlyHit, letterN)
        mnistAccuracy = ratio(mnistHit, mnistN); mnistAccuracyDigitsOnly = ratio(mnistOnlyHit, mnistN)
        let matrix = confusion
        perClassAccuracy = (0..<k).map { c in
            let n = matrix[c].reduce(0, +)
            return n == 0 ? -1 : Double(matrix[c][c]) / Double(n)
        }
        let present = perClassAccuracy.filter { $0 >= 0 }
        balancedAccuracy = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
        perSourceAccuracy = sourceN.mapValues { _ in 0 }
        for (s, n) in sourceN { perSourceAccuracy[s] = ratio(sourceHit[s] ?? 0, n) }
        var pairs: [WorstPair] = []
        for t in 0..<k { for p in 0..<k where t != p && confusion[t][p] > 0 {
            pairs.append(WorstPair(truth: String(charset[t]), predicted: String(charset[p]), count: confusion[t][p]))
        } }
        worstPairs = Array(pairs.sorted { $0.count > $1.count }.prefix(12))
    }

    /// The figures a model file records about its validation.
    public var asMetadata: [String: Double] {
        ["validation_top1": top1, "validation_top3": top3, "validation_balanced": balancedAccuracy,
         "validation_mnist": mnistAccuracy, "validation_mnist_digits_only": mnistAccuracyDigitsOnly,
         "validation_letters": letterAccuracy, "validation_letters_letters_only": letterAccuracyLettersOnly,
         "validation_images": Double(count)]
    }

    /// A short human-readable summary.
    public var summary: String {
        let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
        var s = "images \(count)  top-1 \(pct(top1))  top-3 \(pct(top3))  balanced (36 classes) \(pct(balancedAccuracy))\n" +
            "digits \(pct(digitAccuracy)) (digits-only charset \(pct(digitAccuracyDigitsOnly)))  " +
            "letters \(pct(letterAccuracy)) (letters-only charset \(pct(letterAccuracyLettersOnly)))  " +
            "MNIST \(pct(mnistAccuracy)) (digits-only charset \(pct(mnistAccuracyDigitsOnly)))\n"
        s += "per source: " + perSourceAccuracy.keys.sorted().map { "\($0) \(pct(perSourceAccuracy[$0]!))" }.joined(separator: ", ") + "\n"
        s += "worst pairs (truth->predicted): " + worstPairs.prefix(8).map { "\($0.truth)->\($0.predicted) \($0.count)" }.joined(separator: ", ")
        return s
    }
}

/// What a model predicted for one image.
public struct Prediction: Sendable {
    /// The three most likely classes, best first.
    public var top3: [Int]
    /// The most likely class among those of the same kind (digit or letter) as the true class.
    public var bestOfSameKind: Int

    /// Creates a prediction.
    public init(top3: [Int], bestOfSameKind: Int) { self.top3 = top3; self.bestOfSameKind = bestOfSameKind }
}

/// Runs a model over a data set in inference mode.
public enum Evaluator {
    /// Predictions for every image.
    /// Runs through `CharacterClassifier`, the inference path recognition uses.
    public static func predict(model: Model, data: CharacterDataset, batchSize: Int = 256) -> [Prediction] {
        let classifier = CharacterClassifier(model)
        let side = data.side, n = side * side, k = model.charset.count
        var predictions: [Prediction] = []
        predictions.reserveCapacity(data.count)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * n)
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * k)
        defer { input.deallocate(); probabilities.deallocate() }
        var start = 0
        while start < data.count {
            let b = min(batchSize, data.count - start)
            for j in 0..<b { data.image(start + j, into: input + j * n) }
            classifier.classify(normalized: input, count: b, into: probabilities)
            for j in 0..<b {
                let row = probabilities + j * k
                let top3 = (0..<k).sorted { row[$0] > row[$1] }.prefix(3)
                let digit = model.charset[Int(data.labels[start + j])].isNumber
                var kindBest = -1
                for c in 0..<k where model.charset[c].isNumber == digit && (kindBest < 0 || row[c] > row[kindBest]) { kindBest = c }
                predictions.append(Prediction(top3: Array(top3), bestOfSameKind: kindBest))
            }
            start += b
        }
        return predictions
    }

    /// Metrics of a model on a data set.
    public static func evaluate(model: Model, data: CharacterDataset) -> ClassificationMetrics {
        ClassificationMetrics(charset: model.charset, predictions: predict(model: model, data: data),
                              labels: data.labels, sources: data.sources)
    }
}
