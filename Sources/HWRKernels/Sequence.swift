/// Reshapes a feature map into a time-major sequence over its columns: step `x` carries column `x`
/// of every row, `out[x, n, y*C + ch] = input[n, y, x, ch]` (T = W steps of F = H*C features).
/// - Parameters:
///   - out: [W, N, H*C]
///   - input: [N, H, W, C]
public func columnsToSequence(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                              b: Int, h: Int, w: Int, c: Int) {
    for n in 0..<b {
        for y in 0..<h {
            for x in 0..<w {
                let src = input + ((n * h + y) * w + x) * c
                let dst = out + (x * b + n) * h * c + y * c
                dst.update(from: src, count: c)
            }
        }
    }
}

/// Adjoint of `columnsToSequence` (its backward pass): adds the sequence gradient into the feature map's.
/// - Parameters:
///   - dInput: [N, H, W, C], added to
///   - dOut: [W, N, H*C]
public func sequenceToColumns(_ dInput: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                              b: Int, h: Int, w: Int, c: Int) {
    for n in 0..<b {
        for y in 0..<h {
            for x in 0..<w {
                let dst = dInput + ((n * h + y) * w + x) * c
                let src = dOut + (x * b + n) * h * c + y * c
                for ch in 0..<c { dst[ch] += src[ch] }
            }
        }
    }
}
