import Foundation
import HWRKernels
import HWRModel
import XCTest

final class QuantizationTests: XCTestCase {
    /// A character model with every quantizable kind of layer: two convolutions, two BiLSTMs, two dense layers.
    func model(seed: UInt64 = 5) throws -> Model {
        try Model(architecture: Architecture(inputHeight: 12, inputWidth: 12, layers: [
            .conv(8), .maxPool, .conv(16), .maxPool, .columnsToSequence, .biLSTM(16, returnSequences: true),
            .biLSTM(8, returnSequences: false), .dense(16, relu: true), .dense(4, relu: false),
        ]), charset: Array("abcd"), preprocessing: .init(kind: "character", size: 12, box: 10),
        metadata: .init(name: "q", version: "0.1", created: "2026-11-30", trainingData: "none"), seed: seed)
    }

    /// Images of strokes in [0, 1], deterministic.
    func images(_ count: Int, seed: UInt64) -> [[Float]] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<144).map { _ in random.nextUniform() < 0.3 ? random.nextUniform() : 0 } }
    }

    func logits(_ model: Model, _ inputs: [[Float]]) -> [Float] {
        let network = model.makeNetwork()
        let flat = inputs.flatMap { $0 }
        let (out, _) = network.forward(flat, batch: inputs.count, width: 12, mode: .inference)
        return Array(UnsafeBufferPointer(start: out, count: inputs.count * 4))
    }

    func quantized(_ model: Model, recurrent: Bool = true) throws -> Model {
        try model.quantizedCopy(calibration: images(64, seed: 1).map { ($0, 12) }, recurrent: recurrent, description: "test images")
    }

    func testInt8LogitsFollowTheFloatOnes() throws {
        let float = try model()
        // Batch norm with non-trivial statistics, so that folding matters.
        let p = float.parameters.buffer.pointer
        for name in ["L0", "L2"] {
            for (role, value) in [("gamma", Float(1.3)), ("beta", 0.1), ("mean", 0.05), ("var", 0.6)] {
                let t = try XCTUnwrap(float.parameters.layout.tensor("\(name).\(role)"))
                (p + t.offset).update(repeating: value, count: t.count)
            }
        }
        for recurrent in [true, false] {
            let int8 = try quantized(float, recurrent: recurrent)
            XCTAssertEqual(int8.precision, .int8)
            XCTAssertEqual(float.precision, .fp32)
            let test = images(32, seed: 2)
            let (a, b) = (logits(float, test), logits(int8, test))
            let range = (a.max()! - a.min()!)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 0.05 * range, "recurrent \(recurrent): int8 logits differ by \(worst) of a range \(range)")
            // Same answers on (almost) every image.
            let argmax = { (l: [Float]) in stride(from: 0, to: l.count, by: 4).map { i in (0..<4).max { l[i + $0] < l[i + $1] }! } }
            XCTAssertGreaterThanOrEqual(zip(argmax(a), argmax(b)).filter { $0 == $1 }.count, 30)
        }
    }

    func testInt8FileRoundTripsAndIsSmaller() throws {
        let float = try model(), int8 = try quantized(float)
        let data = try int8.fileData()
        XCTAssertEqual(data[4], 2, "an int8 model is format version 2")
        XCTAssertEqual(try float.fileData()[4], 1, "a float model stays format version 1")
        XCTAssertLessThan(data.count, try float.fileData().count)
        let loaded = try Model(fileData: data)
        XCTAssertEqual(loaded.precision, .int8)
        XCTAssertEqual(loaded.quantized?.spec, int8.quantized?.spec)
        XCTAssertEqual(loaded.parameters.array, int8.parameters.array)
        let test = images(8, seed: 3)
        XCTAssertEqual(logits(loaded, test), logits(int8, test))
        XCTAssertThrowsError(try int8.quantizedCopy(calibration: [(images(1, seed: 1)[0], 12)], recurrent: true, description: ""))
    }

    /// Writing replaces a regular file only: never a device, FIFO, directory or symbolic link.
    func testWriteReplacesOnlyRegularFiles() throws {
        let model = try model()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-write-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.write(to: "\(dir)/m.hwrm")
        try model.write(to: "\(dir)/m.hwrm") // a regular file is replaced
        XCTAssertEqual(mkfifo("\(dir)/fifo", 0o600), 0)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link", withDestinationPath: "\(dir)/m.hwrm")
        for path in ["/dev/null", "\(dir)/fifo", "\(dir)/link", dir] {
            XCTAssertThrowsError(try model.write(to: path), path) { error in
                XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
            }
        }
        var info = stat()
        XCTAssertEqual(lstat("\(dir)/link", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK, "the link is left as it was")
    }

    func testRejectsInconsistentInt8Files() throws {
        let data = try quantized(try model()).fileData()
        func layers(_ h: [String: Any]) -> [[String: Any]] { ((h["quantization"] as! [String: Any])["layers"] as! [[String: Any]]) }
        func setLayers(_ h: inout [String: Any], _ l: [[String: Any]]) {
            var q = h["quantization"] as! [String: Any]; q["layers"] = l; h["quantization"] = q
        }
        expectBadFile(try rewritingHeader(data) { $0["quantization"] = nil }, containing: "without")
        expectBadFile(try rewritingHeader(data) { h in var l = layers(h); l[0]["index"] = 1; setLayers(&h, l) }, containing: "no weights")
        expectBadFile(try rewritingHeader(data) { h in var l = layers(h); l[0]["index"] = 99; setLayers(&h, l) }, containing: "does not exist")
        expectBadFile(try rewritingHeader(data) { h in
            var l = layers(h); var t = l[0]["tensors"] as! [[String: Any]]; t[0]["scales"] = [1.0]; l[0]["tensors"] = t; setLayers(&h, l)
        }, containing: "scales")
        expectBadFile(try rewritingHeader(data) { h in
            var l = layers(h); l[0]["input"] = ["scale": 0.1, "zeroPoint": 200]; setLayers(&h, l)
        }, containing: "zero point")
        expectBadFile(try rewritingHeader(data) { h in
            var l = layers(h); l[0]["input"] = ["scale": 3e38, "zeroPoint": 0]; setLayers(&h, l)
        }, containing: "input scale")
        expectBadFile(try rewritingHeader(data) { h in
            var l = layers(h); let i = l.firstIndex { $0["recurrent"] != nil }!
            l[i]["recurrent"] = ["scale": 0.5, "zeroPoint": 64]; setLayers(&h, l)
        }, containing: "recurrent")
        expectBadFile(try rewritingHeader(data) { h in var l = layers(h); l.append(l[0]); setLayers(&h, l) }, containing: "twice")
        // An int8 weight of -128 (outside the symmetric range), CRC recomputed.
        var bytes = [UInt8](data)
        let last = bytes.count - 5 // the last int8 weight
        bytes[last] = 0x80
        let crc = crc32(bytes[0..<(bytes.count - 4)])
        for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        expectBadFile(Data(bytes), containing: "-128")
        expectBadFile(data.prefix(data.count - 9), containing: "truncated")
    }
}
