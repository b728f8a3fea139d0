import Glibc
import HWRKernels

/// What a forward pass is for.
public enum PassMode {
    /// Inference: batch norm folded into the convolution, dropout off, nothing kept for backward.
    case inference
    /// Training: batch statistics, dropout on, activations kept for the backward pass.
    case training
}

/// A layer of a `Network`. Each owns its output and gradient buffers, so one network instance
/// must be used by one thread at a time; the parameters it reads may be shared.
protocol Layer: AnyObject {
    /// Runs the layer; the returned pointer stays valid until the next forward call.
    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape)
    /// Backpropagates `dy` (which it may overwrite), accumulating parameter gradients into `gradients`.
    /// Returns the input gradient, or nil when `needsInputGradient` is false.
    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>,
                  gradients: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>?
    /// Whether backward must produce an input gradient (false for the first layer).
    var needsInputGradient: Bool { get set }
}

/// Convolution + batch norm + ReLU.
final class ConvLayer: Layer {
    let filters: Int, kernel: Int
    let kernelOffset: Int, gammaOffset: Int, betaOffset: Int, meanOffset: Int, varOffset: Int
    var needsInputGradient = true
    /// Whether training passes move the running statistics (false for all but one data-parallel replica).
    var updatesRunningStatistics = true
    /// Share of the running statistics kept at each training pass (the rest is the batch's).
    var runningStatisticsMomentum = ConvLayer.momentum
    static let epsilon: Float = 1e-3, momentum: Float = 0.9
    private let col = FloatBuffer(), convOut = FloatBuffer(), out = FloatBuffer()
    private let xhat = FloatBuffer(), invStd = FloatBuffer(), dx = FloatBuffer()
    private let foldedKernel = FloatBuffer(), foldedBias = FloatBuffer()
    private var inShape = (h: 0, w: 0, c: 0)
    /// Whether `foldedKernel`/`foldedBias` match the current parameters (training invalidates them).
    private var foldIsCurrent = false
    /// The int8 product of an int8 model (inference), and its workspaces.
    private let int8: QuantizedProduct?
    private let inputCodes = ByteBuffer(), colCodes = ByteBuffer()

    /// - Parameters:
    ///   - offsets: of the kernel, gamma, beta, mean and var tensors.
    ///   - int8: the int8 kernel (batch norm folded in) of an int8 model
    init(filters: Int, kernel: Int, offsets: [Int], int8: QuantizedProduct? = nil) {
        self.filters = filters; self.kernel = kernel; self.int8 = int8
        (kernelOffset, gammaOffset, betaOffset, meanOffset, varOffset) = (offsets[0], offsets[1], offsets[2], offsets[3], offsets[4])
    }

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters p: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        let (h, w, c) = shape.asFeatureMap
        let rows = batch * h * w, kk = kernel * kernel * c
        let y = out.reserve(rows * filters)
        switch mode {
        case .inference:
            if !foldIsCurrent {
                foldBatchNorm(foldedWeight: foldedKernel.reserve(kk * filters), foldedBias: foldedBias.reserve(filters),
                          weight: p + kernelOffset, gamma: p + gammaOffset, beta: p + betaOffset,
                              mean: p + meanOffset, variance: p + varOffset, rows: kk, c: filters, epsilon: Self.epsilon)
                foldIsCurrent = true
            }
            if let int8 { // codes of the input, im2col over them, one int8 product with bias and ReLU
                let codes = inputCodes.reserve(batch * shape.count), stride = int8.rowStride
                quantizeCodes(x, count: batch * shape.count, int8.input, into: codes)
                im2colCodes(colCodes.reserve(rows * stride), rowStride: stride, codes, b: batch, h: h, w: w, cin: c, k: kernel,
                            zeroPoint: UInt8(int8.input.zeroPoint))
                int8.multiply(m: rows, codes: colCodes.pointer, bias: foldedBias.pointer, into: y, ldc: filters, accumulate: false, relu: true)
                return (y, .image(height: h, width: w, channels: filters))
            }
            col.reserve(rows * kk)
            conv2dForward(out: y, col: col.pointer, input: x, weight: foldedKernel.pointer, bias: foldedBias.pointer,
                          b: batch, h: h, w: w, cin: c, cout: filters, k: kernel, relu: true)
            return (y, .image(height: h, width: w, channels: filters))
        case .training:
            col.reserve(rows * kk)
            let z = convOut.reserve(rows * filters)
            conv2dForward(out: z, col: col.pointer, input: x, weight: p + kernelOffset, bias: nil,
                          b: batch, h: h, w: w, cin: c, cout: filters, k: kernel)
            batchNormTrainForward(out: y, xhat: xhat.reserve(rows * filters), invStd: invStd.reserve(filters), x: z,
                                  gamma: p + gammaOffset, beta: p + betaOffset,
                                  runningMean: updatesRunningStatistics ? p + meanOffset : nil,
                                  runningVar: updatesRunningStatistics ? p + varOffset : nil, n: rows, c: filters,
                                  momentum: runningStatisticsMomentum, epsilon: Self.epsilon)
            inShape = (h, w, c)
            foldIsCurrent = false
        }
        reluForward(y, n: rows * filters)
        return (y, .image(height: h, width: w, channels: filters))
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters p: UnsafeMutablePointer<Float>,
                  gradients g: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        let (h, w, c) = inShape
        let rows = batch * h * w, kk = kernel * kernel * c
        reluBackward(dy, y: out.pointer, n: rows * filters)
        batchNormBackward(dy, dGamma: g + gammaOffset, dBeta: g + betaOffset, xhat: xhat.pointer,
                          invStd: invStd.pointer, gamma: p + gammaOffset, n: rows, c: filters)
        let dInput: UnsafeMutablePointer<Float>? = needsInputGradient ? dx.reserve(rows * c) : nil
        dInput?.update(repeating: 0, count: rows * c)
        // The im2col buffer is no longer needed after the weight gradient, so it doubles as dCol.
        let dCol = needsInputGradient ? convOut.reserve(rows * kk) : col.pointer
        conv2dBackward(dInput: dInput, dWeight: g + kernelOffset, dCol: dCol, dOut: dy, col: col.pointer,
                       weight: p + kernelOffset, b: batch, h: h, w: w, cin: c, cout: filters, k: kernel)
        return dInput
    }
}

