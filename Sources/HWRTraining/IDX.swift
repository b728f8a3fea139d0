import CZlib
import Foundation

/// Errors of training data loading.
public enum DataError: Error, CustomStringConvertible {
    /// A file is missing, unreadable or malformed.
    case badFile(String)
    /// The data set is unusable (no images, mismatched counts, unknown labels).
    case badData(String)

    /// A readable message.
    public var description: String {
        switch self {
        case let .badFile(m): return "bad data file: \(m)"
        case let .badData(m): return "bad data: \(m)"
        }
    }
}

/// An IDX file (the format MNIST and EMNIST ship in): big-endian magic `0x00000 8 NN` where 08 means
/// unsigned bytes and NN the number of dimensions, then the dimensions, then the data.
public struct IDXFile {
    /// Dimensions, outermost first.
    public let dimensions: [Int]
    /// The raw unsigned bytes.
    public let bytes: [UInt8]

    /// Reads a file, gzip-compressed (`.gz`) or not.
    /// - Throws: `DataError.badFile`.
    public init(path: String) throws {
        guard let gz = gzopen(path, "rb") else { throw DataError.badFile("\(path): cannot open") }
        defer { gzclose(gz) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw DataError.badFile("\(path): decompression failed") }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<Int(n)])
        }
        try self.init(bytes: data, name: path)
    }

    /// Parses IDX bytes.
    /// - Throws: `DataError.badFile`.
    public init(bytes data: [UInt8], name: String = "IDX") throws {
        guard data.count >= 4, data[0] == 0, data[1] == 0 else { throw DataError.badFile("\(name): not an IDX file") }
        guard data[2] == 0x08 else { throw DataError.badFile("\(name): only unsigned byte IDX data is supported") }
        let rank = Int(data[3])
        guard rank >= 1, rank <= 4, data.count >= 4 + 4 * rank else { throw DataError.badFile("\(name): bad header") }
        var dims: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            dims.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
        }
        let count = dims.reduce(1, *)
        guard data.count == 4 + 4 * rank + count else {
            throw DataError.badFile("\(name): \(data.count - 4 - 4 * rank) data bytes for dimensions \(dims)")
        }
        dimensions = dims
        bytes = Array(data[(4 + 4 * rank)...])
    }
}
