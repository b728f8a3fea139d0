import Glibc

/// Row-wise softmax: `probs[r, :] = softmax(logits[r, :])` over [rows, V]. May run in place.
/// The row's maximum is subtracted first, so finite logits give finite probabilities in [0, 1]
/// summing to 1 (the largest term is exp(0) = 1, so the sum never underflows to 0).
public func softmaxRows(_ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let l = logits + r * cols, p = probs + r * cols
        var m = -Float.infinity
        for j in 0..<cols { m = max(m, l[j]) }
        var s: Float = 0
        for j in 0..<cols { let e = expf(l[j] - m); p[j] = e; s += e }
        let inv = 1 / s
        for j in 0..<cols { p[j] *= inv }
    }
}

/// Row-wise log-softmax over [rows, V], with the row's maximum subtracted first. May run in place.
public func logSoftmaxRows(_ out: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let l = logits + r * cols, o = out + r * cols
        var m = -Float.infinity
        for j in 0..<cols { m = max(m, l[j]) }
        var s: Float = 0
        for j in 0..<cols { s += expf(l[j] - m) }
        let lse = m + logf(s)
        for j in 0..<cols { o[j] = l[j] - lse }
    }
}

/// Mean softmax cross-entropy over a batch of logits with integer labels, and its gradient. A loss
/// starts the backward pass, so it writes its gradient rather than adding to one.
/// - Parameters:
///   - dLogits: [rows, cols], receives `(softmax - onehot) / rows`
///   - logits: [rows, cols]
///   - labels: [rows], each in 0..<cols
/// - Returns: the mean loss.
public func softmaxCrossEntropy(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                labels: UnsafePointer<Int32>, rows: Int, cols: Int) -> Float {
    softmaxRows(dLogits, logits, rows: rows, cols: cols)
    var loss: Double = 0
    let inv = 1 / Float(rows)
    for r in 0..<rows {
        let p = dLogits + r * cols
        let y = Int(labels[r])
        loss -= Double(logf(max(p[y], 1e-12)))
        p[y] -= 1
        for j in 0..<cols { p[j] *= inv }
    }
    return Float(loss / Double(rows))
}
