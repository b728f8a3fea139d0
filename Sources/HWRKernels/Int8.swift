import CInt8Kernels
import Glibc

// int8 inference (Jacob et al., "Quantization and Training of Neural Networks for Efficient
// Integer-Arithmetic-Only Inference", CVPR 2018; the u7 x s8 scheme of FBGEMM for AVX2 without VNNI):
// a layer's input is quantized per tensor to unsigned 7 bits, q = clamp(round(x / s) + z, 0, 127);
// its weights per output column to signed 8 bits, w ≈ s_w[n] * q_w with q_w in -127...127. The
// product sums q * q_w in 32-bit integers; the float result is s * s_w[n] * (sum - z * Σ_k q_w[k, n]).

/// How one layer's input is quantized: `q = clamp(round(x / scale) + zeroPoint, 0, 127)`.
public struct ActivationQuantization: Codable, Equatable, Sendable {
    /// Float value of one step (> 0).
    public var scale: Float
    /// The code of 0.0 (0...127).
    public var zeroPoint: Int

    /// Largest code (7 bits, so that the u8 x s8 pair sums of the kernel never saturate).
    public static let maximumCode = 127

    /// Creates a quantization from its scale and zero point.
    public init(scale: Float, zeroPoint: Int) { self.scale = scale; self.zeroPoint = zeroPoint }

    /// The quantization covering [min(0, minimum), max(0, maximum)] (0.0 exactly representable),
    /// as observed on calibration data.
    public init(minimum: Float, maximum: Float) {
        let low = min(0, minimum), high = max(0, maximum, low + 1e-6)
        scale = (high - low) / Float(Self.maximumCode)
        zeroPoint = min(Self.maximumCode, max(0, Int((-low / scale).rounded())))
    }

    /// An LSTM's hidden state, within ±1: steps of 1/63 around code 64.
    public static let recurrent = ActivationQuantization(scale: 1 / 63, zeroPoint: 64)

    /// Whether it is usable: a finite positive scale and a zero point within the codes.
    public var isValid: Bool { scale.isFinite && scale > 0 && (0...Self.maximumCode).contains(zeroPoint) }
}

/// A weight matrix [rows (k), columns (n)] quantized per column to int8 and packed for
/// `QuantizedProduct`. Immutable; shared by every network instance of a model.
public final class Int8Matrix: @unchecked Sendable {
    /// Rows (the product's k) and columns (n).
    public let rows: Int, columns: Int
    /// The quantized weights, [rows, columns] row-major, each in -127...127 (kept for writing files).
    public let values: [Int8]
    /// Per column: the float value of one step.
    public let scales: [Float]
    /// Per column: Σ_k values[k, n] (the zero-point correction).
    let columnSums: [Int32]
    /// `values` in the kernel's packed layout (32-byte aligned).
    let packed: UnsafeMutableRawPointer

    /// Wraps quantized weights (from a model file).
    /// - Precondition: `values.count == rows * columns`, `scales.count == columns`, values in -127...127.
    public init(values: [Int8], scales: [Float], rows: Int, columns: Int) {
        precondition(values.count == rows * columns && scales.count == columns)
        self.rows = rows; self.columns = columns; self.values = values; self.scales = scales
        var sums = [Int32](repeating: 0, count: columns)
        for r in 0..<rows { for c in 0..<columns { sums[c] += Int32(values[r * columns + c]) } }
        columnSums = sums
        let size = hwr_int8_packed_size(Int32(rows), Int32(columns))
        packed = UnsafeMutableRawPointer.allocate(byteCount: max(size, 32), alignment: 32)
        values.withUnsafeBufferPointer { hwr_int8_pack(packed.assumingMemoryBound(to: Int8.self), $0.baseAddress, Int32(rows), Int32(columns)) }
    }

    /// Quantizes float weights [rows, columns] per column: scale = max |w| / 127, q = round(w / scale).
    public convenience init(quantizing w: UnsafePointer<Float>, rows: Int, columns: Int) {
        var scales = [Float](repeating: 0, count: columns)
        for r in 0..<rows { for c in 0..<columns { scales[c] = max(scales[c], abs(w[r * columns + c])) } }
        scales = scales.map { $0 > 0 ? $0 / 127 : 1 }
        var values = [Int8](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { values[r * columns + c] = Int8(max(-127, min(127, (w[r * columns + c] / scales[c]).rounded()))) }
        }
        self.init(values: values, scales: scales, rows: rows, columns: columns)
    }

