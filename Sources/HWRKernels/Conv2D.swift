// 2-D convolution, stride 1, 'same' zero padding, NHWC layout, lowered to one matrix product
// through im2col (Chellapilla, Puri and Simard, 2006). Weights are [K, K, Cin, Cout]: the K*K*Cin
// rows of the im2col matrix times Cout.

/// im2col for a 'same' convolution.
/// - Parameters:
///   - col: output [N*H*W, K*K*Cin]
///   - input: [N, H, W, Cin]
public func im2col(_ col: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                   b: Int, h: Int, w: Int, cin: Int, k: Int) {
    im2colRows(col, rowStride: k * k * cin, input, b: b, h: h, w: w, cin: cin, k: k, outside: 0)
}

/// im2col of floats or int8 codes: row (n, y, x) of `col` (`rowStride` elements apart, at least
/// K*K*Cin) holds the K x K x Cin window around (y, x), `outside` where it leaves the image.
@inline(__always)
func im2colRows<T>(_ col: UnsafeMutablePointer<T>, rowStride: Int, _ input: UnsafePointer<T>,
                   b: Int, h: Int, w: Int, cin: Int, k: Int, outside: T) {
    let pad = k / 2
    for n in 0..<b {
        let img = input + n * h * w * cin
        for y in 0..<h {
            for x in 0..<w {
                var dst = col + ((n * h + y) * w + x) * rowStride
                // The taps of one kernel row that fall inside the image are contiguous in the input:
                // one copy for them, `outside` for the rest.
                let first = max(0, pad - x), last = min(k, w + pad - x) // kx in first..<last inside
                for ky in 0..<k {
                    let sy = y + ky - pad
                    guard sy >= 0 && sy < h, first < last else {
                        dst.update(repeating: outside, count: k * cin)
                        dst += k * cin
                        continue
                    }
                    if first > 0 { dst.update(repeating: outside, count: first * cin) }
                    (dst + first * cin).update(from: img + (sy * w + x + first - pad) * cin, count: (last - first) * cin)
                    if last < k { (dst + last * cin).update(repeating: outside, count: (k - last) * cin) }
                    dst += k * cin
                }
            }
        }
    }
}

/// Adjoint of `im2col`: adds the column gradient back into the input gradient.
/// - Parameters:
///   - dInput: [N, H, W, Cin], added to
///   - dCol: [N*H*W, K*K*Cin]
public func col2im(_ dInput: UnsafeMutablePointer<Float>, _ dCol: UnsafePointer<Float>,
                   b: Int, h: Int, w: Int, cin: Int, k: Int) {
    let pad = k / 2
    let rowLen = k * k * cin
    for n in 0..<b {
        let img = dInput + n * h * w * cin
        for y in 0..<h {
            for x in 0..<w {
                var src = dCol + ((n * h + y) * w + x) * rowLen
                for ky in 0..<k {
                    let sy = y + ky - pad
                    for kx in 0..<k {
                        let sx = x + kx - pad
                        if sy >= 0 && sy < h && sx >= 0 && sx < w {
                            let dst = img + (sy * w + sx) * cin
                            for c in 0..<cin { dst[c] += src[c] }
                        }
                        src += cin
                    }
                }
            }
        }
    }
}

/// Convolution forward: `out = im2col(input) * weight (+ bias)`, then ReLU if asked.
/// - Parameters:
///   - out: [N, H, W, Cout]
///   - col: scratch [N*H*W, K*K*Cin], left holding im2col(input) for the backward pass
///   - input: [N, H, W, Cin]
///   - weight: [K, K, Cin, Cout]
///   - bias: [Cout] or nil
public func conv2dForward(out: UnsafeMutablePointer<Float>, col: UnsafeMutablePointer<Float>,
                          input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, b: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int,
                          relu: Bool = false) {
    im2col(col, input, b: b, h: h, w: w, cin: cin, k: k)
    let rows = b * h * w
    // The bias written first makes the product's beta 1, which spares BLAS its pass zeroing C.
    if let bias {
        for r in 0..<rows { (out + r * cout).update(from: bias, count: cout) }
    }
    gemm(.noTranspose, .noTranspose, m: rows, n: cout, k: k * k * cin, a: col, b: weight, beta: bias == nil ? 0 : 1, c: out)
    if relu { reluForward(out, n: rows * cout) }
}

/// Convolution backward; adds into every gradient.
/// - Parameters:
///   - dInput: [N, H, W, Cin], added to; nil when the input needs no gradient (first layer)
///   - dWeight: [K, K, Cin, Cout], added to
///   - dCol: scratch [N*H*W, K*K*Cin] for the column gradient (not touched when dInput is nil)
///   - dOut: [N, H, W, Cout]
///   - col: im2col(input) as left by the forward pass
public func conv2dBackward(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                           dCol: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                           col: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           b: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int) {
    let rows = b * h * w
    let kk = k * k * cin
    gemm(.transpose, .noTranspose, m: kk, n: cout, k: rows, a: col, b: dOut, beta: 1, c: dWeight)
    guard let dInput else { return }
    gemm(.noTranspose, .transpose, m: rows, n: kk, k: cout, a: dOut, b: weight, beta: 0, c: dCol)
    col2im(dInput, dCol, b: b, h: h, w: w, cin: cin, k: k)
}
