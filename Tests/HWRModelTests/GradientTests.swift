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
