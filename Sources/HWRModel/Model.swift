import Glibc

/// How images are normalised before they reach the network; stored in the model file so that
/// training and recognition use the same settings.
public struct PreprocessingSpec: Codable, Equatable, Sendable {
    /// "character": crop to the ink, fit into `box` x `box`, centre by mass in `size` x `size`.
    public var kind: String
    /// Side of the network input in pixels (its height for a line model).
    public var size: Int
    /// Side of the box the ink is fitted into.
    public var box: Int

    /// Creates a specification.
    public init(kind: String, size: Int, box: Int) { self.kind = kind; self.size = size; self.box = box }

    /// The MNIST convention: 20x20 box centred by mass in 28x28.
    public static let mnistCharacter = PreprocessingSpec(kind: "character", size: 28, box: 20)
    /// Lines: ink scaled to 20 pixels high in a band 28 high.
    public static let line = PreprocessingSpec(kind: "line", size: 28, box: 20)
    /// Text lines: ink scaled to 28 pixels high in a band 32 high (the text-line model's input).
    public static let textLine = PreprocessingSpec(kind: "line", size: 32, box: 28)
}

/// Facts about how a model was made, kept in the file.
public struct ModelMetadata: Codable, Equatable, Sendable {
    /// Model name, for example "hwr-char".
    public var name: String
    /// Model version, for example "1.0.0".
    public var version: String
    /// ISO-8601 creation date.
    public var created: String
    /// The data it was trained on.
    public var trainingData: String
    /// Validation metrics (name to value).
    public var metrics: [String: Double]

    /// Creates metadata.
    public init(name: String, version: String, created: String, trainingData: String, metrics: [String: Double] = [:]) {
        self.name = name; self.version = version; self.created = created
        self.trainingData = trainingData; self.metrics = metrics
    }
}

/// A complete model: architecture, the characters its classes stand for, preprocessing, weights.
public final class Model: @unchecked Sendable {
    /// The network architecture.
    public let architecture: Architecture
    /// One character per output class, in class order. A line (CTC) model has one more output
    /// class than characters: the blank, last.
    public let charset: [Character]
    /// Preprocessing settings.
    public let preprocessing: PreprocessingSpec
    /// Provenance and metrics.
    public var metadata: ModelMetadata
    /// The weights (for an int8 model, the float values its int8 weights stand for).
    public let parameters: ParameterStore
    /// The int8 weights of an int8 model (format version 2), nil for a float model.
    public let quantized: QuantizedWeights?

    /// Creates a model with freshly initialised weights.
    /// - Throws: `ModelError.invalidArchitecture` if the architecture is invalid or its classes
    ///   do not match the charset.
    public convenience init(architecture: Architecture, charset: [Character], preprocessing: PreprocessingSpec,
                            metadata: ModelMetadata, seed: UInt64 = 1) throws {
        try Self.validate(architecture: architecture, charset: charset, preprocessing: preprocessing)
        let parameters = ParameterStore(layout: try ParameterLayout(architecture: architecture))
        parameters.initialize(seed: seed)
        self.init(unchecked: architecture, charset: charset, preprocessing: preprocessing, metadata: metadata,
                  parameters: parameters)
    }

    /// Checks that an architecture is a valid stack within `ModelLimits`, that its output classes
    /// match the charset (one per character, plus the CTC blank, last, for a model whose output is a
    /// sequence), that the charset is non-empty without repeats, and that the preprocessing fits the
    /// input: a character model (fixed width) reads `size` x `size` images and outputs a vector, a
    /// line model (any width) reads lines `size` high and outputs a sequence.
    /// - Throws: `ModelError.invalidArchitecture` naming the first problem.
    static func validate(architecture: Architecture, charset: [Character], preprocessing: PreprocessingSpec) throws {
        let layers = try architecture.resolve(width: architecture.inputWidth ?? ModelLimits.lineCheckWidth)
        guard !charset.isEmpty, charset.count <= ModelLimits.charset else {
            throw ModelError.invalidArchitecture("\(charset.count) characters (1...\(ModelLimits.charset) allowed)")
        }
        guard Set(charset).count == charset.count else { throw ModelError.invalidArchitecture("the charset repeats characters") }
        let isSequence: Bool
        if case .sequence = layers[layers.count - 1].output { isSequence = true } else { isSequence = false }
        let expected = isSequence ? charset.count + 1 : charset.count // the CTC blank
        guard architecture.classes == expected else {
            throw ModelError.invalidArchitecture("\(architecture.classes) output classes but \(charset.count) characters"
                                                 + (isSequence ? " and the CTC blank" : ""))
        }
        let p = preprocessing
        guard p.size == architecture.inputHeight, p.box >= 1, p.box <= p.size else {
            throw ModelError.invalidArchitecture("preprocessing (size \(p.size), box \(p.box)) does not match the input height \(architecture.inputHeight)")
        }
        switch (p.kind, architecture.inputWidth) {
        case let ("character", width?) where width == p.size && !isSequence: break
        case ("line", nil) where isSequence: break
        default:
            throw ModelError.invalidArchitecture("preprocessing \"\(p.kind)\" does not fit a network of input width "
                                                 + "\(architecture.inputWidth.map(String.init) ?? "any") with \(isSequence ? "a sequence" : "a vector") output "
                                                 + "(a character model reads size x size and outputs a vector, a line model any width and outputs a sequence)")
        }
    }

    init(unchecked architecture: Architecture, charset: [Character], preprocessing: PreprocessingSpec,
         metadata: ModelMetadata, parameters: ParameterStore, quantized: QuantizedWeights? = nil) {
        self.architecture = architecture; self.charset = charset; self.preprocessing = preprocessing
        self.metadata = metadata; self.parameters = parameters; self.quantized = quantized
    }

    /// A new network instance over this model's weights (one per thread); an int8 model's runs its
    /// inference passes in int8.
    public func makeNetwork(seed: UInt64 = 1) -> Network {
        Network(architecture: architecture, parameters: parameters, quantized: quantized, seed: seed)
    }

    /// Copies into this model every tensor of `other` with the same name and shape (for example the
    /// convolutional and LSTM layers of a character model into a line model that shares them).
    /// - Returns: the names of the tensors copied.
    @discardableResult
    public func copyMatchingTensors(from other: Model) -> [String] {
        var copied: [String] = []
        for tensor in parameters.layout.tensors {
            guard let source = other.parameters.layout.tensor(tensor.name), source.shape == tensor.shape else { continue }
            (parameters.buffer.pointer + tensor.offset)
                .update(from: other.parameters.buffer.pointer + source.offset, count: tensor.count)
            copied.append(tensor.name)
        }
        return copied
    }
}
