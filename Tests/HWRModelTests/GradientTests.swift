import Foundation
import HWRKernels
import HWRModel
import XCTest

/// Every layer's backward pass against finite differences of the loss, through a small network
/// containing one layer of each kind.
final class GradientTests: XCTestCase {
    let architecture = Architecture(inputHeight: 8, inputWidth: 8, layers: [
        .conv(3), .maxPool, .dropout(0.3), .conv(4), .columnsToSequence,
        .biLSTM(5, returnSequences: true), .biLSTM(3, returnSequences: false),
        .dense(6, relu: true), .dropout(0.2), .dense(4, relu: false),
    ])

    func loss(_ model: Model, _ x: [Float], _ labels: [Int32], gradients: UnsafeMutablePointer<Float>?) -> Double {
        let net = model.makeNetwork(seed: 99) // same dropout masks every time
        let (logits, _) = net.forward(x, batch: labels.count, width: 8, mode: .training)
        var d = [Float](repeating: 0, count: labels.count * 4)
        let l = softmaxCrossEntropy(dLogits: &d, logits: logits, labels: labels, rows: labels.count, cols: 4)
        if let gradients { net.backward(&d, batch: labels.count, gradients: gradients) }
        return Double(l)
    }

    func testBackwardMatchesFiniteDifferencesForEveryTensor() throws {
        let model = try Model(architecture: architecture, charset: Array("abcd"), preprocessing: .init(kind: "character", size: 8, box: 6),
                              metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 3)
        var random = SeededGenerator(seed: 5)
        let batch = 3
        let x = (0..<(batch * 64)).map { _ in random.nextUniform() }
        let labels: [Int32] = [0, 2, 3]
        let layout = model.parameters.layout
        let grads = FloatBuffer(count: layout.count)
        _ = loss(model, x, labels, gradients: grads.pointer)
        let p = model.parameters.buffer.pointer
        for t in layout.tensors where t.trainable {
            // Directional derivative along a random direction restricted to this tensor.
            let direction = (0..<t.count).map { _ in random.nextGaussian() }
            var analytic = 0.0
            for i in 0..<t.count { analytic += Double(grads.pointer[t.offset + i] * direction[i]) }
            let eps: Float = 2e-3
            for i in 0..<t.count { p[t.offset + i] += eps * direction[i] }
            let plus = loss(model, x, labels, gradients: nil)
            for i in 0..<t.count { p[t.offset + i] -= 2 * eps * direction[i] }
            let minus = loss(model, x, labels, gradients: nil)
            for i in 0..<t.count { p[t.offset + i] += eps * direction[i] }
            let numeric = (plus - minus) / (2 * Double(eps))
            let error = abs(numeric - analytic) / max(1e-3, abs(numeric) + abs(analytic))
            XCTAssertLessThan(error, 2e-2, "\(t.name): analytic \(analytic), numeric \(numeric)")
        }
    }
}

/// A padded batch of lines of different widths gives each line the outputs it gets alone, and its
/// gradients still match finite differences.
final class PaddedBatchTests: XCTestCase {
    let architecture = Architecture(inputHeight: 8, inputWidth: nil, layers: [
        .conv(3), .maxPool, .conv(4), .maxPoolRows, .columnsToSequence,
        .biLSTM(5, returnSequences: true), .biLSTM(3, returnSequences: true), .dense(4, relu: false),
    ])

    func model() throws -> Model {
        try Model(architecture: architecture, charset: Array("abc"), preprocessing: .init(kind: "line", size: 8, box: 6),
                  metadata: .init(name: "t", version: "0", created: "", trainingData: ""), seed: 4)
    }

    func testPaddedBatchMatchesLinesRunAlone() throws {
        let m = try model()
        var random = SeededGenerator(seed: 8)
        let widths = [16, 8, 12]
        let lines = widths.map { w in (0..<(8 * w)).map { _ in random.nextUniform() } }
        let width = 16
        var batch = [Float](repeating: 0, count: 3 * 8 * width)
        for (j, line) in lines.enumerated() {
            for y in 0..<8 { for x in 0..<widths[j] { batch[(j * 8 + y) * width + x] = line[y * widths[j] + x] } }
        }
        let padded = m.makeNetwork()
        let (logits, shape) = padded.forward(batch, batch: 3, width: width, mode: .inference, widths: widths)
        guard case let .sequence(steps, classes) = shape else { return XCTFail("\(shape)") }
        XCTAssertEqual(steps, 8)
        for (j, line) in lines.enumerated() {
            let alone = m.makeNetwork()
            let (own, ownShape) = alone.forward(line, batch: 1, width: widths[j], mode: .inference)
            guard case let .sequence(ownSteps, _) = ownShape else { return XCTFail() }
            XCTAssertEqual(ownSteps, Network.steps(ofWidth: widths[j], steps: steps, width: width))
            for t in 0..<ownSteps { for k in 0..<classes {
                XCTAssertEqual(logits[(t * 3 + j) * classes + k], own[t * classes + k], accuracy: 1e-4, "line \(j) step \(t)")
            } }
        }
    }

    func testMaskedGradientsMatchFiniteDifferences() throws {
        let m = try model()
        var random = SeededGenerator(seed: 9)
        let widths = [16, 8], width = 16
        let x = (0..<(2 * 8 * width)).map { _ in random.nextUniform() }
        let labels: [[Int32]] = [[0, 1, 2], [1, 1]]
        func loss(_ gradients: UnsafeMutablePointer<Float>?) -> Double {
            let net = m.makeNetwork()
            let (logits, shape) = net.forward(x, batch: 2, width: width, mode: .training, widths: widths)
            guard case let .sequence(steps, classes) = shape else { return .nan }
            var d = [Float](repeating: 0, count: steps * 2 * classes)
            var total: Float = 0
            for j in 0..<2 {
                total += ctcLoss(dLogits: &d[j * classes], logits: logits + j * classes, label: labels[j],
                                 steps: Network.steps(ofWidth: widths[j], steps: steps, width: width),
                                 classes: classes, rowStride: 2 * classes, scale: 0.5)
            }
            if let gradients { net.backward(&d, batch: 2, gradients: gradients) }
            return Double(total) / 2
        }
        let layout = m.parameters.layout
        let grads = FloatBuffer(count: layout.count)
        _ = loss(grads.pointer)
        let p = m.parameters.buffer.pointer
        for t in layout.tensors where t.trainable {
            let direction = (0..<t.count).map { _ in random.nextGaussian() }
            var analytic = 0.0
            for i in 0..<t.count { analytic += Double(grads.pointer[t.offset + i] * direction[i]) }
            let eps: Float = 2e-3
            for i in 0..<t.count { p[t.offset + i] += eps * direction[i] }
            let plus = loss(nil)
            for i in 0..<t.count { p[t.offset + i] -= 2 * eps * direction[i] }
            let minus = loss(nil)
            for i in 0..<t.count { p[t.offset + i] += eps * direction[i] }
            let numeric = (plus - minus) / (2 * Double(eps))
            XCTAssertLessThan(abs(numeric - analytic) / max(1e-3, abs(numeric) + abs(analytic)), 2e-2, "\(t.name): \(analytic) vs \(numeric)")
        }
    }
}
