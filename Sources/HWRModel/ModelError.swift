/// Errors of model construction and model files.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case io(String)
    /// The file is not an hwr model, or is truncated, corrupted or of an unsupported version.
    case badFile(String)
    /// The architecture is not a valid stack of layers.
    case invalidArchitecture(String)
    /// An input does not match what the network expects.
    case badInput(String)

    /// A readable message.
    public var description: String {
        switch self {
        case let .io(m): return "cannot read model: \(m)"
        case let .badFile(m): return "invalid model file: \(m)"
        case let .invalidArchitecture(m): return "invalid architecture: \(m)"
        case let .badInput(m): return "bad input: \(m)"
        }
    }
}
