import HWRKernels

/// The int8 form of a model (format version 2): which weights are int8 and how each layer's input
/// is quantized (see `ActivationQuantization`, `Int8Matrix`). Kept in the file's header.
public struct QuantizationSpec: Codable, Equatable, Sendable {
    /// One quantized layer.
    public struct Layer: Codable, Equatable, Sendable {
        /// Index of the layer in the architecture.
        public var index: Int
        /// Quantization of its input (calibrated).
        public var input: ActivationQuantization
        /// Quantization of an LSTM's hidden state for its recurrent products, or nil when they stay float.
        public var recurrent: ActivationQuantization?
        /// Its int8 tensors (conv: kernel with batch norm folded in; bilstm: fw.wx, [fw.wh], bw.wx,
        /// [bw.wh]; dense: w), each with one scale per output column.
        public var tensors: [Tensor]
    }

    /// One int8 tensor: its name in the layout and its per-column scales.
    public struct Tensor: Codable, Equatable, Sendable {
        /// Tensor name, for example `L0.kernel`.
        public var name: String
        /// One scale per output column (the tensor's last dimension).
        public var scales: [Float]
    }

    /// The quantized layers, in order.
    public var layers: [Layer]
    /// What the activation ranges were calibrated on.
    public var calibration: String

    /// The names of every int8 tensor, in layer order (their order in the file's int8 section).
    public var tensorNames: [String] { layers.flatMap { $0.tensors.map(\.name) } }
}

/// The precision a model runs its matrix products in.
public enum Precision: String, Sendable {
    /// Single-precision floats.
    case fp32
    /// int8 weights and activations, 32-bit integer sums (`QuantizationSpec`).
    case int8
}

/// A quantized model's int8 weights, packed for the kernels; shared by its network instances.
public final class QuantizedWeights: @unchecked Sendable {
    /// The specification from the file.
    public let spec: QuantizationSpec
    /// The products of each quantized layer, by layer index: conv and dense one (`input`), a
    /// BiLSTM two input projections (`fw.wx`, `bw.wx`) and, if quantized, two recurrent ones.
    let products: [Int: [String: QuantizedProduct]]
    /// The int8 matrices by tensor name.
    let matrices: [String: Int8Matrix]

    /// Builds the products from the int8 matrices of `spec`'s tensors (by name).
    init(spec: QuantizationSpec, matrices: [String: Int8Matrix]) {
        self.spec = spec; self.matrices = matrices
        var products: [Int: [String: QuantizedProduct]] = [:]
        for layer in spec.layers {
            var byRole: [String: QuantizedProduct] = [:]
            for tensor in layer.tensors {
                guard let matrix = matrices[tensor.name] else { continue }
                let role = String(tensor.name.dropFirst("L\(layer.index).".count)) // names are L<index>.<role>
                let input = role.hasSuffix("wh") ? (layer.recurrent ?? .recurrent) : layer.input
                byRole[role] = QuantizedProduct(weights: matrix, input: input)
            }
            products[layer.index] = byRole
        }
        self.products = products
    }
}

extension Model {
    /// The precision of its matrix products.
    public var precision: Precision { quantized == nil ? .fp32 : .int8 }

