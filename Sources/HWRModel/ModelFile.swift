import CZlib
import FoundationEssentials
import Glibc
import HWRKernels

// The .hwrm file format (see docs/model-format.md):
//   "HWRM" | u32 format version | u32 header length | header JSON (UTF-8)
//   | u64 float count | float32 weights (little-endian)
//   | version 2 (int8 models) only: u64 int8 count | int8 weights
//   | u32 CRC-32 of every byte before it
// Version 1 holds every tensor as floats. Version 2 holds the tensors its header's "quantization"
// names as int8 (in that order), the others as floats (in layout order).

/// The JSON header of a model file.
struct ModelFileHeader: Codable {
    var architecture: Architecture
    var charset: String
    var preprocessing: PreprocessingSpec
    var metadata: ModelMetadata
    var tensors: [ParameterTensor]
    /// The int8 form (version 2 only).
    var quantization: QuantizationSpec?
}

extension Model {
    /// Magic bytes at the start of every model file.
    public static let fileMagic: [UInt8] = Array("HWRM".utf8)
    /// The newest format version this build reads: 1 (float models, which it writes as 1, so that
    /// older builds read them) and 2 (int8 models).
    public static let fileFormatVersion: UInt32 = 2

    /// Serialises the model.
    public func fileData() throws -> Data {
        let spec = quantized?.spec
        let header = ModelFileHeader(architecture: architecture, charset: String(charset), preprocessing: preprocessing,
                                     metadata: metadata, tensors: parameters.layout.tensors, quantization: spec)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Self.fileMagic)
        data.appendLittleEndian(UInt32(spec == nil ? 1 : 2))
        data.appendLittleEndian(UInt32(json.count))
        data.append(json)
        let int8Names = Set(spec?.tensorNames ?? [])
        let floatTensors = parameters.layout.tensors.filter { !int8Names.contains($0.name) }
        data.appendLittleEndian(UInt64(floatTensors.reduce(0) { $0 + $1.count }))
        for tensor in floatTensors {
            for w in UnsafeBufferPointer(start: parameters.buffer.pointer + tensor.offset, count: tensor.count) {
                data.appendLittleEndian(w.bitPattern)
            }
        }
        if let quantized, let spec {
            let matrices = spec.tensorNames.compactMap { quantized.matrices[$0] }
            data.appendLittleEndian(UInt64(matrices.reduce(0) { $0 + $1.values.count }))
            for matrix in matrices { matrix.values.withUnsafeBytes { data.append(contentsOf: $0) } }
        }
        data.appendLittleEndian(crc32(data))
        return data
    }

    /// Writes the model atomically to `path` (a new file renamed over it). Only a regular file is
    /// replaced: a directory, symbolic link, FIFO, socket or device at `path` is refused, as it would
    /// otherwise become a model file itself.
    /// - Throws: `ModelError.io` on failure.
    public func write(to path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw ModelError.io("cannot write \(path): not a regular file (a directory, link, FIFO, socket or device is never replaced)")
        }
        do { try fileData().write(to: URL(fileURLWithPath: path), options: .atomic) } catch let e as ModelError { throw e } catch let e as CocoaError {
            // FoundationEssentials' error, told by its system cause ("No such file or directory")
            throw ModelError.io("cannot write \(path): \((e.underlying as? POSIXError).map { String(cString: strerror($0.code.rawValue)) } ?? "\(e.code)")")
        } catch {
            throw ModelError.io("cannot write \(path): \(error)")
        }
    }

    /// Loads and validates a model file (see `init(fileData:)`). Only a regular file is read (symbolic
    /// links are followed): a directory, FIFO, socket or device is refused before any byte is read.
    /// - Throws: `ModelError.io` if the path is missing, unreadable or not a regular file;
    ///   `ModelError.badFile` if it is larger than `ModelLimits.fileSize` or not a valid model;
    ///   `ModelError.unsupported` if it is of a newer format version.
    public static func load(path: String) throws -> Model {
        try Model(fileData: try readRegularFile(path))
    }

    /// The bytes of a regular file of at most `ModelLimits.fileSize` bytes.
    static func readRegularFile(_ path: String) throws -> Data {
        func failure(_ what: String) -> ModelError { .io("\(path): \(what): \(String(cString: strerror(errno)))") }
        func requireRegular(_ info: stat) throws {
            let kind: String
            switch info.st_mode & S_IFMT {
            case S_IFREG: return
            case S_IFDIR: kind = "a directory"
            case S_IFIFO: kind = "a FIFO (named pipe)"
            case S_IFSOCK: kind = "a socket"
            case S_IFCHR, S_IFBLK: kind = "a device"
            default: kind = "not a file"
            }
            throw ModelError.io("\(path) is \(kind), not a regular file")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("cannot open") }
        try requireRegular(info)
        // O_NONBLOCK: should the path have been replaced by a FIFO since the stat, open returns at once
        // and the fstat below refuses it.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open") }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat") }
        try requireRegular(info)
        let size = Int(info.st_size)
        guard size <= ModelLimits.fileSize else {
            throw ModelError.badFile("\(path): \(size) bytes, more than the \(ModelLimits.fileSize) a model file may have")
        }
        var bytes = [UInt8](repeating: 0, count: size + 1) // one byte more: a file that grew is noticed
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(fd, base + filled, buffer.count - filled)
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("read failed") }
            if n == 0 { break }
            filled += n
        }
        guard filled <= size else { throw ModelError.io("\(path): the file grew while it was read") }
        return Data(bytes[0..<filled])
    }

    /// Parses and validates model file bytes: magic, format version, sizes, checksum, header schema,
    /// architecture, charset and preprocessing (`validate`), the tensor table against the
    /// architecture's layout, every weight finite and within ±`ModelLimits.weightMagnitude`,
    /// batch-norm variances non-negative, and activations provably finite (`activationBound`).
    /// - Throws: `ModelError.unsupported` for a newer format version; `ModelError.badFile` naming
    ///   what is wrong for anything else.
    public convenience init(fileData data: Data) throws {
        let bytes = [UInt8](data)
        var reader = ByteReader(bytes: bytes)
        guard bytes.count >= 12, Array(bytes[0..<4]) == Self.fileMagic else {
            throw ModelError.badFile("not an hwr model (bad magic)")
        }
        reader.offset = 4
        let version = try reader.u32()
        guard version <= Self.fileFormatVersion else {
            throw ModelError.unsupported("format version \(version) is newer than this build reads (\(Self.fileFormatVersion)); update hwr")
        }
        guard version >= 1 else {
            throw ModelError.badFile("format version \(version) does not exist (this build reads 1 to \(Self.fileFormatVersion))")
        }
        guard bytes.count <= ModelLimits.fileSize else {
            throw ModelError.badFile("\(bytes.count) bytes, more than the \(ModelLimits.fileSize) a model file may have")
        }
        let headerLength = Int(try reader.u32())
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        let json = try reader.take(headerLength)
        let count = try reader.u64()
        guard count <= UInt64(ModelLimits.parameters), reader.offset + Int(count) * 4 + 4 <= bytes.count else {
            throw ModelError.badFile("truncated: \(bytes.count) bytes do not hold \(count) weights")
        }
        let floats = try reader.take(Int(count) * 4)
        var int8Bytes: ArraySlice<UInt8> = []
        if version == 2 {
            let int8Count = try reader.u64()
            guard int8Count <= UInt64(ModelLimits.parameters), reader.offset + Int(int8Count) + 4 <= bytes.count else {
                throw ModelError.badFile("truncated: \(bytes.count) bytes do not hold \(int8Count) int8 weights")
            }
            int8Bytes = try reader.take(Int(int8Count))
        }
        guard reader.offset + 4 == bytes.count else {
            throw ModelError.badFile("truncated or padded: \(bytes.count - reader.offset - 4) bytes after the weights")
        }
        guard crc32(bytes[0..<(bytes.count - 4)]) == stored else { throw ModelError.badFile("checksum mismatch (corrupted file)") }
        let header: ModelFileHeader
        do { header = try JSONDecoder().decode(ModelFileHeader.self, from: Data(json)) } catch {
            throw ModelError.badFile("unreadable header: \(error)")
        }
        guard (version == 2) == (header.quantization != nil) else {
            throw ModelError.badFile(version == 2 ? "format version 2 without its \"quantization\"" : "\"quantization\" in a format version 1 file")
        }
        let charset = Array(header.charset)
        let layout: ParameterLayout
        do {
            try Model.validate(architecture: header.architecture, charset: charset, preprocessing: header.preprocessing)
            layout = try ParameterLayout(architecture: header.architecture)
        } catch let e as ModelError { throw ModelError.badFile(e.description) }
        guard layout.tensors == header.tensors else { throw ModelError.badFile("tensor table does not match the architecture") }
        let parameters = ParameterStore(layout: layout)
        let p = parameters.buffer.pointer
        let int8Names = try header.quantization.map { try Self.checkQuantization($0, layout: layout) } ?? []
        let floatTensors = layout.tensors.filter { !int8Names.contains($0.name) }
        guard floatTensors.reduce(0, { $0 + $1.count }) == Int(count) else {
            throw ModelError.badFile("\(count) float weights, but the architecture has \(floatTensors.reduce(0) { $0 + $1.count }) float weights")
        }
        floats.withUnsafeBytes { raw in
            var i = 0
            for tensor in floatTensors {
                for j in 0..<tensor.count {
                    p[tensor.offset + j] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    i += 1
                }
            }
        }
        var quantized: QuantizedWeights?
        if let spec = header.quantization {
            quantized = try Self.readInt8(spec, bytes: int8Bytes, into: parameters)
        }
        try Self.checkWeights(parameters)
        let bound = try Self.activationBound(architecture: header.architecture, parameters: parameters)
        guard bound <= ModelLimits.activationMagnitude else {
            throw ModelError.badFile("weights too large: activations could reach \(bound), beyond \(ModelLimits.activationMagnitude)")
        }
        self.init(unchecked: header.architecture, charset: charset, preprocessing: header.preprocessing,
                  metadata: header.metadata, parameters: parameters, quantized: quantized)
    }

    /// Checks an int8 specification against the layout: each layer index a conv, bilstm or dense
    /// layer, its tensors that layer's weight matrices (a bilstm's input projections both present),
    /// no tensor twice, one finite positive scale per column, valid activation quantizations.
    /// - Returns: the names of the int8 tensors.
    /// - Throws: `ModelError.badFile` naming the problem.
    static func checkQuantization(_ spec: QuantizationSpec, layout: ParameterLayout) throws -> Set<String> {
        var names = Set<String>()
        for layer in spec.layers {
            guard layout.layers.indices.contains(layer.index) else { throw ModelError.badFile("quantization names layer \(layer.index), which does not exist") }
            let roles: Set<String>
            switch layout.layers[layer.index].settings {
            case .conv: roles = ["kernel"]
            case .biLSTM: roles = ["fw.wx", "bw.wx", "fw.wh", "bw.wh"]
            case .dense: roles = ["w"]
            default: throw ModelError.badFile("quantization names layer \(layer.index), which has no weights")
            }
            guard layer.input.isValid, Double(layer.input.scale) * Double(ActivationQuantization.maximumCode) <= ModelLimits.activationMagnitude else {
                throw ModelError.badFile("layer \(layer.index): input scale \(layer.input.scale) and zero point \(layer.input.zeroPoint) (a finite positive scale, at most \(ModelLimits.activationMagnitude) / 127, and a zero point in 0...127)")
            }
            guard layer.recurrent == nil || layer.recurrent == .recurrent else {
                throw ModelError.badFile("layer \(layer.index): recurrent quantization must be the fixed scale 1/63 and zero point 64")
            }
            var own = Set<String>()
            for tensor in layer.tensors {
                let prefix = "L\(layer.index)."
                guard tensor.name.hasPrefix(prefix), roles.contains(String(tensor.name.dropFirst(prefix.count))),
                      let t = layout.tensor(tensor.name), own.insert(tensor.name).inserted else {
                    throw ModelError.badFile("quantization names tensor \(tensor.name) of layer \(layer.index) wrongly or twice")
                }
                guard tensor.scales.count == t.shape.last else {
                    throw ModelError.badFile("\(tensor.name): \(tensor.scales.count) scales for \(t.shape.last ?? 0) columns")
                }
                if let bad = tensor.scales.first(where: { !($0.isFinite && $0 > 0 && $0 * 127 <= ModelLimits.weightMagnitude) }) {
                    throw ModelError.badFile("\(tensor.name): scale \(bad) (each must be finite, positive and at most \(ModelLimits.weightMagnitude) / 127)")
                }
            }
            if case .biLSTM = layout.layers[layer.index].settings {
                let x = own.filter { $0.hasSuffix("wx") }.count, h = own.filter { $0.hasSuffix("wh") }.count
                guard x == 2, h == 0 || h == 2, (h == 2) == (layer.recurrent != nil) else {
                    throw ModelError.badFile("layer \(layer.index): a bilstm needs both input projections int8, and both recurrent ones or neither")
                }
            }
            guard names.isDisjoint(with: own) else { throw ModelError.badFile("layer \(layer.index) quantized twice") }
            names.formUnion(own)
        }
        return names
    }

    /// Reads the int8 section (the tensors of `spec` in order), checks every value is in -127...127,
    /// and writes the float values they stand for into `parameters`.
    /// - Throws: `ModelError.badFile` if the section's size does not match or a value is -128.
    static func readInt8(_ spec: QuantizationSpec, bytes: ArraySlice<UInt8>, into parameters: ParameterStore) throws -> QuantizedWeights {
        let tensors = spec.layers.flatMap(\.tensors)
        let expected = tensors.reduce(0) { $0 + (parameters.layout.tensor($1.name)?.count ?? 0) }
        guard bytes.count == expected else { throw ModelError.badFile("\(bytes.count) int8 weights, but the quantization names \(expected)") }
        var matrices: [String: Int8Matrix] = [:]
        var start = bytes.startIndex
        for tensor in tensors {
            let t = parameters.layout.tensor(tensor.name)!
            let values = bytes[start..<(start + t.count)].map { Int8(bitPattern: $0) }
            start += t.count
            guard !values.contains(-128) else { throw ModelError.badFile("\(tensor.name): int8 weight -128 (the range is -127...127)") }
            let matrix = Int8Matrix(values: values, scales: tensor.scales, rows: t.count / tensor.scales.count, columns: tensor.scales.count)
            matrix.dequantize(into: parameters.buffer.pointer + t.offset)
            matrices[tensor.name] = matrix
        }
        return QuantizedWeights(spec: spec, matrices: matrices)
    }

    /// Checks every weight: finite, within ±`ModelLimits.weightMagnitude`, and batch-norm running
    /// variances non-negative (the folded scale divides by their square root).
    /// - Throws: `ModelError.badFile` naming the tensor and the weight.
    static func checkWeights(_ parameters: ParameterStore) throws {
        let p = parameters.buffer.pointer
        for tensor in parameters.layout.tensors {
            let isVariance = tensor.name.hasSuffix(".var")
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                let w = p[i]
                guard w.isFinite else { throw ModelError.badFile("weight \(i) (\(tensor.name)) is not finite") }
                guard abs(w) <= ModelLimits.weightMagnitude else {
                    throw ModelError.badFile("weight \(i) (\(tensor.name)) is \(w), beyond ±\(ModelLimits.weightMagnitude)")
                }
                guard !isVariance || w >= 0 else { throw ModelError.badFile("weight \(i) (\(tensor.name)) is a negative variance") }
            }
        }
    }

    /// An upper bound on the magnitude of every activation of an inference pass over inputs in [0, 1]
    /// (interval propagation: a convolution with batch norm folded in, or a dense layer, maps a bound B
    /// to max over outputs of sum |w| * B + |bias|; ReLU, pooling and reshapes keep it; an LSTM's
    /// outputs are within ±1 and its gate inputs are bounded like a dense layer's). The loader refuses a
    /// model whose bound exceeds `ModelLimits.activationMagnitude`, so logits are always finite, and
    /// softmax (which subtracts the row's maximum) gives finite probabilities in [0, 1].
    /// - Throws: `ModelError.invalidArchitecture` for an invalid architecture.
    static func activationBound(architecture: Architecture, parameters: ParameterStore) throws -> Double {
        let p = parameters.buffer.pointer
        let layers = try architecture.resolve(width: architecture.inputWidth ?? ModelLimits.lineCheckWidth)
        /// max over columns o of sum_r |w[r, o]| * bound + |bias(o)| for w stored as [rows, columns].
        func columnBound(_ w: Int, rows: Int, columns: Int, input bound: Double, scale: (Int) -> Double = { _ in 1 },
                         bias: (Int) -> Double) -> Double {
            var sums = [Double](repeating: 0, count: columns)
            for r in 0..<rows { for o in 0..<columns { sums[o] += Double(abs(p[w + r * columns + o])) } }
            return (0..<columns).map { o in abs(scale(o)) * sums[o] * bound + abs(bias(o)) }.max() ?? 0
        }
        var bound = 1.0, worst = 1.0
        for (layer, resolved) in zip(layers, parameters.layout.layers) {
            switch (layer.settings, layer.input) {
            case let (.conv(cout, k), .image(_, _, cin)):
                let o = resolved.offsets
                let scale = { (j: Int) in Double(p[o[1] + j]) / (Double(p[o[4] + j]) + Double(ConvLayer.epsilon)).squareRoot() }
                bound = columnBound(o[0], rows: k * k * cin, columns: cout, input: bound, scale: scale,
                                    bias: { j in Double(p[o[2] + j]) - Double(p[o[3] + j]) * scale(j) })
            case let (.biLSTM(u, _), .sequence(_, features)):
                for d in 0..<2 {
                    let o = Array(resolved.offsets[(3 * d)..<(3 * d + 3)])
                    let recurrent = columnBound(o[1], rows: u, columns: 4 * u, input: 1, bias: { _ in 0 })
                    let gates = columnBound(o[0], rows: features, columns: 4 * u, input: bound, bias: { j in Double(p[o[2] + j]) })
                    worst = max(worst, gates + recurrent)
                }
                bound = 1
            case let (.dense(units, _), .vector(features)), let (.dense(units, _), .sequence(_, features)):
                let o = resolved.offsets
                bound = columnBound(o[0], rows: features, columns: units, input: bound, bias: { j in Double(p[o[1] + j]) })
            default:
                break
            }
            worst = max(worst, bound)
        }
        return worst
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

/// CRC-32 of `bytes` (the ISO 3309 / ITU-T V.42 CRC of zlib, gzip and PNG), computed by zlib's `crc32_z`.
public func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    let checksum = bytes.withContiguousStorageIfAvailable { buffer in
        crc32_z(0, buffer.baseAddress, buffer.count)
    } ?? Array(bytes).withUnsafeBufferPointer { crc32_z(0, $0.baseAddress, $0.count) }
    return UInt32(truncatingIfNeeded: checksum)
}
