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
    /// Its role in its layer: the name without the `L<layer>.` prefix, for example `kernel` or `fw.wx`.
    public var role: String { name.split(separator: ".").dropFirst().joined(separator: ".") }
}

/// A layer of an architecture as a `Network` builds it: its checked settings and the offsets of its
/// tensors in the flat parameter buffer, in the order the file format lists them (conv: kernel,
/// gamma, beta, mean, var; bilstm: fw.wx, fw.wh, fw.b, bw.wx, bw.wh, bw.b; dense: w, b).
struct ResolvedLayer: Equatable, Sendable {
    let settings: LayerSettings
    let offsets: [Int]
}

/// Where every parameter of an architecture lives in one contiguous float buffer. Gradients and
/// optimizer moments share the layout.
public struct ParameterLayout: Equatable, Sendable {
    /// All tensors in order; offsets are contiguous.
    public let tensors: [ParameterTensor]
    /// Total floats.
    public let count: Int
    /// The architecture's layers, checked, with their tensors' offsets.
    let layers: [ResolvedLayer]
    private let index: [String: Int]

    /// Derives the layout of an architecture (checked against `ModelLimits`, sizes computed with
    /// overflow checks; a line model's layers are checked at `ModelLimits.lineCheckWidth`).
    /// - Throws: `ModelError.invalidArchitecture`, also when it would have more than
    ///   `ModelLimits.parameters` weights.
    public init(architecture: Architecture) throws {
        var tensors: [ParameterTensor] = []
        var layers: [ResolvedLayer] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], trainable: Bool = true) throws -> Int {
            let size = try shape.reduce(1) { try checkedProduct($0, $1, limit: ModelLimits.parameters, "tensor \(name)") }
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, end <= ModelLimits.parameters else {
                throw ModelError.invalidArchitecture("more than \(ModelLimits.parameters) weights")
            }
            tensors.append(ParameterTensor(name: name, shape: shape, offset: offset, trainable: trainable))
            defer { offset = end }
            return offset
        }
        for (i, layer) in try architecture.resolve(width: architecture.inputWidth ?? ModelLimits.lineCheckWidth).enumerated() {
            var offsets: [Int] = []
            switch (layer.settings, layer.input) {
            case let (.conv(cout, k), .image(_, _, cin)):
                offsets = [try add("L\(i).kernel", [k, k, cin, cout]),
                           try add("L\(i).gamma", [cout]), try add("L\(i).beta", [cout]),
                           try add("L\(i).mean", [cout], trainable: false), try add("L\(i).var", [cout], trainable: false)]
            case let (.biLSTM(u, _), .sequence(_, features)):
                for d in ["fw", "bw"] {
                    offsets += [try add("L\(i).\(d).wx", [features, 4 * u]), try add("L\(i).\(d).wh", [u, 4 * u]),
                                try add("L\(i).\(d).b", [4 * u])]
                }
            case let (.dense(units, _), .vector(features)), let (.dense(units, _), .sequence(_, features)):
                offsets = [try add("L\(i).w", [features, units]), try add("L\(i).b", [units])]
            default:
                break
            }
            layers.append(ResolvedLayer(settings: layer.settings, offsets: offsets))
        }
        self.tensors = tensors
        self.count = offset
        self.layers = layers
        self.index = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tensor with this name.
    public func tensor(_ name: String) -> ParameterTensor? { index[name].map { tensors[$0] } }
}
