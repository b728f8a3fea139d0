/// Dense forward: `out[n, o] = x[n, i] * weight[i, o] + bias[o]`.
public func denseForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         n: Int, inputs: Int, outputs: Int) {
    for r in 0..<n { (out + r * outputs).update(from: bias, count: outputs) }
    gemm(false, false, m: n, n: outputs, k: inputs, a: x, b: weight, beta: 1, c: out)
}

/// Dense backward.
/// - Parameters:
///   - dx: [n, inputs] or nil
///   - dWeight: [inputs, outputs], accumulated; dBias: [outputs], accumulated
///   - dy: [n, outputs]; x: [n, inputs]
public func denseBackward(dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                          dBias: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>,
                          x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          n: Int, inputs: Int, outputs: Int) {
    gemm(true, false, m: inputs, n: outputs, k: n, a: x, b: dy, beta: 1, c: dWeight)
    for r in 0..<n {
        let d = dy + r * outputs
        for j in 0..<outputs { dBias[j] += d[j] }
    }
    if let dx { gemm(false, true, m: n, n: inputs, k: outputs, a: dy, b: weight, beta: 0, c: dx) }
}
