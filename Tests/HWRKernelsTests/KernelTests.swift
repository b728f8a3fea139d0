import Foundation
import HWRKernels
import XCTest

/// Each kernel against a plain reference implementation on random inputs.
final class KernelTests: XCTestCase {
    var seed: UInt64 = 12345
    func rand(_ n: Int) -> [Float] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2001) / 1000 - 1
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThan(worst, tolerance, "max relative error \(worst)", file: file, line: line)
    }

    func testGemmAllTranspositions() {
        let m = 5, n = 7, k = 3
        let a = rand(m * k), b = rand(k * n)
        var reference = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { reference[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        // Transposed copies give the same product.
        var at = [Float](repeating: 0, count: m * k), bt = [Float](repeating: 0, count: k * n)
        for i in 0..<m { for p in 0..<k { at[p * m + i] = a[i * k + p] } }
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 0, count: m * n)
            gemm(ta, tb, m: m, n: n, k: k, a: ta ? at : a, b: tb ? bt : b, beta: 0, c: &c)
            assertClose(c, reference)
        }
    }

    func naiveConv(_ input: [Float], _ w: [Float], _ bias: [Float]?, b: Int, h: Int, wd: Int, cin: Int, cout: Int, k: Int) -> [Float] {
        var out = [Float](repeating: 0, count: b * h * wd * cout)
        let pad = k / 2
        for n in 0..<b { for y in 0..<h { for x in 0..<wd { for o in 0..<cout {
            var s = bias?[o] ?? 0
            for ky in 0..<k { for kx in 0..<k { for c in 0..<cin {
                let sy = y + ky - pad, sx = x + kx - pad
                if sy >= 0 && sy < h && sx >= 0 && sx < wd {
                    s += input[((n * h + sy) * wd + sx) * cin + c] * w[((ky * k + kx) * cin + c) * cout + o]
                }
            } } }
            out[((n * h + y) * wd + x) * cout + o] = s
        } } } }
        return out
    }

    func testConvolutionMatchesReference() {
        let (b, h, w, cin, cout, k) = (2, 6, 5, 3, 4, 3)
        let x = rand(b * h * w * cin), wt = rand(k * k * cin * cout), bias = rand(cout)
        var out = [Float](repeating: 0, count: b * h * w * cout)
        var col = [Float](repeating: 0, count: b * h * w * k * k * cin)
        conv2dForward(out: &out, col: &col, input: x, weight: wt, bias: bias, b: b, h: h, w: w, cin: cin, cout: cout, k: k)
        assertClose(out, naiveConv(x, wt, bias, b: b, h: h, wd: w, cin: cin, cout: cout, k: k))
    }

    func testFoldedBatchNormEqualsConvolutionThenBatchNorm() {
        let (b, h, w, cin, cout, k) = (1, 4, 4, 2, 3, 3)
        let x = rand(b * h * w * cin), wt = rand(k * k * cin * cout)
        let gamma = rand(cout), beta = rand(cout), mean = rand(cout), variance = rand(cout).map { abs($0) + 0.5 }
        var fw = [Float](repeating: 0, count: wt.count), fb = [Float](repeating: 0, count: cout)
        foldBatchNorm(foldedWeight: &fw, foldedBias: &fb, weight: wt, gamma: gamma, beta: beta, mean: mean,
                      variance: variance, rows: k * k * cin, c: cout, epsilon: 1e-3)
        let folded = naiveConv(x, fw, fb, b: b, h: h, wd: w, cin: cin, cout: cout, k: k)
        let plain = naiveConv(x, wt, nil, b: b, h: h, wd: w, cin: cin, cout: cout, k: k)
        let reference = plain.enumerated().map { i, v -> Float in
            let o = i % cout
            return gamma[o] * (v - mean[o]) / (variance[o] + 1e-3).squareRoot() + beta[o]
        }
        assertClose(folded, reference)
    }

    func testMaxPoolForwardAndBackward() {
        let (b, h, w, c) = (2, 4, 6, 3)
        let x = rand(b * h * w * c)
        var out = [Float](repeating: 0, count: b * 2 * 3 * c)
        var arg = [Int32](repeating: 0, count: out.count)
        maxPool2Forward(out: &out, argmax: &arg, input: x, b: b, h: h, w: w, c: c)
        for n in 0..<b { for y in 0..<2 { for xx in 0..<3 { for ch in 0..<c {
            var m = -Float.infinity
            for dy in 0..<2 { for dx in 0..<2 { m = max(m, x[((n * h + 2 * y + dy) * w + 2 * xx + dx) * c + ch]) } }
            XCTAssertEqual(out[((n * 2 + y) * 3 + xx) * c + ch], m)
        } } } }
        var dx = [Float](repeating: 1, count: x.count)
        maxPool2Backward(dInput: &dx, dOut: [Float](repeating: 2, count: out.count), argmax: arg,
                         inputCount: x.count, outputCount: out.count)
        XCTAssertEqual(dx.reduce(0, +), Float(2 * out.count))
        for i in 0..<x.count where dx[i] != 0 { XCTAssertTrue(out.contains(x[i])) }
    }

    func testLSTMForwardMatchesScalarReference() {
        let (t, b, inputs, u) = (4, 2, 3, 5)
        let x = rand(t * b * inputs), wx = rand(inputs * 4 * u), wh = rand(u * 4 * u), bias = rand(4 * u)
        for reverse in [false, true] {
            var out = [Float](repeating: 0, count: t * b * u)
            var g = [Float](repeating: 0, count: t * b * 4 * u), c = [Float](repeating: 0, count: t * b * u)
            var hp = c, hh = c
            g.withUnsafeMutableBufferPointer { g in c.withUnsafeMutableBufferPointer { c in
                hp.withUnsafeMutableBufferPointer { hp in hh.withUnsafeMutableBufferPointer { hh in
                    let states = LSTMStates(gates: g.baseAddress!, cells: c.baseAddress!, previousHidden: hp.baseAddress!, hidden: hh.baseAddress!)
                    lstmForward(out: &out, ldOut: u, states: states, x: x, wx: wx, wh: wh, bias: bias,
                                steps: t, batch: b, inputs: inputs, units: u, reverse: reverse)
                } }
            } }
            for n in 0..<b {
                var h = [Float](repeating: 0, count: u), cell = h
                for s in 0..<t {
                    let step = reverse ? t - 1 - s : s
                    var pre = bias
                    for j in 0..<(4 * u) {
                        for i in 0..<inputs { pre[j] += x[(step * b + n) * inputs + i] * wx[i * 4 * u + j] }
                        for i in 0..<u { pre[j] += h[i] * wh[i * 4 * u + j] }
                    }
                    for j in 0..<u {
                        let ig = 1 / (1 + exp(-pre[j])), fg = 1 / (1 + exp(-pre[u + j]))
                        let gg = tanh(pre[2 * u + j]), og = 1 / (1 + exp(-pre[3 * u + j]))
                        cell[j] = fg * cell[j] + ig * gg
                        h[j] = og * tanh(cell[j])
                    }
                    assertClose(Array(out[((step * b + n) * u)..<((step * b + n) * u + u)]), h)
                }
            }
        }
    }

    func testSoftmaxCrossEntropyGradientIsSoftmaxMinusOneHot() {
        let logits = rand(3 * 4)
        var d = [Float](repeating: 0, count: 12)
        let loss = softmaxCrossEntropy(dLogits: &d, logits: logits, labels: [0, 3, 1], rows: 3, cols: 4)
        var p = [Float](repeating: 0, count: 12)
        softmaxRows(&p, logits, rows: 3, cols: 4)
        let expected = -(log(p[0]) + log(p[7]) + log(p[9])) / 3
        XCTAssertEqual(loss, expected, accuracy: 1e-5)
        XCTAssertEqual(d[7], (p[7] - 1) / 3, accuracy: 1e-6)
        XCTAssertEqual(d[8], p[8] / 3, accuracy: 1e-6)
    }

    func testVectorActivationsMatchLibm() {
        let x = (0..<2003).map { Float($0 - 1000) / 37 } + [-200, -90, 0, 90, 200]
        var s = x, t = x
        sigmoidInPlace(&s, n: s.count)
        tanhVector(&t, x, n: x.count)
        for i in 0..<x.count {
            XCTAssertEqual(s[i], 1 / (1 + exp(-x[i])), accuracy: 3e-7, "sigmoid(\(x[i]))")
            XCTAssertEqual(t[i], tanh(x[i]), accuracy: 5e-7, "tanh(\(x[i]))")
        }
    }

    func testColumnsToSequenceRoundTrip() {
        let (b, h, w, c) = (2, 3, 4, 2)
        let x = rand(b * h * w * c)
        var seq = [Float](repeating: 0, count: x.count), back = seq
        columnsToSequence(&seq, x, b: b, h: h, w: w, c: c)
        // Step 2, sample 1, row 1, channel 0 comes from column 2.
        XCTAssertEqual(seq[(2 * b + 1) * h * c + 1 * c + 0], x[((1 * h + 1) * w + 2) * c + 0])
        sequenceToColumns(&back, seq, b: b, h: h, w: w, c: c)
        XCTAssertEqual(back, x)
    }
}
