/// The shape of one sample as it flows through the network (the batch dimension is implicit).
public enum Shape: Equatable, Sendable {
    /// A feature map, NHWC: height, width, channels.
    case image(height: Int, width: Int, channels: Int)
    /// A time-major sequence: steps, features per step.
    case sequence(steps: Int, features: Int)
    /// A flat feature vector.
    case vector(features: Int)

    /// The shape read as a feature map [H, W, C] (a sequence as one row of T cells of F channels, a
    /// vector as one cell), so a layer reads exactly `count` floats per sample whatever it is given.
    var asFeatureMap: (height: Int, width: Int, channels: Int) {
        switch self {
        case let .image(h, w, c): return (h, w, c)
        case let .sequence(t, f): return (1, t, f)
        case let .vector(f): return (1, 1, f)
        }
    }

    /// The shape read as a sequence [T, F] (a vector as one step, a feature map as one step of all its floats).
    var asSequence: (steps: Int, features: Int) {
        if case let .sequence(t, f) = self { return (t, f) }
        return (1, count)
    }

    /// Floats per sample.
    public var count: Int {
        switch self {
        case let .image(h, w, c): return h * w * c
        case let .sequence(t, f): return t * f
        case let .vector(f): return f
        }
    }
}

/// One layer of the architecture, as written in the model file.
public struct LayerSpec: Codable, Equatable, Sendable {
    /// The kinds of layer hwr knows.
    public enum Kind: String, Codable, Sendable {
        /// 'same' convolution, stride 1, followed by batch norm and ReLU (`filters`, `kernel`).
        case conv
        /// Max pooling over 2 rows and `poolWidth` (default 2) columns, stride equal to the window.
        case maxPool = "max_pool"
        /// Dropout at training time (`rate`); identity at inference.
        case dropout
        /// Feature map [h, w, c] to a sequence of w steps of h*c features.
        case columnsToSequence = "columns_to_sequence"
        /// Bidirectional LSTM (`units` per direction, `returnSequences`).
        case biLSTM = "bilstm"
        /// Dense layer (`units`, `relu`), applied per step on sequences.
        case dense
    }

    /// What the layer does.
    public var kind: Kind
    /// Output channels of a convolution.
    public var filters: Int?
    /// Kernel size of a convolution.
    public var kernel: Int?
    /// Dropout rate.
    public var rate: Float?
    /// Units of an LSTM direction or of a dense layer.
    public var units: Int?
    /// Whether a BiLSTM returns every step (true) or only the final states of both directions.
    public var returnSequences: Bool?
    /// Whether a dense layer applies ReLU.
    public var relu: Bool?
    /// Columns a max pooling spans (2, or 1 to keep the horizontal resolution of a line model).
    public var poolWidth: Int?

    /// A convolution + batch norm + ReLU block.
    public static func conv(_ filters: Int, kernel: Int = 3) -> LayerSpec {
        LayerSpec(kind: .conv, filters: filters, kernel: kernel)
    }
    /// 2x2 max pooling.
    public static let maxPool = LayerSpec(kind: .maxPool)
    /// 2x1 max pooling (halves the height only).
    public static let maxPoolRows = LayerSpec(kind: .maxPool, poolWidth: 1)
    /// Dropout with the given rate.
    public static func dropout(_ rate: Float) -> LayerSpec { LayerSpec(kind: .dropout, rate: rate) }
    /// Reshape of the feature map into a sequence over its columns.
    public static let columnsToSequence = LayerSpec(kind: .columnsToSequence)
    /// A bidirectional LSTM.
    public static func biLSTM(_ units: Int, returnSequences: Bool) -> LayerSpec {
        LayerSpec(kind: .biLSTM, units: units, returnSequences: returnSequences)
    }
    /// A dense layer.
    public static func dense(_ units: Int, relu: Bool) -> LayerSpec { LayerSpec(kind: .dense, units: units, relu: relu) }
}

/// What a model reads and how its layers are arranged.
public struct Architecture: Codable, Equatable, Sendable {
    /// Input height in pixels (the width of a character model equals it; a line model takes any width).
    public var inputHeight: Int
    /// Input width in pixels, or nil for a line model that accepts any width.
    public var inputWidth: Int?
    /// The layers, input to output. The last is a dense layer with one unit per output class.
    public var layers: [LayerSpec]

    /// Creates an architecture.
    public init(inputHeight: Int, inputWidth: Int?, layers: [LayerSpec]) {
        self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.layers = layers
    }

