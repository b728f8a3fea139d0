import Glibc
import HWRKernels

/// The flat parameter buffer of a model, shared by every `Network` instance built on it.
/// Immutable once a model is loaded for inference; the trainer updates it in place.
public final class ParameterStore: @unchecked Sendable {
    /// The floats, `layout.count` of them.
    public let buffer: FloatBuffer
    /// Where each tensor lives.
    public let layout: ParameterLayout

    /// A zero-filled store for a layout.
    public init(layout: ParameterLayout) {
        self.layout = layout
        buffer = FloatBuffer(count: layout.count)
    }

    /// All floats as an array (for writing files and tests).
    public var array: [Float] { Array(UnsafeBufferPointer(start: buffer.pointer, count: layout.count)) }

    /// Fills the store with a fresh initialisation: Glorot-uniform weights, orthogonal-free recurrent
    /// weights scaled like Glorot, zero biases except LSTM forget gates (1), batch norm at identity.
    public func initialize(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let p = buffer.pointer
        for t in layout.tensors {
            let v = p + t.offset
            let role = t.role
            switch role {
            case "gamma", "var":
                v.update(repeating: 1, count: t.count)
            case "beta", "mean", "b", "fw.b", "bw.b":
                v.update(repeating: 0, count: t.count)
                if role.hasSuffix("w.b") { // LSTM bias [4H]: forget gate (second quarter) starts at 1
                    let u = t.count / 4
                    (v + u).update(repeating: 1, count: u)
                }
            default:
                let fanOut = max(1, t.shape.last ?? 1)
                let fanIn = t.count / fanOut
                let limit = (6 / Float(fanIn + fanOut)).squareRoot()
                for i in 0..<t.count { v[i] = (random.nextUniform() * 2 - 1) * limit }
            }
        }
    }
}

/// A network instance: the layers of an architecture, reading a shared `ParameterStore`.
/// Not thread-safe (layers keep their activations); use one instance per thread.
public final class Network {
    /// The architecture it runs.
    public let architecture: Architecture
    /// The parameters it reads.
    public let parameters: ParameterStore
    private let layers: [Layer]
    private let inputBuffer = FloatBuffer()
    /// For a padded batch: each layer's output shape when its padding columns were zeroed, so that
    /// backward zeroes the same gradient columns.
    private var masked: [Shape?] = []
    private var ownWidths: [Int] = [], paddedWidth = 0
    private var random: SeededGenerator
    /// Whether training passes move the batch-norm running statistics in the shared parameters.
    /// Data-parallel training turns it off on all replicas but one, so that no two threads write them.
    public var updatesRunningStatistics = true {
        didSet { for case let conv as ConvLayer in layers { conv.updatesRunningStatistics = updatesRunningStatistics } }
    }
    /// Share of the batch-norm running statistics each training pass keeps (0.9 while training;
    /// `k / (k + 1)` at the k-th pass makes them the plain average of the passes' batch statistics).
    public var runningStatisticsMomentum: Float {
        get { layers.lazy.compactMap { $0 as? ConvLayer }.first?.runningStatisticsMomentum ?? ConvLayer.momentum }
        set { for case let conv as ConvLayer in layers { conv.runningStatisticsMomentum = newValue } }
    }

    /// Builds the layers of `parameters.layout`, the checked layout of `architecture`.
    /// - Parameters:
    ///   - quantized: int8 weights: inference passes then run the layers they cover in int8
    ///   - seed: seeds dropout.
    public init(architecture: Architecture, parameters: ParameterStore, quantized: QuantizedWeights? = nil, seed: UInt64 = 1) {
        self.architecture = architecture
        self.parameters = parameters
        random = SeededGenerator(seed: seed)
        layers = parameters.layout.layers.enumerated().map { index, layer -> Layer in
            let int8 = quantized?.products[index] ?? [:]
            switch layer.settings {
            case let .conv(filters, kernel):
                return ConvLayer(filters: filters, kernel: kernel, offsets: layer.offsets, int8: int8["kernel"])
            case let .maxPool(poolWidth): return MaxPoolLayer(poolWidth: poolWidth)
            case let .dropout(rate): return DropoutLayer(rate: rate)
            case .columnsToSequence: return ColumnsToSequenceLayer()
            case let .biLSTM(units, returnSequences):
                return BiLSTMLayer(units: units, returnSequences: returnSequences, offsets: layer.offsets, int8: int8)
            case let .dense(units, relu): return DenseLayer(units: units, relu: relu, offsets: layer.offsets, int8: int8["w"])
            }
        }
        layers.first?.needsInputGradient = false
    }

