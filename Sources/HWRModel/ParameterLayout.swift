/// One named tensor inside the flat parameter buffer.
public struct ParameterTensor: Codable, Equatable, Sendable {
    /// Name, `L<layer>.<role>`, for example `L0.kernel` or `L7.fw.wx`.
    public var name: String
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Offset in floats into the flat buffer.
    public var offset: Int
    /// Whether the optimizer updates it (batch-norm running statistics are not trained).
    public var trainable: Bool

    /// Number of floats.
    public var count: Int { shape.reduce(1, *) }
}

/// Where every parameter of an architecture lives in one contiguous float buffer. Gradients and
/// optimizer moments share the layout.
public struct ParameterLayout: Equatable, Sendable {
    /// All tensors in order; offsets are contiguous.
    public let tensors: [ParameterTensor]
    /// Total floats.
    public let count: Int
    private let index: [String: Int]

    /// Derives the layout of an architecture.
    /// - Throws: `ModelError.invalidArchitecture`.
    public init(architecture: Architecture) throws {
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], trainable: Bool = true) {
            tensors.append(ParameterTensor(name: name, shape: shape, offset: offset, trainable: trainable))
            offset += shape.reduce(1, *)
        }
        var shape = Shape.image(height: architecture.inputHeight, width: architecture.inputWidth ?? 32, channels: 1)
        for (i, layer) in architecture.layers.enumerated() {
            let next = try layer.outputShape(for: shape, index: i)
            switch (layer.kind, shape) {
            case let (.conv, .image(_, _, cin)):
                let k = layer.kernel!, cout = layer.filters!
                add("L\(i).kernel", [k, k, cin, cout])
                add("L\(i).gamma", [cout]); add("L\(i).beta", [cout])
                add("L\(i).mean", [cout], trainable: false); add("L\(i).var", [cout], trainable: false)
            case let (.biLSTM, .sequence(_, features)):
                let u = layer.units!
                for d in ["fw", "bw"] {
                    add("L\(i).\(d).wx", [features, 4 * u]); add("L\(i).\(d).wh", [u, 4 * u]); add("L\(i).\(d).b", [4 * u])
                }
            case let (.dense, .vector(features)), let (.dense, .sequence(_, features)):
                add("L\(i).w", [features, layer.units!]); add("L\(i).b", [layer.units!])
            default:
                break
            }
            shape = next
        }
        self.tensors = tensors
        self.count = offset
        self.index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// The tensor with this name.
    public func tensor(_ name: String) -> ParameterTensor? { index[name].map { tensors[$0] } }

    /// Offset of a tensor that the architecture guarantees to exist.
    func offset(_ name: String) -> Int { tensors[index[name]!].offset }
}
