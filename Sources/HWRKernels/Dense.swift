/// Dense (fully connected) forward: `out[r, o] = sum_f x[r, f] * weight[f, o] + bias[o]`.
/// - Parameters:
///   - out: [R, O]
///   - x: [R, F]
///   - weight: [F, O]; bias: [O]
public func denseForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         n: Int, inputs: Int, outputs: Int) {
    for r in 0..<n { (out + r * outputs).update(from: bias, count: outputs) }
    gemm(.noTranspose, .noTranspose, m: n, n: outputs, k: inputs, a: x, b: weight, beta: 1, c: out)
}

/// Dense backward; adds into every gradient.
/// - Parameters:
///   - dx: [R, F], added to; nil when the input needs no gradient
///   - dWeight: [F, O], added to; dBias: [O], added to
///   - dy: [R, O]; x: [R, F] as in the forward pass
public func denseBackward(dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                          dBias: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>,
                          x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          n: Int, inputs: Int, outputs: Int) {
    gemm(.transpose, .noTranspose, m: inputs, n: outputs, k: n, a: x, b: dy, beta: 1, c: dWeight)
    for r in 0..<n {
        let d = dy + r * outputs
        for j in 0..<outputs { dBias[j] += d[j] }
    }
    if let dx { gemm(.noTranspose, .transpose, m: n, n: inputs, k: outputs, a: dy, b: weight, beta: 1, c: dx) }
}
