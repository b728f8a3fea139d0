import Foundation
import HWRKernels
import HWRModel
import XCTest

/// Model files crafted as an attacker would: valid magic, version and checksum, inconsistent or
/// extreme contents. Each must be refused at load with `ModelError.badFile` (or `.unsupported`),
/// never accepted to trap or compute NaN later; the files of ../shared/robustness-inputs among them.
final class CraftedModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    let metadata = ModelMetadata(name: "crafted", version: "0", created: "2026-11-30", trainingData: "none")

    /// A small character model: 8 x 8 input, four convolutions, a BiLSTM, 3 classes.
    func characterModel() throws -> Model {
        try Model(architecture: Architecture(inputHeight: 8, inputWidth: 8, layers: [
            .conv(2), .maxPool, .conv(2), .conv(2), .conv(2), .maxPool, .columnsToSequence,
            .biLSTM(3, returnSequences: false), .dense(3, relu: false),
        ]), charset: Array("xyz"), preprocessing: .init(kind: "character", size: 8, box: 6), metadata: metadata, seed: 2)
    }

    /// A small line model: 8 pixels high, any width, 3 characters and the CTC blank.
    func lineModel() throws -> Model {
        try Model(architecture: Architecture(inputHeight: 8, inputWidth: nil, layers: [
            .conv(2), .maxPool, .maxPoolRows, .columnsToSequence, .biLSTM(3, returnSequences: true), .dense(4, relu: false),
        ]), charset: Array("xyz"), preprocessing: .init(kind: "line", size: 8, box: 6), metadata: metadata, seed: 2)
    }

    /// Rebuilds a model file with its header JSON and weights edited and the checksum recomputed.
    func crafted(_ data: Data, header edit: (inout [String: Any]) throws -> Void = { _ in },
                 weights editWeights: (inout [Float], [String: (offset: Int, count: Int)]) -> Void = { _, _ in }) throws -> Data {
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        let headerLength = Int(u32(8))
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[12..<(12 + headerLength)])) as? [String: Any])
        let count = Int(u32(12 + headerLength)) // the weight count's high half is 0 for these models
        var weights = (0..<count).map { Float(bitPattern: u32(20 + headerLength + 4 * $0)) }
        var tensors: [String: (offset: Int, count: Int)] = [:]
        for tensor in try XCTUnwrap(header["tensors"] as? [[String: Any]]) {
            let shape = try XCTUnwrap(tensor["shape"] as? [Int])
            tensors[try XCTUnwrap(tensor["name"] as? String)] = (try XCTUnwrap(tensor["offset"] as? Int), shape.reduce(1, *))
        }
        try edit(&header)
        editWeights(&weights, tensors)
        let json = try JSONSerialization.data(withJSONObject: header)
        var out = Data("HWRM".utf8)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        append(UInt32(1)); append(UInt32(json.count)); out.append(json)
        append(UInt64(weights.count))
        for w in weights { append(w.bitPattern) }
        append(crc32(out))
        return out
    }

    /// Edits the architecture's layer `index` (negative: from the end).
    func editLayer(_ header: inout [String: Any], _ index: Int, _ edit: (inout [String: Any]) -> Void) throws {
        var architecture = try XCTUnwrap(header["architecture"] as? [String: Any])
        var layers = try XCTUnwrap(architecture["layers"] as? [[String: Any]])
        let i = index < 0 ? layers.count + index : index
        edit(&layers[i])
        architecture["layers"] = layers
        header["architecture"] = architecture
    }

    /// Logits of a forward pass over an all-ink and a blank input are finite, and their softmax in [0, 1].
    func assertFiniteOutputs(_ model: Model, width: Int, file: StaticString = #filePath, line: UInt = #line) {
        let classes = model.architecture.classes
        for value: Float in [0, 1] {
            let input = [Float](repeating: value, count: model.architecture.inputHeight * width)
            let network = model.makeNetwork() // owns the logits' memory
            let (logits, shape) = network.forward(input, batch: 1, width: width, mode: .inference)
            let rows = shape.count / classes
            var p = [Float](repeating: 0, count: shape.count)
            withExtendedLifetime(network) { softmaxRows(&p, logits, rows: rows, cols: classes) }
            XCTAssertTrue(p.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "probabilities \(p.prefix(8))", file: file, line: line)
        }
    }

    func testCraftedFilesPassTheirChecksumThenFailValidation() throws {
        let character = try characterModel().fileData(), line = try lineModel().fileData()
        XCTAssertNoThrow(try Model(fileData: try crafted(character)), "an unedited rebuild loads")
        expectBadFile(try crafted(line) { $0["charset"] = "" }, containing: "0 characters")
        expectBadFile(try crafted(character) { $0["charset"] = "xyx" }, containing: "repeats")
        // A 4096-pixel input height, and dimensions whose products wrap around Int.
        expectBadFile(try crafted(character) { h in
            var a = try XCTUnwrap(h["architecture"] as? [String: Any]); a["inputHeight"] = 4096; a["inputWidth"] = 4096
            h["architecture"] = a
        }, containing: "input height 4096")
        expectBadFile(try crafted(line) { try self.editLayer(&$0, 0) { $0["filters"] = 1 << 62 } }, containing: "filters")
        expectBadFile(try crafted(line) { try self.editLayer(&$0, 4) { $0["units"] = Int.max / 2 + 1 } }, containing: "units")
        expectBadFile(try crafted(line) { try self.editLayer(&$0, 0) { $0["kernel"] = -(1 << 62) + 1 } }, containing: "kernel")
        // The output size must be the charset's, plus the blank for a line (CTC) model.
        expectBadFile(try crafted(character) { try self.editLayer(&$0, -1) { $0["units"] = 4 } }, containing: "4 output classes but 3 characters")
        expectBadFile(try crafted(line) { try self.editLayer(&$0, -1) { $0["units"] = 3 } }, containing: "3 output classes but 3 characters and the CTC blank")
        // Preprocessing that does not fit the network.
        expectBadFile(try crafted(character) { $0["preprocessing"] = ["kind": "line", "size": 8, "box": 6] }, containing: "does not fit")
        expectBadFile(try crafted(line) { $0["preprocessing"] = ["kind": "line", "size": 8, "box": 0] }, containing: "box 0")
        expectBadFile(try crafted(character) { h in
            var a = try XCTUnwrap(h["architecture"] as? [String: Any]); a["inputWidth"] = 12
            h["architecture"] = a
        }, containing: "does not fit")
        // A network that does not end in a dense layer.
        expectBadFile(try crafted(line) { try self.editLayer(&$0, -1) { $0 = ["kind": "dropout", "rate": 0.1] } }, containing: "last layer must be dense")
    }

    func testWeightsMustBeFiniteBoundedAndGiveFiniteActivations() throws {
        let data = try characterModel().fileData()
        expectBadFile(try crafted(data, weights: { w, t in w[t["L8.w"]!.offset + 1] = .nan }), containing: "L8.w) is not finite")
        expectBadFile(try crafted(data, weights: { w, t in w[t["L0.kernel"]!.offset] = .infinity }), containing: "not finite")
        expectBadFile(try crafted(data, weights: { w, t in w[t["L8.w"]!.offset] = -2e4 }), containing: "beyond")
        expectBadFile(try crafted(data, weights: { w, t in w[t["L2.var"]!.offset] = -1 }), containing: "negative variance")
        // Every weight within ±1e4, but four convolutions of large weights with batch norm at zero
        // variance multiply the input past what a float holds: refused, where it would compute NaN.
        let amplifying: (inout [Float], [String: (offset: Int, count: Int)]) -> Void = { w, t in
            for layer in [0, 2, 3, 4] {
                for (role, value) in [("kernel", Float(1e4)), ("gamma", 1e4), ("var", 0)] {
                    let tensor = t["L\(layer).\(role)"]!
                    for i in 0..<tensor.count { w[tensor.offset + i] = value }
                }
            }
        }
        expectBadFile(try crafted(data, weights: amplifying), containing: "activations could reach")
        let unchecked = try characterModel()
        let p = unchecked.parameters.buffer.pointer
        for layer in [0, 2, 3, 4] {
            for (role, value) in [("kernel", Float(1e4)), ("gamma", 1e4), ("var", 0)] {
                let tensor = try XCTUnwrap(unchecked.parameters.layout.tensor("L\(layer).\(role)"))
                (p + tensor.offset).update(repeating: value, count: tensor.count)
            }
        }
        let network = unchecked.makeNetwork() // owns the logits' memory
        let (logits, _) = network.forward([Float](repeating: 1, count: 64), batch: 1, width: 8, mode: .inference)
        withExtendedLifetime(network) {
            XCTAssertFalse((0..<3).allSatisfy { logits[$0].isFinite }, "such weights do make the network overflow")
        }
    }

    /// ../shared/robustness-inputs: every model file there either loads and gives finite probabilities
    /// or is refused as its README says; and the huge-weights model its script makes is refused.
    func testRobustnessInputs() throws {
        let folder = "\(Self.root)/../shared/robustness-inputs"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw XCTSkip("\(folder) is not here")
        }
        // nil: a valid model that must load.
        let expected: [String: String?] = ["line-no-chars.hwrm": "0 characters", "char-letters-only.hwrm": nil]
        var seen = 0
        for name in names.sorted() where name.hasSuffix(".hwrm") {
            seen += 1
            do {
                let model = try Model.load(path: "\(folder)/\(name)")
                if let refusal = expected[name] ?? nil { XCTFail("\(name) loaded; expected a refusal naming \"\(refusal)\"") }
                assertFiniteOutputs(model, width: model.architecture.inputWidth ?? 64)
            } catch let ModelError.badFile(message) {
                guard let want = expected[name] else { continue } // a new kind of file: refused cleanly is fine
                guard let want else { XCTFail("\(name) refused: \(message)"); continue }
                XCTAssertTrue(message.contains(want), "\(name): \"\(message)\" does not mention \"\(want)\"")
            }
        }
        XCTAssertGreaterThanOrEqual(seen, 2)
        // make-huge-weights-model.py: the shipped character model with last-layer weights of ±3e38.
        let shipped = try Data(contentsOf: URL(fileURLWithPath: "\(Self.root)/models/hwr-char.hwrm"))
        let huge = try crafted(shipped, weights: { w, t in
            let last = t["L11.w"]!
            for i in 0..<last.count { w[last.offset + i] = i % 2 == 1 ? 3e38 : -3e38 }
        })
        expectBadFile(huge, containing: "L11.w) is -3e+38, beyond")
    }

    /// The shipped models load, and give finite probabilities in [0, 1] on extreme inputs.
    func testShippedModelsGiveFiniteProbabilities() throws {
        for name in ["hwr-char", "hwr-line"] {
            let model = try Model.load(path: "\(Self.root)/models/\(name).hwrm")
            assertFiniteOutputs(model, width: model.architecture.inputWidth ?? 200)
        }
    }
}
