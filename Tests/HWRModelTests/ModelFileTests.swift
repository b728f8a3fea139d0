import Foundation
import HWRModel
import XCTest

final class ModelFileTests: XCTestCase {
    func smallModel(seed: UInt64 = 1) throws -> Model {
        try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
            .conv(2), .maxPool, .columnsToSequence, .biLSTM(3, returnSequences: false), .dense(3, relu: false),
        ]), charset: Array("xyz"), preprocessing: .init(kind: "character", size: 8, box: 6),
        metadata: .init(name: "small", version: "0.1", created: "2026-11-21", trainingData: "none", metrics: ["acc": 0.5]), seed: seed)
    }

    func testCopyingMatchingTensorsTakesSharedLayersOnly() throws {
        let source = try smallModel(seed: 3)
        // Same convolution and LSTM, another head (4 classes): the head keeps its own weights.
        let target = try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
            .conv(2), .maxPool, .columnsToSequence, .biLSTM(3, returnSequences: false), .dense(4, relu: false),
        ]), charset: Array("wxyz"), preprocessing: .init(kind: "character", size: 8, box: 6),
        metadata: .init(name: "target", version: "0.1", created: "2026-11-21", trainingData: "none"), seed: 4)
        let headBefore = try XCTUnwrap(target.parameters.layout.tensor("L4.w"))
        let headValues = Array(target.parameters.array[headBefore.offset..<(headBefore.offset + headBefore.count)])
        let copied = target.copyMatchingTensors(from: source)
        XCTAssertEqual(Set(copied), Set(target.parameters.layout.tensors.map(\.name)).subtracting(["L4.w", "L4.b"]))
        for name in copied {
            let (a, b) = (try XCTUnwrap(source.parameters.layout.tensor(name)), try XCTUnwrap(target.parameters.layout.tensor(name)))
            XCTAssertEqual(source.parameters.array[a.offset..<(a.offset + a.count)], target.parameters.array[b.offset..<(b.offset + b.count)], name)
        }
        XCTAssertEqual(Array(target.parameters.array[headBefore.offset..<(headBefore.offset + headBefore.count)]), headValues)
    }

    func testRoundTripKeepsEverything() throws {
        let model = try smallModel(seed: 9)
        let loaded = try Model(fileData: try model.fileData())
        XCTAssertEqual(loaded.architecture, model.architecture)
        XCTAssertEqual(loaded.charset, model.charset)
        XCTAssertEqual(loaded.metadata, model.metadata)
        XCTAssertEqual(loaded.preprocessing, model.preprocessing)
        XCTAssertEqual(loaded.parameters.array, model.parameters.array)
        let x = (0..<128).map { Float($0 % 7) / 7 }
        let (netA, netB) = (model.makeNetwork(), loaded.makeNetwork())
        let a = netA.forward(x, batch: 2, width: 8, mode: .inference)
        let b = netB.forward(x, batch: 2, width: 8, mode: .inference)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.0, count: 6)), Array(UnsafeBufferPointer(start: b.0, count: 6)))
    }

    func testRejectsForeignTruncatedAndCorruptedFiles() throws {
        let good = try smallModel().fileData()
        expectBadFile(Data(), containing: "magic")
        expectBadFile(Data([0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0, 0, 0, 0, 0, 1]), containing: "magic")
        expectBadFile(good.prefix(good.count / 2), containing: "truncated")
        expectBadFile(good.prefix(10), containing: "magic")
        expectBadFile(good + Data([0]), containing: "truncated")
        var flipped = good
        flipped[good.count - 40] ^= 0x10
        expectBadFile(flipped, containing: "checksum")
        var version = good
        version[4] = 0
        expectBadFile(version, containing: "version 0")
    }

    func testNewerFormatVersionIsUnsupported() throws {
        var newer = try smallModel().fileData()
        newer[4] = UInt8(Model.fileFormatVersion + 1) // the rest of a newer file may be laid out differently: the version alone decides
        XCTAssertThrowsError(try Model(fileData: newer)) { error in
            guard case let ModelError.unsupported(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("version \(Model.fileFormatVersion + 1)"), message)
        }
    }

    func testRejectsHeaderThatDoesNotMatchItsWeights() throws {
        // A valid file whose header claims a different architecture, with a recomputed checksum.
        var data = try smallModel().fileData()
        let found = try XCTUnwrap(data.range(of: Data("\"filters\":2".utf8)))
        data[found.upperBound - 1] = UInt8(ascii: "3")
        let crc = crc32(data.prefix(data.count - 4))
        data.replaceSubrange((data.count - 4)..<data.count, with: withUnsafeBytes(of: crc.littleEndian) { Data($0) })
        expectBadFile(data, containing: "tensor table")
    }

    func testRejectsNonFiniteWeights() throws {
        let model = try smallModel()
        model.parameters.buffer.pointer[3] = .nan
        expectBadFile(try model.fileData(), containing: "not finite")
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try Model.load(path: "/nonexistent/model.hwrm")) { error in
            guard case ModelError.io = error else { return XCTFail("\(error)") }
        }
    }

    func testWriteFailureIsAnIOErrorWithItsCause() throws {
        XCTAssertThrowsError(try smallModel().write(to: "/nonexistent/model.hwrm")) { error in
            guard case let ModelError.io(message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "cannot write /nonexistent/model.hwrm: No such file or directory")
        }
    }

    func expectIOError(_ path: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Model.load(path: path), file: file, line: line) { error in
            guard case let ModelError.io(message) = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(message.contains(text), "\"\(message)\" does not mention \"\(text)\"", file: file, line: line)
        }
    }

    /// Only regular files are read: a directory, a FIFO (which would block a read forever) and a device
    /// (/dev/zero, which never ends) are refused before any byte is read; a regular file over the size
    /// limit is refused without being read.
    func testOnlyRegularFilesWithinTheSizeLimitAreRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-files-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        expectIOError(folder, containing: "is a directory")
        let fifo = "\(folder)/fifo.hwrm"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        expectIOError(fifo, containing: "is a FIFO")
        expectIOError("/dev/zero", containing: "is a device")
        let link = "\(folder)/zero.hwrm"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
        expectIOError(link, containing: "is a device")
        // A sparse file one byte over the limit: refused from its size.
        let large = "\(folder)/large.hwrm"
        XCTAssertTrue(FileManager.default.createFile(atPath: large, contents: Data("HWRM".utf8)))
        XCTAssertEqual(truncate(large, off_t(ModelLimits.fileSize + 1)), 0)
        XCTAssertThrowsError(try Model.load(path: large)) { error in
            guard case let ModelError.badFile(message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("more than"), message)
        }
        // A symbolic link to a valid model is followed.
        let model = "\(folder)/small.hwrm", alias = "\(folder)/alias.hwrm"
        try smallModel().write(to: model)
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: model)
        XCTAssertEqual(try Model.load(path: alias).charset, Array("xyz"))
    }

    func testInvalidArchitecturesAreRejected() {
        let meta = ModelMetadata(name: "m", version: "0", created: "", trainingData: "")
        XCTAssertThrowsError(try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [.dense(3, relu: false)]),
                                       charset: Array("abc"), preprocessing: .mnistCharacter, metadata: meta))
        XCTAssertThrowsError(try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
            .conv(2), .columnsToSequence, .biLSTM(2, returnSequences: false), .dense(4, relu: false),
        ]), charset: Array("abc"), preprocessing: .mnistCharacter, metadata: meta), "4 classes but 3 characters")
        XCTAssertThrowsError(try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
            .conv(2, kernel: 4), .columnsToSequence, .biLSTM(2, returnSequences: false), .dense(3, relu: false),
        ]), charset: Array("abc"), preprocessing: .mnistCharacter, metadata: meta), "even kernel")
    }
}