/// Max pooling over 2 x poolWidth windows.
final class MaxPoolLayer: Layer {
    let poolWidth: Int
    var needsInputGradient = true
    private let out = FloatBuffer(), dx = FloatBuffer(), argmax = IndexBuffer()
    private var inCount = 0, outCount = 0

    init(poolWidth: Int) { self.poolWidth = poolWidth }

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        let (h, w, c) = shape.asFeatureMap
        let outShape = Shape.image(height: h / 2, width: w / poolWidth, channels: c)
        inCount = batch * shape.count; outCount = batch * outShape.count
        let y = out.reserve(outCount)
        maxPool2Forward(out: y, argmax: mode == .training ? argmax.reserve(outCount) : nil, input: x,
                        b: batch, h: h, w: w, c: c, poolWidth: poolWidth)
        return (y, outShape)
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>,
                  gradients: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        let d = dx.reserve(inCount)
        d.update(repeating: 0, count: inCount)
        maxPool2Backward(dInput: d, dOut: dy, argmax: argmax.pointer, outputCount: outCount)
        return d
    }
}

/// Dropout; identity at inference.
final class DropoutLayer: Layer {
    let rate: Float
    var needsInputGradient = true
    private let out = FloatBuffer(), mask = FloatBuffer()
    private var count = 0

    init(rate: Float) { self.rate = rate }

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        guard mode == .training, rate > 0 else { return (x, shape) }
        count = batch * shape.count
        dropoutForward(out: out.reserve(count), mask: mask.reserve(count), x: x, n: count, rate: rate) { random.nextUniform() }
        return (out.pointer, shape)
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>,
                  gradients: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        if rate > 0 { for i in 0..<count { dy[i] *= mask.pointer[i] } }
        return dy
    }
}

/// Feature map to time-major sequence over columns.
final class ColumnsToSequenceLayer: Layer {
    var needsInputGradient = true
    private let out = FloatBuffer(), dx = FloatBuffer()
    private var inShape = (h: 0, w: 0, c: 0)

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        let (h, w, c) = shape.asFeatureMap
        inShape = (h, w, c)
        columnsToSequence(out.reserve(batch * shape.count), x, b: batch, h: h, w: w, c: c)
        return (out.pointer, .sequence(steps: w, features: h * c))
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters: UnsafeMutablePointer<Float>,
                  gradients: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        let (h, w, c) = inShape
        dx.zero(batch * h * w * c)
        sequenceToColumns(dx.pointer, dy, b: batch, h: h, w: w, c: c)
        return dx.pointer
    }
}