    /// The classic CRNN for 28x28 characters: Conv(32)+BN+pool+dropout, Conv(64)+BN+pool+dropout,
    /// 7 steps of 448, BiLSTM(128), BiLSTM(64), Dense(128), Dense(classes).
    public static func classicCharacterCRNN(classes: Int) -> Architecture {
        Architecture(inputHeight: 28, inputWidth: 28, layers: [
            .conv(32), .maxPool, .dropout(0.25),
            .conv(64), .maxPool, .dropout(0.25),
            .columnsToSequence,
            .biLSTM(128, returnSequences: true),
            .biLSTM(64, returnSequences: false),
            .dense(128, relu: true), .dropout(0.4),
            .dense(classes, relu: false),
        ])
    }

    /// The line model: the character CRNN's layers with the second pooling over rows only, so a line
    /// of width w becomes w/2 steps of 448 features, and the character model's head applied at every
    /// step: Dense(128) + ReLU, then Dense(`classes`) (the characters plus the CTC blank). Layer for
    /// layer the same tensors as the character model up to that last layer, so training can start
    /// from its weights. Reads images 28 pixels high and of any width.
    public static func lineCRNN(classes: Int) -> Architecture {
        Architecture(inputHeight: 28, inputWidth: nil, layers: [
            .conv(32), .maxPool, .dropout(0.2),
            .conv(64), .maxPoolRows, .dropout(0.2),
            .columnsToSequence,
            .biLSTM(128, returnSequences: true),
            .biLSTM(64, returnSequences: true),
            .dense(128, relu: true), .dropout(0.2),
            .dense(classes, relu: false),
        ])
    }

    /// The text-line model: a deeper CRNN for handwritten words and lines with case, spaces and
    /// punctuation. Input 32 pixels high, any width w: Conv(32) + 2x2 pooling, Conv(64) + 2x1, Conv(96) +
    /// 2x1, Conv(128), Conv(128) + 2x1 (every convolution 3x3 with batch norm and ReLU), so w/2 steps
    /// of 2 x 128 features; BiLSTM(128) twice; Dense(`classes`) per step (the characters plus the CTC
    /// blank). About 2 MFLOP per input column: 0.6 GFLOP for a 300-pixel line.
    /// Shi, Bai and Yao, "An End-to-End Trainable Neural Network for Image-based Sequence Recognition"
    /// (2015), with the height halved by row-only pooling to keep two steps per input column pair.
    public static func textLineCRNN(classes: Int) -> Architecture {
        Architecture(inputHeight: 32, inputWidth: nil, layers: [
            .conv(32), .maxPool,
            .conv(64), .maxPoolRows,
            .conv(96), .maxPoolRows, .dropout(0.1),
            .conv(128), .conv(128), .maxPoolRows, .dropout(0.2),
            .columnsToSequence,
            .biLSTM(128, returnSequences: true), .dropout(0.25),
            .biLSTM(128, returnSequences: true), .dropout(0.25),
            .dense(classes, relu: false),
        ])
    }

    /// Shapes after each layer for an input of the given width, or an error for an impossible stack.
    /// - Throws: `ModelError.invalidArchitecture`.
    public func shapes(width: Int) throws -> [Shape] {
        try resolve(width: width).map(\.output)
    }

    /// Every layer with its settings checked against `ModelLimits` and defaults applied, and its
    /// output shape, for an input of the given width. All sizes are computed with overflow checks.
    /// - Throws: `ModelError.invalidArchitecture` naming the first layer at fault.
    func resolve(width: Int) throws -> [(settings: LayerSettings, input: Shape, output: Shape)] {
        guard inputHeight >= 1, inputHeight <= ModelLimits.inputHeight else {
            throw ModelError.invalidArchitecture("input height \(inputHeight) is not in 1...\(ModelLimits.inputHeight)")
        }
        if let inputWidth, inputWidth < 1 || inputWidth > ModelLimits.inputWidth {
            throw ModelError.invalidArchitecture("input width \(inputWidth) is not in 1...\(ModelLimits.inputWidth)")
        }
        guard !layers.isEmpty, layers.count <= ModelLimits.layers else {
            throw ModelError.invalidArchitecture("\(layers.count) layers (1...\(ModelLimits.layers) allowed)")
        }
        var shape = Shape.image(height: inputHeight, width: width, channels: 1)
        var result: [(settings: LayerSettings, input: Shape, output: Shape)] = []
        for (index, layer) in layers.enumerated() {
            let (settings, output) = try layer.resolve(for: shape, index: index)
            result.append((settings, shape, output))
            shape = output
        }
        if case .image = shape { throw ModelError.invalidArchitecture("the network must end in a vector or a sequence") }
        guard case .dense = result[result.count - 1].settings else {
            throw ModelError.invalidArchitecture("the last layer must be dense, one unit per output class")
        }
        return result
    }