    /// Restarts the dropout random sequence (the trainer does so every epoch so that resumed runs repeat).
    public func reseed(_ seed: UInt64) { random = SeededGenerator(seed: seed) }

    /// Runs a batch through the network.
    /// - Parameters:
    ///   - images: `batch` images of `inputHeight` x `width` floats in [0, 1], row-major, back to back
    ///   - width: image width (must equal `inputWidth` for a fixed-size model)
    ///   - widths: for a padded batch of lines, each image's own width (its recurrent layers then
    ///     treat the padding as absent); nil when every image fills `width`
    ///   - observe: called with each layer's index and input before it runs (int8 calibration)
    /// - Returns: the logits (valid until the next call) and their per-sample shape: a vector of classes,
    ///   or for a sequence model a time-major [steps, batch, classes] sequence.
    public func forward(_ images: UnsafePointer<Float>, batch: Int, width: Int, mode: PassMode,
                        widths: [Int]? = nil,
                        observe: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) -> (UnsafeMutablePointer<Float>, Shape) {
        var shape = Shape.image(height: architecture.inputHeight, width: width, channels: 1)
        let x = inputBuffer.reserve(batch * shape.count)
        x.update(from: images, count: batch * shape.count)
        var current = x
        let p = parameters.buffer.pointer
        ownWidths = widths ?? []; paddedWidth = width
        masked.removeAll(keepingCapacity: true)
        for (index, layer) in layers.enumerated() {
            observe?(index, UnsafeBufferPointer(start: current, count: batch * shape.count))
            if let lstm = layer as? BiLSTMLayer, case let .sequence(steps, _) = shape {
                lstm.lengths = widths.map { $0.map { Int32(Self.steps(ofWidth: $0, steps: steps, width: width)) } } ?? []
            }
            (current, shape) = layer.forward(current, shape: shape, batch: batch, mode: mode, parameters: p, random: &random)
            // Feature maps of a padded batch: zero what lies past each image, as the zero padding of
            // an image run alone would be, so the next convolution sees the same border.
            if widths != nil, case .image = shape {
                zeroPadding(current, shape: shape, batch: batch)
                masked.append(shape)
            } else {
                masked.append(nil)
            }
        }
        return (current, shape)
    }

    /// Zeroes the columns of each image's feature map that lie past its own width.
    private func zeroPadding(_ x: UnsafeMutablePointer<Float>, shape: Shape, batch: Int) {
        guard case let .image(h, w, c) = shape, ownWidths.count == batch else { return }
        for n in 0..<batch {
            let own = Self.steps(ofWidth: ownWidths[n], steps: w, width: paddedWidth)
            guard own < w else { continue }
            for y in 0..<h { (x + ((n * h + y) * w + own) * c).update(repeating: 0, count: (w - own) * c) }
        }
    }

    /// The sequence steps that cover the first `ownWidth` columns of a `width`-wide input with `steps` steps.
    public static func steps(ofWidth ownWidth: Int, steps: Int, width: Int) -> Int {
        min(steps, max(1, ownWidth * steps / max(1, width)))
    }

    /// Backpropagates the gradient of the loss with respect to the logits of the last training-mode
    /// forward pass, accumulating into `gradients` (same layout as the parameters).
    /// - Parameter dLogits: overwritten.
    public func backward(_ dLogits: UnsafeMutablePointer<Float>, batch: Int, gradients: UnsafeMutablePointer<Float>) {
        var d: UnsafeMutablePointer<Float>? = dLogits
        let p = parameters.buffer.pointer
        for (i, layer) in layers.enumerated().reversed() {
            guard let dy = d else { break }
            if i < masked.count, let shape = masked[i] { zeroPadding(dy, shape: shape, batch: batch) }
            d = layer.backward(dy, batch: batch, parameters: p, gradients: gradients)
        }
    }
}