    deinit { packed.deallocate() }

    /// Writes the float weights the int8 ones stand for (`scale * value`) to `w` [rows, columns].
    public func dequantize(into w: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { for c in 0..<columns { w[r * columns + c] = Float(values[r * columns + c]) * scales[c] } }
    }
}

/// One int8 matrix product of a layer: quantized weights and the quantization of their input,
/// with the per-column factors precomputed. Immutable.
public final class QuantizedProduct: @unchecked Sendable {
    /// The weights.
    public let weights: Int8Matrix
    /// How the input is quantized.
    public let input: ActivationQuantization
    private let scales: [Float], columnOffsets: [Int32]

    /// Precomputes `input.scale * weights.scales[n]` and `input.zeroPoint * Σ_k q[k, n]`.
    public init(weights: Int8Matrix, input: ActivationQuantization) {
        self.weights = weights; self.input = input
        scales = weights.scales.map { $0 * input.scale }
        columnOffsets = weights.columnSums.map { $0 * Int32(input.zeroPoint) }
    }

    /// Bytes per row of a quantized input (k rounded up to a multiple of 4).
    public var rowStride: Int { Int(hwr_int8_row_stride(Int32(weights.rows))) }

    /// Quantizes `rows` rows of `weights.rows` floats (stride `ldx`) into `codes` (stride `rowStride`).
    public func quantize(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, into codes: UnsafeMutablePointer<UInt8>) {
        hwr_int8_quantize(codes, Int32(rowStride), x, Int32(ldx), Int32(rows), Int32(weights.rows), 1 / input.scale, Int32(input.zeroPoint))
    }

    /// `c[m, n] = (accumulate ? c : 0) + dequantized(codes[m, :] · weights[:, n]) + bias[n]`, then
    /// ReLU if asked.
    /// - Parameters:
    ///   - codes: [m, rowStride] input codes (from `quantize`, or `im2colCodes`)
    ///   - bias: [n] or nil
    ///   - c: [m, ldc] floats
    public func multiply(m: Int, codes: UnsafePointer<UInt8>, bias: UnsafePointer<Float>?, into c: UnsafeMutablePointer<Float>,
                         ldc: Int, accumulate: Bool, relu: Bool) {
        guard m > 0 else { return }
        scales.withUnsafeBufferPointer { s in
            columnOffsets.withUnsafeBufferPointer { o in
                hwr_int8_gemm(Int32(m), Int32(weights.columns), Int32(weights.rows), codes, Int32(rowStride),
                              weights.packed.assumingMemoryBound(to: Int8.self), o.baseAddress, s.baseAddress, bias,
                              c, Int32(ldc), accumulate ? 1 : 0, relu ? 1 : 0)
            }
        }
    }
}

/// im2col over quantized codes for a 'same' convolution (see `im2col`): rows of `rowStride` bytes,
/// the positions outside the image set to `zeroPoint` (the code of 0.0).
/// - Parameters:
///   - col: output [N*H*W, rowStride], rowStride >= K*K*Cin
///   - input: [N, H, W, Cin] codes
public func im2colCodes(_ col: UnsafeMutablePointer<UInt8>, rowStride: Int, _ input: UnsafePointer<UInt8>,
                        b: Int, h: Int, w: Int, cin: Int, k: Int, zeroPoint: UInt8) {
    im2colRows(col, rowStride: rowStride, input, b: b, h: h, w: w, cin: cin, k: k, outside: zeroPoint)
}

/// Quantizes `count` floats to codes with `quantization` (a feature map before `im2colCodes`).
public func quantizeCodes(_ x: UnsafePointer<Float>, count: Int, _ quantization: ActivationQuantization,
                          into codes: UnsafeMutablePointer<UInt8>) {
    hwr_int8_quantize(codes, Int32(count), x, Int32(count), 1, Int32(count), 1 / quantization.scale, Int32(quantization.zeroPoint))
}

/// Whether the int8 products run on the AVX2 kernel (false: the portable scalar one).
public var int8UsesAVX2: Bool { hwr_int8_uses_avx2() != 0 }

/// Bytes of workspace (activation codes, im2col rows), grown like `FloatBuffer`.
public typealias ByteBuffer = Buffer<UInt8>
