import Glibc

// Connectionist Temporal Classification loss (Graves et al., 2006), forward-backward in log space.
// Logits are time-major [T, N, V]; class V-1 is the blank. Each sample uses its first `steps`
// steps; its label is a sequence of classes in 0..<V-1.

/// log(e^a + e^b) without overflow; -infinity is the log of zero.
@inline(__always)
public func logAdd(_ a: Float, _ b: Float) -> Float {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    let m = max(a, b)
    return m + logf(expf(a - m) + expf(b - m))
}

/// CTC loss of one sample and its gradient with respect to the logits. A loss starts the backward
/// pass, so it writes its gradient rather than adding to one.
/// - Parameters:
///   - dLogits: gradient rows for this sample: step t at `dLogits + t * rowStride`, V floats, overwritten
///     for t < steps (scaled by `scale`)
///   - logits: rows laid out like `dLogits`
///   - label: the target classes (no blanks)
///   - steps: time steps of this sample
///   - classes: V, the blank included
///   - rowStride: floats from one step's row to the next (N * V for a time-major batch)
///   - scale: multiplies the gradient (1 / batch for a mean loss)
/// - Returns: the negative log-likelihood, or +infinity when the label cannot fit in `steps`
///   (the gradient is then zero).
public func ctcLoss(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, label: [Int32],
                    steps: Int, classes: Int, rowStride: Int, scale: Float) -> Float {
    let blank = classes - 1
    let s = 2 * label.count + 1
    // Extended label: blank, l1, blank, l2, ..., blank.
    let ext = (0..<s).map { $0 % 2 == 0 ? blank : Int(label[$0 / 2]) }
    var repeats = 0
    for i in 1..<max(1, label.count) where label[i] == label[i - 1] { repeats += 1 }
    for t in 0..<steps { (dLogits + t * rowStride).update(repeating: 0, count: classes) }
    guard label.count + repeats <= steps, steps > 0 else { return .infinity }
    // Log-probabilities per step.
    var logp = [Float](repeating: 0, count: steps * classes)
    logp.withUnsafeMutableBufferPointer { lp in
        for t in 0..<steps { logSoftmaxRows(lp.baseAddress! + t * classes, logits + t * rowStride, rows: 1, cols: classes) }
    }
    var alpha = [Float](repeating: -.infinity, count: steps * s)
    var beta = alpha
    alpha[0] = logp[ext[0]]
    if s > 1 { alpha[1] = logp[ext[1]] }
    for t in 1..<max(1, steps) {
        for i in 0..<s {
            var a = alpha[(t - 1) * s + i]
            if i >= 1 { a = logAdd(a, alpha[(t - 1) * s + i - 1]) }
            if i >= 2, ext[i] != blank, ext[i] != ext[i - 2] { a = logAdd(a, alpha[(t - 1) * s + i - 2]) }
            alpha[t * s + i] = a + logp[t * classes + ext[i]]
        }
    }
    let last = (steps - 1) * s
    beta[last + s - 1] = logp[(steps - 1) * classes + ext[s - 1]]
    if s > 1 { beta[last + s - 2] = logp[(steps - 1) * classes + ext[s - 2]] }
    for t in stride(from: steps - 2, through: 0, by: -1) {
        for i in 0..<s {
            var b = beta[(t + 1) * s + i]
            if i + 1 < s { b = logAdd(b, beta[(t + 1) * s + i + 1]) }
            if i + 2 < s, ext[i] != blank, ext[i] != ext[i + 2] { b = logAdd(b, beta[(t + 1) * s + i + 2]) }
            beta[t * s + i] = b + logp[t * classes + ext[i]]
        }
    }
    var logLikelihood = alpha[last + s - 1]
    if s > 1 { logLikelihood = logAdd(logLikelihood, alpha[last + s - 2]) }
    guard logLikelihood.isFinite else { return .infinity }
    // d(-log p)/d logit[t,k] = softmax[t,k] - (1/p) * sum_{i: ext[i]=k} alpha[t,i] * beta[t,i] / y[t,k]
    var occupancy = [Float](repeating: -.infinity, count: classes)
    for t in 0..<steps {
        for k in 0..<classes { occupancy[k] = -.infinity }
        for i in 0..<s { occupancy[ext[i]] = logAdd(occupancy[ext[i]], alpha[t * s + i] + beta[t * s + i]) }
        let d = dLogits + t * rowStride
        for k in 0..<classes {
            let y = logp[t * classes + k]
            let posterior = occupancy[k] == -.infinity ? 0 : expf(occupancy[k] - y - logLikelihood)
            d[k] = (expf(y) - posterior) * scale
        }
    }
    return -logLikelihood
}
