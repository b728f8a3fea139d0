import Foundation

/// Writes metrics as JSON and as pictures: training curves and the confusion matrix (SVG).
public enum Report {
    /// Writes `metrics.json`, `confusion-matrix.svg`, and with a history `history.json` and `training-curves.svg`.
    /// - Throws: file errors.
    public static func write(metrics: ClassificationMetrics, history: [EpochRecord]?, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(metrics).write(to: URL(fileURLWithPath: "\(folder)/metrics.json"))
        try confusionMatrixSVG(metrics).write(toFile: "\(folder)/confusion-matrix.svg", atomically: true, encoding: .utf8)
        if let history { try write(history: history, to: folder) }
    }

    /// Writes `history.json` and `training-curves.svg` (the trainer does so after every epoch).
    public static func write(history: [EpochRecord], to folder: String) throws {
        guard !history.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(history).write(to: URL(fileURLWithPath: "\(folder)/history.json"))
        try trainingCurvesSVG(history).write(toFile: "\(folder)/training-curves.svg", atomically: true, encoding: .utf8)
    }

    /// The confusion matrix as a heat map, rows normalised per true class, with counts off the diagonal.
    public static func confusionMatrixSVG(_ m: ClassificationMetrics) -> String {
        let labels = Array(m.charset).map(String.init)
        let k = labels.count, cell = 22, margin = 60
        let size = margin + k * cell + 20
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(size)' height='\(size + 30)' font-family='sans-serif' font-size='11'>\n"
        s += "<rect width='100%' height='100%' fill='white'/>\n"
        s += String(format: "<text x='%d' y='18' font-size='14'>Confusion matrix (rows: truth, columns: predicted) - top-1 %.2f%%, balanced %.2f%%</text>\n",
                    margin, m.top1 * 100, m.balancedAccuracy * 100)
        for (i, l) in labels.enumerated() {
            s += "<text x='\(margin - 14)' y='\(margin + i * cell + 15)' text-anchor='middle'>\(l)</text>\n"
            s += "<text x='\(margin + i * cell + 11)' y='\(margin - 6)' text-anchor='middle'>\(l)</text>\n"
        }
        for t in 0..<k {
            let total = max(1, m.confusion[t].reduce(0, +))
            for p in 0..<k {
                let count = m.confusion[t][p]
                let frac = Double(count) / Double(total)
                // Diagonal in blue, errors in red, intensity by row share (errors amplified to be visible).
                let strength = t == p ? frac : min(1, frac * 8)
                let shade = Int(255 - strength * 200)
                let colour = t == p ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
                s += "<rect x='\(margin + p * cell)' y='\(margin + t * cell)' width='\(cell)' height='\(cell)' fill='\(colour)' stroke='#eee'/>\n"
                if t != p && count > 0 {
                    s += "<text x='\(margin + p * cell + 11)' y='\(margin + t * cell + 15)' text-anchor='middle' font-size='9'>\(count)</text>\n"
                }
            }
        }
        s += "<text x='\(margin)' y='\(size + 20)'>Blue: share of the class read correctly. Red with count: confusions (8x amplified).</text>\n"
        return s + "</svg>\n"
    }

    /// Loss and accuracy per epoch, two panels.
    public static func trainingCurvesSVG(_ history: [EpochRecord]) -> String {
        let w = 900, h = 360, pw = 380, ph = 260, top = 50, lefts = [60, 510]
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(w)' height='\(h)' font-family='sans-serif' font-size='12'>\n"
        s += "<rect width='100%' height='100%' fill='white'/>\n"
        let epochs = history.map { Double($0.epoch) }
        let maxEpoch = max(2, epochs.max() ?? 1)
        func panel(_ left: Int, title: String, series: [(String, String, [Double])], yMin: Double, yMax: Double, percent: Bool) {
            s += "<text x='\(left)' y='\(top - 20)' font-size='14'>\(title)</text>\n"
            s += "<rect x='\(left)' y='\(top)' width='\(pw)' height='\(ph)' fill='none' stroke='#333'/>\n"
            for g in 0...4 {
                let v = yMin + (yMax - yMin) * Double(g) / 4
                let y = top + ph - Int(Double(ph) * Double(g) / 4)
                s += "<line x1='\(left)' x2='\(left + pw)' y1='\(y)' y2='\(y)' stroke='#ddd'/>\n"
                s += "<text x='\(left - 5)' y='\(y + 4)' text-anchor='end'>\(percent ? String(format: "%.1f%%", v * 100) : String(format: "%.3f", v))</text>\n"
            }
            for e in stride(from: 1, through: Int(maxEpoch), by: max(1, Int(maxEpoch) / 10)) {
                let x = left + Int(Double(pw) * (Double(e) - 1) / (maxEpoch - 1))
                s += "<text x='\(x)' y='\(top + ph + 16)' text-anchor='middle'>\(e)</text>\n"
            }
            s += "<text x='\(left + pw / 2)' y='\(top + ph + 34)' text-anchor='middle'>epoch</text>\n"
            for (k, (name, colour, values)) in series.enumerated() {
                let points = zip(epochs, values).map { e, v -> String in
                    let x = Double(left) + Double(pw) * (e - 1) / (maxEpoch - 1)
                    let y = Double(top + ph) - Double(ph) * (min(max(v, yMin), yMax) - yMin) / (yMax - yMin)
                    return String(format: "%.1f,%.1f", x, y)
                }
                s += "<polyline fill='none' stroke='\(colour)' stroke-width='2' points='\(points.joined(separator: " "))'/>\n"
                // Legend in the lower right corner, where the curves rarely are.
                s += "<text x='\(left + pw - 10)' y='\(top + ph - 12 - 16 * (series.count - 1 - k))' text-anchor='end' fill='\(colour)'>\(name)</text>\n"
            }
        }
        let losses = history.map(\.trainLoss)
        panel(lefts[0], title: "Training loss", series: [("train loss", "#c0392b", losses)],
              yMin: 0, yMax: max(0.1, (losses.max() ?? 1) * 1.05), percent: false)
        let accs: [(String, String, [Double])] = [
            ("train (augmented)", "#7f8c8d", history.map(\.trainAccuracy)),
            ("val balanced", "#2980b9", history.map(\.validationBalanced)),
            ("val MNIST (36 classes)", "#27ae60", history.map(\.validationDigits)),
            ("val letters (36 classes)", "#8e44ad", history.map(\.validationLetters)),
        ]
        let lowest = accs.flatMap(\.2).min() ?? 0.8
        panel(lefts[1], title: "Accuracy", series: accs, yMin: max(0, floor(lowest * 20) / 20), yMax: 1, percent: true)
        return s + "</svg>\n"
    }
}
