import Foundation

// The .hwrm file format (see docs/model-format.md):
//   "HWRM" | u32 format version | u32 header length | header JSON (UTF-8)
//   | u64 float count | float32 weights (little-endian) | u32 CRC-32 of every byte before it

/// The JSON header of a model file.
struct ModelFileHeader: Codable {
    var architecture: Architecture
    var charset: String
    var preprocessing: PreprocessingSpec
    var metadata: ModelMetadata
    var tensors: [ParameterTensor]
}

extension Model {
    /// Magic bytes at the start of every model file.
    public static let fileMagic: [UInt8] = Array("HWRM".utf8)
    /// The format version this build writes and reads.
    public static let fileFormatVersion: UInt32 = 1
    /// Largest model file accepted (bytes).
    public static let maximumFileSize = 512 << 20

    /// Serialises the model.
    public func fileData() throws -> Data {
        let header = ModelFileHeader(architecture: architecture, charset: String(charset), preprocessing: preprocessing,
                                     metadata: metadata, tensors: parameters.layout.tensors)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Self.fileMagic)
        data.appendLittleEndian(Self.fileFormatVersion)
        data.appendLittleEndian(UInt32(json.count))
        data.append(json)
        let weights = parameters.array
        data.appendLittleEndian(UInt64(weights.count))
        for w in weights { data.appendLittleEndian(w.bitPattern) }
        data.appendLittleEndian(crc32(data))
        return data
    }

    /// Writes the model atomically to `path`.
    /// - Throws: `ModelError.io` on failure.
    public func write(to path: String) throws {
        do { try fileData().write(to: URL(fileURLWithPath: path), options: .atomic) } catch let e as ModelError { throw e } catch {
            throw ModelError.io("\(path): \(error.localizedDescription)")
        }
    }

    /// Loads and validates a model file.
    /// - Throws: `ModelError.io` if it cannot be read, `ModelError.badFile` if it is not a valid model.
    public static func load(path: String) throws -> Model {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelError.io("\(path): no such readable file") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        guard size <= UInt64(maximumFileSize) else { throw ModelError.badFile("\(path): larger than \(maximumFileSize) bytes") }
        try? handle.seek(toOffset: 0)
        let data: Data
        do { data = try handle.readToEnd() ?? Data() } catch { throw ModelError.io("\(path): read failed: \(error)") }
        return try Model(fileData: data)
    }

    /// Parses and validates model file bytes.
    /// - Throws: `ModelError.badFile` naming what is wrong.
    public convenience init(fileData data: Data) throws {
        let bytes = [UInt8](data)
        var reader = ByteReader(bytes: bytes)
        guard bytes.count >= 12, Array(bytes[0..<4]) == Self.fileMagic else {
            throw ModelError.badFile("not an hwr model (bad magic)")
        }
        reader.offset = 4
        let version = try reader.u32()
        guard version == Self.fileFormatVersion else {
            throw ModelError.badFile("format version \(version) is not supported (this build reads \(Self.fileFormatVersion))")
        }
        let headerLength = Int(try reader.u32())
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        let json = try reader.take(headerLength)
        let count = try reader.u64()
        guard count < UInt64(Model.maximumFileSize / 4), reader.offset + Int(count) * 4 + 4 == bytes.count else {
            throw ModelError.badFile("truncated or padded: \(bytes.count) bytes do not hold \(count) weights")
        }
        guard crc32(bytes[0..<(bytes.count - 4)]) == stored else { throw ModelError.badFile("checksum mismatch (corrupted file)") }
        let header: ModelFileHeader
        do { header = try JSONDecoder().decode(ModelFileHeader.self, from: Data(json)) } catch {
            throw ModelError.badFile("unreadable header: \(error)")
        }
        let layout: ParameterLayout
        do {
            try Model.validate(architecture: header.architecture, charset: Array(header.charset))
            layout = try ParameterLayout(architecture: header.architecture)
        } catch let e as ModelError { throw ModelError.badFile(e.description) }
        guard layout.tensors == header.tensors, layout.count == Int(count) else {
            throw ModelError.badFile("tensor table does not match the architecture")
        }
        guard header.preprocessing.size == header.architecture.inputHeight, header.preprocessing.box > 0,
              header.preprocessing.box <= header.preprocessing.size else {
            throw ModelError.badFile("preprocessing does not match the input size")
        }
        let parameters = ParameterStore(layout: layout)
        let p = parameters.buffer.pointer
        let weights = try reader.take(Int(count) * 4)
        weights.withUnsafeBytes { raw in
            for i in 0..<Int(count) { p[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        }
        if let bad = (0..<Int(count)).first(where: { !p[$0].isFinite }) { throw ModelError.badFile("weight \(bad) is not finite") }
        self.init(unchecked: header.architecture, charset: Array(header.charset), preprocessing: header.preprocessing,
                  metadata: header.metadata, parameters: parameters)
    }
}

/// Bounds-checked little-endian reads.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw ModelError.badFile("truncated at byte \(offset)") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func u32() throws -> UInt32 {
        let s = try take(4)
        return s.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws -> UInt64 {
        let s = try take(8)
        return s.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}

private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
public func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var c: UInt32 = 0xFFFF_FFFF
    let contiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer -> Void in
        crcTable.withUnsafeBufferPointer { table in
            for b in buffer { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
    }
    if contiguous == nil {
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    }
    return c ^ 0xFFFF_FFFF
}
