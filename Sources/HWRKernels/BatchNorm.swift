import Glibc

// Batch normalization (Ioffe and Szegedy, 2015) over rows: x is [R, C] (R = N*H*W positions of a
// feature map), statistics per column (channel).

/// Training-mode batch norm forward with batch statistics; updates the running statistics when given.
/// - Parameters:
///   - out: [R, C]
///   - xhat: [R, C], the normalized input kept for backward
///   - invStd: [C], kept for backward
///   - x: [R, C]
///   - gamma, beta: [C]
///   - runningMean, runningVar: [C], moved towards the batch statistics; nil to leave them (a data-
///     parallel replica whose statistics another replica keeps)
public func batchNormTrainForward(out: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>,
                                  invStd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                                  gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                  runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?,
                                  n: Int, c: Int, momentum: Float, epsilon: Float) {
    var mean = [Double](repeating: 0, count: c)
    var sq = [Double](repeating: 0, count: c)
    for r in 0..<n {
        let row = x + r * c
        for j in 0..<c { let v = Double(row[j]); mean[j] += v; sq[j] += v * v }
    }
    for j in 0..<c {
        let m = mean[j] / Double(n)
        let variance = max(sq[j] / Double(n) - m * m, 0)
        mean[j] = m
        invStd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
        guard let runningMean, let runningVar else { continue }
        runningMean[j] = momentum * runningMean[j] + (1 - momentum) * Float(m)
        let unbiased = n > 1 ? variance * Double(n) / Double(n - 1) : variance
        runningVar[j] = momentum * runningVar[j] + (1 - momentum) * Float(unbiased)
    }
    let meanF = mean.map { Float($0) }
    for r in 0..<n {
        let xr = x + r * c, hr = xhat + r * c, orow = out + r * c
        for j in 0..<c {
            let v = (xr[j] - meanF[j]) * invStd[j]
            hr[j] = v
            orow[j] = gamma[j] * v + beta[j]
        }
    }
}

/// Batch norm backward (training mode), in place: `d` holds dy on entry and dx on return (dx is a
/// function of the whole column of dy, so it cannot be added to another gradient); dGamma and dBeta are
/// added to.
/// - Parameters:
///   - d: [R, C]
///   - dGamma, dBeta: [C], added to
///   - xhat, invStd: as left by the forward pass
///   - gamma: [C]
public func batchNormBackward(_ d: UnsafeMutablePointer<Float>, dGamma: UnsafeMutablePointer<Float>,
                              dBeta: UnsafeMutablePointer<Float>, xhat: UnsafePointer<Float>,
                              invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, n: Int, c: Int) {
    var sumDy = [Float](repeating: 0, count: c)
    var sumDyXhat = [Float](repeating: 0, count: c)
    for r in 0..<n {
        let dr = d + r * c, hr = xhat + r * c
        for j in 0..<c { sumDy[j] += dr[j]; sumDyXhat[j] += dr[j] * hr[j] }
    }
    for j in 0..<c { dBeta[j] += sumDy[j]; dGamma[j] += sumDyXhat[j] }
    let inv = 1 / Float(n)
    for r in 0..<n {
        let dr = d + r * c, hr = xhat + r * c
        for j in 0..<c {
            dr[j] = gamma[j] * invStd[j] * (dr[j] - inv * sumDy[j] - hr[j] * inv * sumDyXhat[j])
        }
    }
}

/// Folds inference-mode batch norm into the preceding convolution:
/// `w'[.., o] = w[.., o] * s[o]`, `b'[o] = beta[o] - mean[o] * s[o]` with `s = gamma / sqrt(var + eps)`.
/// - Parameters:
///   - foldedWeight: [rows, C]; foldedBias: [C]
///   - weight: [rows, C] (a convolution's [K, K, Cin, Cout] has rows = K*K*Cin)
///   - gamma, beta, mean, variance: [C]
public func foldBatchNorm(foldedWeight: UnsafeMutablePointer<Float>, foldedBias: UnsafeMutablePointer<Float>,
                          weight: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                          mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
                          rows: Int, c: Int, epsilon: Float) {
    for j in 0..<c {
        let s = gamma[j] / (variance[j] + epsilon).squareRoot()
        foldedBias[j] = beta[j] - mean[j] * s
        for r in 0..<rows { foldedWeight[r * c + j] = weight[r * c + j] * s }
    }
}
