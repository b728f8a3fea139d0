import Glibc

/// Skew by projection profiles (the angle whose row profile of the ink has the largest sum of
/// squares; Postl 1986, Baird 1987) and the bilinear rotation that corrects it: for pages
/// (`LineSegmentation`) and for single lines (`LineNormalizer`).
public enum Skew {
    /// The ink pixels (strength over `threshold`) of a `width` x `height` map, about its centre. On
    /// a large map every `step`-th pixel of every `step`-th row, in units of `step` pixels, so that
    /// the profile's bins are `step` rows high: bins of one row would leave every other bin empty at
    /// exactly 0 degrees alone (the sampled rows), which doubled that angle's score and held a
    /// turned page of 1.6 megapixels or more at 0 degrees. With the number of bins a profile of
    /// them needs.
    public static func profilePoints(_ ink: [Float], width w: Int, height h: Int, threshold: Float) -> (points: [(Double, Double)], bins: Int) {
        var points: [(Double, Double)] = []
        let step = max(1, Int((Double(w * h) / 400_000).squareRoot()))
        for y in stride(from: 0, to: h, by: step) {
            for x in stride(from: 0, to: w, by: step) where ink[y * w + x] > threshold {
                points.append(((Double(x) - Double(w) / 2) / Double(step), (Double(y) - Double(h) / 2) / Double(step)))
            }
        }
        return (points, (h + w) / step + 2)
    }

    /// The angle in ±`range` degrees (by `step` degrees) whose row profile of `points` (`x`, `y`)
    /// has the largest sum of squares, and that sum; of equal sums, the angle nearest 0.
    public static func bestProfile(_ points: [(Double, Double)], bins: Int, range: Double, step: Double) -> (degrees: Double, score: Double) {
        var best = 0.0, bestScore = -1.0
        var profile = [Double](repeating: 0, count: bins)
        for k in stride(from: -range, through: range + 1e-9, by: step) {
            let a = k * .pi / 180, s = sin(a), c = cos(a)
            for i in 0..<bins { profile[i] = 0 }
            for (x, y) in points {
                // The row of (x, y) once the map is turned by -k degrees.
                let row = Int((y * c + x * s) + Double(bins) / 2)
                if row >= 0 && row < bins { profile[row] += 1 }
            }
            let score = profile.reduce(0) { $0 + $1 * $1 }
            if score > bestScore + 1e-9 || (abs(score - bestScore) <= 1e-9 && abs(k) < abs(best)) { bestScore = score; best = k }
        }
        return (best, bestScore)
    }

    /// `ink` turned by `degrees` (counter-clockwise on screen for positive angles) about its centre,
    /// bilinear, the same size.
    public static func rotate(_ ink: [Float], width w: Int, height h: Int, degrees: Double) -> [Float] {
        let a = degrees * .pi / 180, s = sin(a), c = cos(a)
        let cx = Double(w) / 2, cy = Double(h) / 2
        var out = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                // Source of the output pixel: the inverse rotation.
                let dx = Double(x) - cx, dy = Double(y) - cy
                let sx = cx + dx * c - dy * s, sy = cy + dx * s + dy * c
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                guard x0 >= 0, y0 >= 0, x0 + 1 < w, y0 + 1 < h else { continue }
                let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                let top = ink[y0 * w + x0] * (1 - fx) + ink[y0 * w + x0 + 1] * fx
                let bottom = ink[(y0 + 1) * w + x0] * (1 - fx) + ink[(y0 + 1) * w + x0 + 1] * fx
                out[y * w + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }
}