/// Bidirectional LSTM over a time-major sequence.
final class BiLSTMLayer: Layer {
    let units: Int, returnSequences: Bool
    let offsets: [(wx: Int, wh: Int, b: Int)]
    var needsInputGradient = true
    private let sequenceOut = FloatBuffer(), vectorOut = FloatBuffer(), dx = FloatBuffer(), dSequence = FloatBuffer()
    private let dGates = FloatBuffer()
    private let stateBuffers = (0..<2).map { _ in (FloatBuffer(), FloatBuffer(), FloatBuffer(), FloatBuffer()) }
    private var input: UnsafeMutablePointer<Float>?
    private var steps = 0, features = 0
    /// Steps of each sample of a padded batch (set by the network before forward), or empty.
    var lengths: [Int32] = []
    /// The int8 products of an int8 model (inference) by role (fw.wx, bw.wx, and fw.wh, bw.wh when
    /// the recurrent products are int8 too), and their workspaces.
    private let int8: [String: QuantizedProduct]
    private let inputCodes = ByteBuffer(), hiddenCodes = ByteBuffer()

    /// - Parameters:
    ///   - offsets: of the fw.wx, fw.wh, fw.b, bw.wx, bw.wh and bw.b tensors.
    ///   - int8: the int8 products of an int8 model, by role
    init(units: Int, returnSequences: Bool, offsets: [Int], int8: [String: QuantizedProduct] = [:]) {
        self.units = units; self.returnSequences = returnSequences; self.int8 = int8
        self.offsets = [(offsets[0], offsets[1], offsets[2]), (offsets[3], offsets[4], offsets[5])]
    }

    private func states(_ d: Int, count: Int) -> LSTMStates {
        let s = stateBuffers[d]
        return LSTMStates(gates: s.0.reserve(4 * count), cells: s.1.reserve(count),
                          previousHidden: s.2.reserve(count), hidden: s.3.reserve(count))
    }

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters p: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        let (t, f) = shape.asSequence
        steps = t; features = f; input = x
        let u2 = 2 * units
        let seq = sequenceOut.reserve(t * batch * u2)
        if mode == .inference, let fw = int8["fw.wx"], let bw = int8["bw.wx"] {
            forwardInt8(seq, x: x, steps: t, batch: batch, inputs: f, projections: [fw, bw], parameters: p)
        } else {
            lengths.withUnsafeBufferPointer { lengths in
                for d in 0..<2 {
                    let o = offsets[d]
                    lstmForward(out: seq + d * units, ldOut: u2, states: states(d, count: t * batch * units), x: x,
                                wx: p + o.wx, wh: p + o.wh, bias: p + o.b, steps: t, batch: batch, inputs: f,
                                units: units, reverse: d == 1, lengths: lengths.isEmpty ? nil : lengths.baseAddress)
                }
            }
        }
        if returnSequences { return (seq, .sequence(steps: t, features: u2)) }
        // Final states: the forward direction ends at t-1, the backward one at 0 (zero for no steps).
        let v = vectorOut.reserve(batch * u2)
        guard t > 0 else { v.update(repeating: 0, count: batch * u2); return (v, .vector(features: u2)) }
        for n in 0..<batch {
            (v + n * u2).update(from: seq + ((t - 1) * batch + n) * u2, count: units)
            (v + n * u2 + units).update(from: seq + n * u2 + units, count: units)
        }
        return (v, .vector(features: u2))
    }

    /// Both directions in int8: the input quantized once for both input projections; each recurrent
    /// product int8 when the model has it, float otherwise.
    private func forwardInt8(_ seq: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, steps t: Int, batch: Int,
                             inputs f: Int, projections: [QuantizedProduct], parameters p: UnsafeMutablePointer<Float>) {
        let rows = t * batch, g4 = 4 * units
        let codes = inputCodes.reserve(rows * projections[0].rowStride)
        projections[0].quantize(x, ldx: f, rows: rows, into: codes)
        lengths.withUnsafeBufferPointer { lengths in
            for d in 0..<2 {
                let o = offsets[d], recurrent = int8[d == 0 ? "fw.wh" : "bw.wh"]
                lstmForward(out: seq + d * units, ldOut: 2 * units, states: states(d, count: rows * units), steps: t, batch: batch,
                            units: units, reverse: d == 1, lengths: lengths.isEmpty ? nil : lengths.baseAddress,
                            projectInputs: { gates in
                                projections[d].multiply(m: rows, codes: codes, bias: p + o.b, into: gates, ldc: g4, accumulate: false, relu: false)
                            },
                            addRecurrent: { hidden, gates in
                                guard let recurrent else {
                                    gemm(.noTranspose, .noTranspose, m: batch, n: g4, k: units, a: hidden, b: p + o.wh, beta: 1, c: gates)
                                    return
                                }
                                let h = self.hiddenCodes.reserve(batch * recurrent.rowStride)
                                recurrent.quantize(hidden, ldx: self.units, rows: batch, into: h)
                                recurrent.multiply(m: batch, codes: h, bias: nil, into: gates, ldc: g4, accumulate: true, relu: false)
                            })
            }
        }
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters p: UnsafeMutablePointer<Float>,
                  gradients g: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        guard let input else { return nil } // no forward pass to differentiate
        let t = steps, u2 = 2 * units
        var dSeq = dy
        if !returnSequences {
            dSeq = dSequence.reserve(t * batch * u2)
            dSeq.update(repeating: 0, count: t * batch * u2)
            for n in 0..<batch {
                (dSeq + ((t - 1) * batch + n) * u2).update(from: dy + n * u2, count: units)
                (dSeq + n * u2 + units).update(from: dy + n * u2 + units, count: units)
            }
        }
        let dInput: UnsafeMutablePointer<Float>? = needsInputGradient ? dx.reserve(t * batch * features) : nil
        dInput?.update(repeating: 0, count: t * batch * features)
        let scratch = dGates.reserve(t * batch * 4 * units)
        lengths.withUnsafeBufferPointer { lengths in
            for d in 0..<2 {
                let o = offsets[d]
                lstmBackward(dx: dInput, dWx: g + o.wx, dWh: g + o.wh, dBias: g + o.b, dGates: scratch,
                             dOut: dSeq + d * units, ldOut: u2, states: states(d, count: t * batch * units),
                             x: input, wx: p + o.wx, wh: p + o.wh, steps: t, batch: batch, inputs: features,
                             units: units, reverse: d == 1, lengths: lengths.isEmpty ? nil : lengths.baseAddress)
            }
        }
        return dInput
    }
}

