/// Max pooling over 2 x `poolWidth` windows (poolWidth 2, or 1 to pool rows only, as the line model's
/// second pooling does), stride equal to the window, NHWC. Odd trailing rows/columns are dropped
/// (floor), as in Keras.
/// - Parameters:
///   - out: [N, H/2, W/poolWidth, C]
///   - argmax: same shape as out, index into `input` of each maximum, kept for backward (may be nil)
///   - input: [N, H, W, C]
public func maxPool2Forward(out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>?,
                            input: UnsafePointer<Float>, b: Int, h: Int, w: Int, c: Int, poolWidth: Int = 2) {
    let oh = h / 2, ow = w / poolWidth
    // Offsets of the other window cells from the top-left one.
    let right = poolWidth == 2 ? c : 0, below = w * c, diagonal = below + right
    var o = 0
    guard let argmax else {
        // Inference: no positions to keep, so a branch-free maximum over channels (vectorised).
        for n in 0..<b {
            for y in 0..<oh {
                for x in 0..<ow {
                    let top = input + ((n * h + 2 * y) * w + poolWidth * x) * c, bottom = top + below
                    let result = out + o
                    for ch in 0..<c { result[ch] = max(max(top[ch], bottom[ch]), max(top[ch + right], bottom[ch + right])) }
                    o += c
                }
            }
        }
        return
    }
    for n in 0..<b {
        for y in 0..<oh {
            for x in 0..<ow {
                let base = ((n * h + 2 * y) * w + poolWidth * x) * c
                for ch in 0..<c {
                    var best = base + ch
                    var value = input[best]
                    let under = best + below
                    if input[under] > value { value = input[under]; best = under }
                    if poolWidth == 2 {
                        let r = base + ch + right, d = base + ch + diagonal
                        if input[r] > value { value = input[r]; best = r }
                        if input[d] > value { value = input[d]; best = d }
                    }
                    out[o] = value
                    argmax[o] = Int32(best)
                    o += 1
                }
            }
        }
    }
}

/// Max pooling backward: adds each output gradient to the input position of its maximum.
/// - Parameters:
///   - dInput: [N, H, W, C] (`inputCount` floats), added to
///   - dOut, argmax: [N, H/2, W/poolWidth, C] (`outputCount` floats), as left by the forward pass
public func maxPool2Backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                             argmax: UnsafePointer<Int32>, outputCount: Int) {
    for i in 0..<outputCount { dInput[Int(argmax[i])] += dOut[i] }
}