    /// Multiply-adds times two (FLOPs) of one forward pass on an image of the given width, counting
    /// convolutions, LSTMs (input and recurrent products) and dense layers.
    /// - Throws: `ModelError.invalidArchitecture` for an impossible stack.
    public func flops(width: Int) throws -> Int {
        var shape = Shape.image(height: inputHeight, width: width, channels: 1)
        var total = 0
        for (i, layer) in layers.enumerated() {
            let (settings, next) = try layer.resolve(for: shape, index: i)
            switch (settings, shape, next) {
            case let (.conv(_, k), .image(h, w, cin), .image(_, _, cout)):
                total += 2 * h * w * k * k * cin * cout
            case let (.biLSTM(u, _), .sequence(t, f), _):
                total += 2 * 2 * t * (f + u) * 4 * u
            case let (.dense(units, _), .vector(f), _):
                total += 2 * f * units
            case let (.dense(units, _), .sequence(t, f), _):
                total += 2 * t * f * units
            default: break
            }
            shape = next
        }
        return total
    }

    /// Number of output classes (units of the last layer).
    public var classes: Int { layers.last?.units ?? 0 }
}

/// A layer's settings once checked, with the defaults of optional fields applied: what a `Network`
/// builds its layers from, so that no field of a model file is unwrapped at run time.
enum LayerSettings: Equatable, Sendable {
    case conv(filters: Int, kernel: Int)
    case maxPool(poolWidth: Int)
    case dropout(rate: Float)
    case columnsToSequence
    case biLSTM(units: Int, returnSequences: Bool)
    case dense(units: Int, relu: Bool)
}

/// `a * b`, or an error when the product overflows `Int` or exceeds `limit`.
func checkedProduct(_ a: Int, _ b: Int, limit: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow, product <= limit else { throw ModelError.invalidArchitecture("\(what()) exceeds \(limit)") }
    return product
}

extension LayerSpec {
    /// Checks this layer against its input and `ModelLimits`.
    /// - Returns: its settings and its output shape.
    /// - Throws: `ModelError.invalidArchitecture`.
    func resolve(for input: Shape, index: Int) throws -> (LayerSettings, Shape) {
        func bad(_ why: String) -> ModelError { .invalidArchitecture("layer \(index) (\(kind.rawValue)): \(why)") }
        func positive(_ v: Int?, _ name: String, max: Int) throws -> Int {
            guard let v, v > 0, v <= max else { throw bad("\(name) must be in 1...\(max)") }
            return v
        }
        switch (kind, input) {
        case (.conv, .image(let h, let w, _)):
            let k = try positive(kernel, "kernel", max: ModelLimits.kernel)
            guard k % 2 == 1 else { throw bad("kernel must be odd") }
            let f = try positive(filters, "filters", max: ModelLimits.filters)
            return (.conv(filters: f, kernel: k), .image(height: h, width: w, channels: f))
        case let (.maxPool, .image(h, w, c)):
            let pw = poolWidth ?? 2
            guard pw == 1 || pw == 2 else { throw bad("poolWidth must be 1 or 2") }
            guard h >= 2, w >= pw else { throw bad("input smaller than the pooling window") }
            return (.maxPool(poolWidth: pw), .image(height: h / 2, width: w / pw, channels: c))
        case (.dropout, _):
            guard let rate, rate >= 0, rate < 1 else { throw bad("rate must be in [0, 1)") }
            return (.dropout(rate: rate), input)
        case let (.columnsToSequence, .image(h, w, c)):
            let features = try checkedProduct(h, c, limit: ModelLimits.features, "layer \(index): \(h) rows x \(c) channels")
            return (.columnsToSequence, .sequence(steps: w, features: features))
        case let (.biLSTM, .sequence(t, _)):
            let u = try positive(units, "units", max: ModelLimits.units)
            let sequences = returnSequences ?? true
            return (.biLSTM(units: u, returnSequences: sequences),
                    sequences ? .sequence(steps: t, features: 2 * u) : .vector(features: 2 * u))
        case (.dense, .vector):
            let u = try positive(units, "units", max: ModelLimits.units)
            return (.dense(units: u, relu: relu ?? false), .vector(features: u))
        case let (.dense, .sequence(t, _)):
            let u = try positive(units, "units", max: ModelLimits.units)
            return (.dense(units: u, relu: relu ?? false), .sequence(steps: t, features: u))
        default:
            throw bad("does not accept input \(input)")
        }
    }
}
