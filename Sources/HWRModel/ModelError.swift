/// Errors of model construction and model files.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read or written: missing, unreadable, unwritable, or not a regular file.
    case io(String)
    /// The file is not a valid hwr model: foreign, truncated, corrupted, inconsistent, or outside
    /// `ModelLimits`.
    case badFile(String)
    /// The file is an hwr model of a newer format version than this build reads.
    case unsupported(String)
    /// The architecture is not a valid stack of layers.
    case invalidArchitecture(String)
    /// An input does not match what the network expects.
    case badInput(String)

    /// A readable message.
    public var description: String {
        switch self {
        case let .io(m): return "model file: \(m)"
        case let .badFile(m): return "invalid model file: \(m)"
        case let .unsupported(m): return "unsupported model file: \(m)"
        case let .invalidArchitecture(m): return "invalid architecture: \(m)"
        case let .badInput(m): return "bad input: \(m)"
        }
    }
}
