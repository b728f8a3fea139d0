import Foundation

/// In-place ReLU over `n` floats.
@inline(__always)
public func reluForward(_ x: UnsafeMutablePointer<Float>, n: Int) {
    for i in 0..<n where x[i] < 0 { x[i] = 0 }
}

/// ReLU backward given the ReLU's output `y`: `dx = dy * (y > 0)`, in place on `d`.
@inline(__always)
public func reluBackward(_ d: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, n: Int) {
    for i in 0..<n where y[i] <= 0 { d[i] = 0 }
}

/// Logistic sigmoid.
@inline(__always)
public func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// Dropout forward (training): `out = x * mask`, `mask` in {0, 1/(1-rate)}.
/// - Parameters:
///   - out, mask: [n]
///   - random: a generator of uniform floats in [0, 1)
public func dropoutForward(out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                           x: UnsafePointer<Float>, n: Int, rate: Float, random: () -> Float) {
    let keep = 1 / (1 - rate)
    for i in 0..<n {
        mask[i] = random() < rate ? 0 : keep
        out[i] = x[i] * mask[i]
    }
}