    /// An int8 copy of this float model (post-training quantization with calibrated activation
    /// ranges: Jacob et al., CVPR 2018; Krishnamoorthi, arXiv:1806.08342). Convolutions get batch
    /// norm folded into their kernels first (the stored batch-norm statistics become the identity);
    /// every convolution kernel, LSTM input (and, if `recurrent`, recurrent) weight matrix and dense
    /// weight matrix becomes int8 per output column; each such layer's input range is the minimum
    /// and maximum seen over `calibration`.
    /// - Parameters:
    ///   - calibration: network inputs as `hwr` preprocesses them: (floats [inputHeight, width] in
    ///     [0, 1], width); a character model's width is its input width
    ///   - recurrent: whether the LSTMs' recurrent products are int8 too
    ///   - description: what `calibration` is, kept in the file
    /// - Throws: `ModelError.unsupported` if the model is already int8 or `calibration` is empty.
    public func quantizedCopy(calibration: [(pixels: [Float], width: Int)], recurrent: Bool, description: String) throws -> Model {
        guard quantized == nil else { throw ModelError.unsupported("the model is already int8") }
        guard !calibration.isEmpty else { throw ModelError.unsupported("no calibration images") }
        // 1. Input ranges of every layer, over the calibration inputs (float inference).
        let network = makeNetwork()
        var ranges: [Int: (low: Float, high: Float)] = [:]
        for sample in calibration {
            sample.pixels.withUnsafeBufferPointer { pixels in
                _ = network.forward(pixels.baseAddress!, batch: 1, width: sample.width, mode: .inference) { index, input in
                    var (low, high) = ranges[index] ?? (.infinity, -.infinity)
                    for v in input { low = min(low, v); high = max(high, v) }
                    ranges[index] = (low, high)
                }
            }
        }
        // 2. int8 weights, dequantized back into a float copy of the parameters.
        let store = ParameterStore(layout: parameters.layout)
        store.buffer.pointer.update(from: parameters.buffer.pointer, count: parameters.layout.count)
        let p = store.buffer.pointer
        var layers: [QuantizationSpec.Layer] = [], matrices: [String: Int8Matrix] = [:]
        func quantize(_ name: String) -> QuantizationSpec.Tensor {
            let tensor = store.layout.tensor(name)!
            let columns = tensor.shape.last!, rows = tensor.count / columns
            let matrix = Int8Matrix(quantizing: p + tensor.offset, rows: rows, columns: columns)
            matrix.dequantize(into: p + tensor.offset)
            matrices[name] = matrix
            return QuantizationSpec.Tensor(name: name, scales: matrix.scales)
        }
        for (index, layer) in store.layout.layers.enumerated() {
            guard let range = ranges[index] else { continue }
            let input = ActivationQuantization(minimum: range.low, maximum: range.high)
            switch layer.settings {
            case let .conv(filters, _):
                let o = layer.offsets, kernel = store.layout.tensor("L\(index).kernel")!
                let rows = kernel.count / filters
                let folded = FloatBuffer(count: kernel.count), bias = FloatBuffer(count: filters)
                foldBatchNorm(foldedWeight: folded.pointer, foldedBias: bias.pointer, weight: p + o[0], gamma: p + o[1],
                              beta: p + o[2], mean: p + o[3], variance: p + o[4], rows: rows, c: filters, epsilon: ConvLayer.epsilon)
                (p + o[0]).update(from: folded.pointer, count: kernel.count)
                (p + o[1]).update(repeating: 1, count: filters)                       // gamma
                (p + o[2]).update(from: bias.pointer, count: filters)                 // beta: the folded bias
                (p + o[3]).update(repeating: 0, count: filters)                       // mean
                (p + o[4]).update(repeating: 1 - ConvLayer.epsilon, count: filters)   // var: scale 1
                layers.append(.init(index: index, input: input, recurrent: nil, tensors: [quantize(kernel.name)]))
            case .biLSTM:
                let names = ["fw.wx", "fw.wh", "bw.wx", "bw.wh"].filter { recurrent || !$0.hasSuffix("wh") }
                layers.append(.init(index: index, input: input, recurrent: recurrent ? .recurrent : nil,
                                    tensors: names.map { quantize("L\(index).\($0)") }))
            case .dense:
                layers.append(.init(index: index, input: input, recurrent: nil, tensors: [quantize("L\(index).w")]))
            default:
                continue
            }
        }
        let spec = QuantizationSpec(layers: layers, calibration: description)
        return Model(unchecked: architecture, charset: charset, preprocessing: preprocessing, metadata: metadata,
                     parameters: store, quantized: QuantizedWeights(spec: spec, matrices: matrices))
    }
}
