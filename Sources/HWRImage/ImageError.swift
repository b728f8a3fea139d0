/// Why an image could not be turned into network input.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// The buffer or file is empty, or has no ink on it.
    case empty(String)
    /// More pixels than the configured limit.
    case tooLarge(String)
    /// The bytes are not a PNG, JPEG or PGM image, or are corrupt.
    case decodeFailed(String)
    /// Inconsistent size, stride or format arguments.
    case invalidArgument(String)
    /// The file does not exist, is a directory, or cannot be read.
    case unreadable(String)
    /// Memory for the decoded pixels could not be allocated.
    case outOfMemory(String)
    /// Several lines of writing where one character or line was expected (page mode reads them).
    case severalLines(String)

    /// A readable message.
    public var description: String {
        switch self {
        case let .empty(m): return "empty image: \(m)"
        case let .tooLarge(m): return "image too large: \(m)"
        case let .decodeFailed(m): return "cannot decode image: \(m)"
        case let .invalidArgument(m): return "invalid image: \(m)"
        case let .unreadable(m): return "cannot read image: \(m)"
        case let .outOfMemory(m): return "out of memory decoding image: \(m)"
        case let .severalLines(m): return "invalid image: \(m)"
        }
    }
}

/// Limits every decoder and normaliser enforces.
public enum ImageLimits {
    /// Largest number of pixels accepted (about 16.7 million: 4096 x 4096).
    public static let maximumPixels = 4096 * 4096
    /// Largest width or height accepted.
    public static let maximumSide = 32768
    /// Smallest width or height an image to recognise may have, in every mode.
    public static let minimumSide = 8
    /// Largest image file read, in bytes (256 MiB); larger files are `ImageError.tooLarge`.
    public static let maximumFileBytes = 256 << 20
}
