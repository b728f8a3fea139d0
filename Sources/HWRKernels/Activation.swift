import Glibc

/// In-place ReLU over `n` floats.
@inline(__always)
public func reluForward(_ x: UnsafeMutablePointer<Float>, n: Int) {
    for i in 0..<n where x[i] < 0 { x[i] = 0 }
}

/// ReLU backward given the ReLU's output `y`, in place: `d` holds dy on entry and `dx = dy * (y > 0)`
/// on return.
@inline(__always)
public func reluBackward(_ d: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, n: Int) {
    for i in 0..<n where y[i] <= 0 { d[i] = 0 }
}

/// Logistic sigmoid.
@inline(__always)
public func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// e^x for 8 lanes: Cody-Waite range reduction to |r| <= ln2/2, a degree-6 polynomial (Cephes'
/// expf coefficients, relative error about 2e-7), and the power of two built in the exponent bits.
@inline(__always)
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamp with masks: `clamped(lowerBound:upperBound:)` is not inlined and runs lane by lane.
    var x = x
    x.replace(with: -87, where: x .< -87)
    x.replace(with: 88, where: x .> 88)
    let magic = SIMD8<Float>(repeating: 12_582_912) // 1.5 * 2^23: adding it rounds to an integer
    let k = x * 1.442_695_04 + magic
    let n = k - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var y = SIMD8<Float>(repeating: 1.987_569_15e-4)
    y = y * r + 1.398_199_95e-3
    y = y * r + 8.333_451_9e-3
    y = y * r + 4.166_579_59e-2
    y = y * r + 1.666_666_55e-1
    y = y * r + 5.000_000_12e-1
    y = y * r * r + r + 1
    let exponent = (unsafeBitCast(k, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// In-place logistic sigmoid over `n` floats, 8 at a time.
public func sigmoidInPlace(_ x: UnsafeMutablePointer<Float>, n: Int) {
    var i = 0
    let raw = UnsafeMutableRawPointer(x)
    while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        raw.storeBytes(of: 1 / (1 + exp8(-v)), toByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { x[i] = sigmoid(x[i]); i += 1 }
}

/// `out = tanh(x)` over `n` floats, 8 at a time (may run in place).
public func tanhVector(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, n: Int) {
    var i = 0
    let source = UnsafeRawPointer(x), destination = UnsafeMutableRawPointer(out)
    while i + 8 <= n {
        let v = source.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        // tanh(v) = 1 - 2 / (e^(2v) + 1), exact at both tails after clamping in exp8.
        destination.storeBytes(of: 1 - 2 / (exp8(v + v) + 1), toByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { out[i] = tanhf(x[i]); i += 1 }
}

/// Inverted dropout forward (training; Srivastava et al., 2014): `out = x * mask`, `mask` in
/// {0, 1/(1-rate)}, so inference needs no scaling. Its backward multiplies dy by `mask` in place.
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