/// Dense layer (optionally ReLU), applied to every step of a sequence.
final class DenseLayer: Layer {
    let units: Int, relu: Bool
    let weightOffset: Int, biasOffset: Int
    var needsInputGradient = true
    private let out = FloatBuffer(), dx = FloatBuffer()
    private var input: UnsafeMutablePointer<Float>?
    private var rows = 0, inputs = 0
    /// The int8 product of an int8 model (inference), and its workspace.
    private let int8: QuantizedProduct?
    private let inputCodes = ByteBuffer()

    /// - Parameters:
    ///   - offsets: of the w and b tensors.
    ///   - int8: the int8 weights of an int8 model
    init(units: Int, relu: Bool, offsets: [Int], int8: QuantizedProduct? = nil) {
        self.units = units; self.relu = relu; self.int8 = int8
        (weightOffset, biasOffset) = (offsets[0], offsets[1])
    }

    func forward(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int, mode: PassMode,
                 parameters p: UnsafeMutablePointer<Float>, random: inout SeededGenerator) -> (UnsafeMutablePointer<Float>, Shape) {
        let outShape: Shape
        if case let .sequence(t, f) = shape {
            rows = batch * t; inputs = f; outShape = .sequence(steps: t, features: units)
        } else {
            rows = batch; inputs = shape.count; outShape = .vector(features: units)
        }
        input = x
        let y = out.reserve(rows * units)
        if mode == .inference, let int8 {
            let codes = inputCodes.reserve(rows * int8.rowStride)
            int8.quantize(x, ldx: inputs, rows: rows, into: codes)
            int8.multiply(m: rows, codes: codes, bias: p + biasOffset, into: y, ldc: units, accumulate: false, relu: relu)
            return (y, outShape)
        }
        denseForward(out: y, x: x, weight: p + weightOffset, bias: p + biasOffset, n: rows, inputs: inputs, outputs: units)
        if relu { reluForward(y, n: rows * units) }
        return (y, outShape)
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, batch: Int, parameters p: UnsafeMutablePointer<Float>,
                  gradients g: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>? {
        guard let input else { return nil } // no forward pass to differentiate
        if relu { reluBackward(dy, y: out.pointer, n: rows * units) }
        let dInput: UnsafeMutablePointer<Float>? = needsInputGradient ? dx.reserve(rows * inputs) : nil
        dInput?.update(repeating: 0, count: rows * inputs)
        denseBackward(dx: dInput, dWeight: g + weightOffset, dBias: g + biasOffset, dy: dy, x: input,
                      weight: p + weightOffset, n: rows, inputs: inputs, outputs: units)
        return dInput
    }
}
