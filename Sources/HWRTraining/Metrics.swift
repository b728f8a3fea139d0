import Foundation
import HWRModel

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
    /// Top-1 accuracy on digits only (labels 0-9), and on letters only.
    public var digitAccuracy: Double, letterAccuracy: Double
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

    /// Computes metrics from top-3 predictions.
    /// - Parameters:
    ///   - top3: three class indices per image, best first
    ///   - labels: true class per image
    ///   - sources: source per image
    public init(charset: [Character], top3 predictions: [[Int]], labels: [Int32], sources: [String]) {
        let k = charset.count
        self.charset = String(charset)
        count = labels.count
        confusion = Array(repeating: Array(repeating: 0, count: k), count: k)
        var hit1 = 0, hit3 = 0, digitHit = 0, digitN = 0, letterHit = 0, letterN = 0
        var sourceHit: [String: Int] = [:], sourceN: [String: Int] = [:]
        for i in 0..<labels.count {
            let y = Int(labels[i]), p = predictions[i]
            confusion[y][p[0]] += 1
            let ok = p[0] == y
            if ok { hit1 += 1 }
            if p.prefix(3).contains(y) { hit3 += 1 }
            if charset[y].isNumber { digitN += 1; if ok { digitHit += 1 } } else { letterN += 1; if ok { letterHit += 1 } }
            sourceN[sources[i], default: 0] += 1
            if ok { sourceHit[sources[i], default: 0] += 1 }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        top1 = ratio(hit1, count); top3 = ratio(hit3, count)
        digitAccuracy = ratio(digitHit, digitN); letterAccuracy = ratio(letterHit, letterN)
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

    /// A short human-readable summary.
    public var summary: String {
        let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
        var s = "images \(count)  top-1 \(pct(top1))  top-3 \(pct(top3))  balanced \(pct(balancedAccuracy))  " +
            "digits \(pct(digitAccuracy))  letters \(pct(letterAccuracy))\n"
        s += "per source: " + perSourceAccuracy.keys.sorted().map { "\($0) \(pct(perSourceAccuracy[$0]!))" }.joined(separator: ", ") + "\n"
        s += "worst pairs (truth->predicted): " + worstPairs.prefix(8).map { "\($0.truth)->\($0.predicted) \($0.count)" }.joined(separator: ", ")
        return s
    }
}

/// Runs a model over a data set in inference mode.
public enum Evaluator {
    /// Top-3 class predictions for every image.
    public static func predictTop3(model: Model, data: CharacterDataset, batchSize: Int = 256) -> [[Int]] {
        let network = model.makeNetwork()
        let side = data.side, n = side * side, k = model.charset.count
        var predictions: [[Int]] = []
        predictions.reserveCapacity(data.count)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * n)
        defer { input.deallocate() }
        var start = 0
        while start < data.count {
            let b = min(batchSize, data.count - start)
            for j in 0..<b { data.image(start + j, into: input + j * n) }
            let (logits, _) = network.forward(input, batch: b, width: side, mode: .inference)
            for j in 0..<b {
                let row = logits + j * k
                var best = [(Int, Float)]()
                for c in 0..<k {
                    best.append((c, row[c]))
                    if best.count > 3 { best.sort { $0.1 > $1.1 }; best.removeLast() }
                }
                best.sort { $0.1 > $1.1 }
                predictions.append(best.map { $0.0 })
            }
            start += b
        }
        return predictions
    }

    /// Metrics of a model on a data set.
    public static func evaluate(model: Model, data: CharacterDataset) -> ClassificationMetrics {
        ClassificationMetrics(charset: model.charset, top3: predictTop3(model: model, data: data),
                              labels: data.labels, sources: data.sources)
    }
}
