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
        for opA in [Transpose.noTranspose, .transpose] {
            for opB in [Transpose.noTranspose, .transpose] {
                var c = [Float](repeating: 0, count: m * n)
                gemm(opA, opB, m: m, n: n, k: k, a: opA == .transpose ? at : a, b: opB == .transpose ? bt : b, beta: 0, c: &c)
                assertClose(c, reference)
            }
        }
    }

    /// One row of a non-transposed A (batch 1) takes the matrix-vector path: every transposition of B,
    /// alpha, beta 0 and 1, and a B with a row stride wider than its rows, against the plain product.
    func testGemmWithOneRow() {
        let n = 7, k = 5, pad = 3
        let a = rand(k), b = rand(k * n), initial = rand(n)
        var reference = [Float](repeating: 0, count: n)
        for j in 0..<n { for p in 0..<k { reference[j] += a[p] * b[p * n + j] } }
        var bt = [Float](repeating: 0, count: n * k)
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
        for opB in [Transpose.noTranspose, .transpose] {
            // The same B stored with `pad` unused floats after each row.
            let (rows, columns) = opB == .transpose ? (n, k) : (k, n)
            let stored = opB == .transpose ? bt : b
            var strided = [Float](repeating: .nan, count: rows * (columns + pad))
            for r in 0..<rows { for c in 0..<columns { strided[r * (columns + pad) + c] = stored[r * columns + c] } }
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1)] {
                var dense = initial, wide = initial
                gemm(.noTranspose, opB, m: 1, n: n, k: k, alpha: alpha, a: a, b: stored, beta: beta, c: &dense)
                gemm(.noTranspose, opB, m: 1, n: n, k: k, alpha: alpha, a: a, b: strided, ldb: columns + pad, beta: beta, c: &wide)
                let expected = (0..<n).map { alpha * reference[$0] + beta * initial[$0] }
                assertClose(dense, expected)
                assertClose(wide, expected)
            }
        }
        // A transposed one-row A ([k, 1]) goes through sgemm and gives the same product.
        var c = [Float](repeating: 0, count: n)
        gemm(.transpose, .noTranspose, m: 1, n: n, k: k, a: a, b: b, beta: 0, c: &c)
        assertClose(c, reference)
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
        // Images narrower and shorter than the kernel too (a line's first columns, a thin line).
        for (b, h, w, cin, cout, k) in [(2, 6, 5, 3, 4, 3), (1, 1, 1, 2, 3, 3), (1, 2, 3, 1, 2, 5), (2, 4, 2, 3, 2, 5)] {
            let x = rand(b * h * w * cin), wt = rand(k * k * cin * cout), bias = rand(cout)
            var out = [Float](repeating: 0, count: b * h * w * cout)
            var col = [Float](repeating: 0, count: b * h * w * k * k * cin)
            conv2dForward(out: &out, col: &col, input: x, weight: wt, bias: bias, b: b, h: h, w: w, cin: cin, cout: cout, k: k)
            assertClose(out, naiveConv(x, wt, bias, b: b, h: h, wd: w, cin: cin, cout: cout, k: k))
            conv2dForward(out: &out, col: &col, input: x, weight: wt, bias: bias, b: b, h: h, w: w, cin: cin, cout: cout, k: k, relu: true)
            assertClose(out, naiveConv(x, wt, bias, b: b, h: h, wd: w, cin: cin, cout: cout, k: k).map { max(0, $0) })
        }
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

    /// Reference max pooling over 2 x `poolWidth` windows (floor at odd sizes).
    func naiveMaxPool(_ x: [Float], b: Int, h: Int, w: Int, c: Int, poolWidth: Int) -> [Float] {
        let (oh, ow) = (h / 2, w / poolWidth)
        var out = [Float](repeating: 0, count: b * oh * ow * c)
        for n in 0..<b { for y in 0..<oh { for xx in 0..<ow { for ch in 0..<c {
            var m = -Float.infinity
            for dy in 0..<2 { for dx in 0..<poolWidth { m = max(m, x[((n * h + 2 * y + dy) * w + poolWidth * xx + dx) * c + ch]) } }
            out[((n * oh + y) * ow + xx) * c + ch] = m
        } } } }
        return out
    }

    func checkMaxPool(b: Int, h: Int, w: Int, c: Int, poolWidth: Int, file: StaticString = #filePath, line: UInt = #line) {
        let x = rand(b * h * w * c)
        let expected = naiveMaxPool(x, b: b, h: h, w: w, c: c, poolWidth: poolWidth)
        var out = [Float](repeating: 0, count: expected.count)
        var arg = [Int32](repeating: 0, count: out.count)
        maxPool2Forward(out: &out, argmax: &arg, input: x, b: b, h: h, w: w, c: c, poolWidth: poolWidth)
        XCTAssertEqual(out, expected, file: file, line: line)
        // The inference path (no positions kept) gives the same maxima.
        var inference = [Float](repeating: 0, count: expected.count)
        maxPool2Forward(out: &inference, argmax: nil, input: x, b: b, h: h, w: w, c: c, poolWidth: poolWidth)
        XCTAssertEqual(inference, expected, file: file, line: line)
        // Backward adds each output's gradient to its maximum's position, and to nothing else.
        let dOut = (0..<out.count).map { Float($0 + 1) }
        var dx = [Float](repeating: 0.5, count: x.count)
        maxPool2Backward(dInput: &dx, dOut: dOut, argmax: arg, outputCount: out.count)
        var reference = [Float](repeating: 0.5, count: x.count)
        for i in 0..<out.count {
            let position = Int(arg[i])
            XCTAssertEqual(x[position], out[i], "argmax points at the maximum", file: file, line: line)
            reference[position] += dOut[i]
        }
        XCTAssertEqual(dx, reference, file: file, line: line)
    }

    func testMaxPoolForwardAndBackward() {
        checkMaxPool(b: 2, h: 4, w: 6, c: 3, poolWidth: 2)
        checkMaxPool(b: 1, h: 5, w: 7, c: 2, poolWidth: 2) // odd rows and columns dropped
    }

    /// The line model's second pooling (`LayerSpec.maxPoolRows`): 2 x 1 windows halve the height and
    /// keep every column, so a line keeps its horizontal resolution.
    func testMaxPoolOverRowsOnly() {
        checkMaxPool(b: 2, h: 4, w: 5, c: 3, poolWidth: 1)
        checkMaxPool(b: 1, h: 7, w: 3, c: 1, poolWidth: 1) // the odd last row dropped
        // A hand-made case: column maxima of row pairs, columns untouched.
        let x: [Float] = [1, 8, 3,
                          4, 2, 9]
        var out = [Float](repeating: 0, count: 3)
        maxPool2Forward(out: &out, argmax: nil, input: x, b: 1, h: 2, w: 3, c: 1, poolWidth: 1)
        XCTAssertEqual(out, [4, 8, 9])
    }

    /// Every backward kernel adds into the gradients it is given: run twice into the same buffers, each
    /// gradient is exactly twice what one run gives.
    func testBackwardKernelsAccumulate() {
        func twice(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
            var once = [Float](repeating: 0, count: count), double = once
            once.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
            double.withUnsafeMutableBufferPointer { body($0.baseAddress!); body($0.baseAddress!) }
            assertClose(double, once.map { 2 * $0 }, tolerance: 1e-5)
        }
        // Dense: dx, dWeight, dBias.
        let (rows, inputs, outputs) = (3, 4, 5)
        let x = rand(rows * inputs), weight = rand(inputs * outputs), dy = rand(rows * outputs)
        let sizes = [rows * inputs, inputs * outputs, outputs]
        for which in 0..<3 {
            twice(sizes[which]) { g in
                let scratch = sizes.map { FloatBuffer(count: $0) }
                var targets = scratch.map(\.pointer)
                targets[which] = g
                withExtendedLifetime(scratch) {
                    denseBackward(dx: targets[0], dWeight: targets[1], dBias: targets[2], dy: dy, x: x, weight: weight,
                                  n: rows, inputs: inputs, outputs: outputs)
                }
            }
        }
        // LSTM: dx, dWx, dWh, dBias.
        let (t, nb, f, u) = (3, 2, 3, 4)
        let xs = rand(t * nb * f), wx = rand(f * 4 * u), wh = rand(u * 4 * u), bias = rand(4 * u), dHidden = rand(t * nb * u)
        let buffers = [4 * u, u, u, u, u].map { FloatBuffer(count: t * nb * $0) }
        let states = LSTMStates(gates: buffers[0].pointer, cells: buffers[1].pointer, previousHidden: buffers[2].pointer,
                                hidden: buffers[3].pointer)
        lstmForward(out: buffers[4].pointer, ldOut: u, states: states, x: xs, wx: wx, wh: wh, bias: bias,
                    steps: t, batch: nb, inputs: f, units: u, reverse: false)
        let lstmSizes = [t * nb * f, f * 4 * u, u * 4 * u, 4 * u]
        for which in 0..<4 {
            twice(lstmSizes[which]) { g in
                let scratch = lstmSizes.map { FloatBuffer(count: $0) }, dGates = FloatBuffer(count: t * nb * 4 * u)
                var targets = scratch.map(\.pointer)
                targets[which] = g
                withExtendedLifetime((scratch, dGates, buffers)) {
                    lstmBackward(dx: targets[0], dWx: targets[1], dWh: targets[2], dBias: targets[3], dGates: dGates.pointer,
                                 dOut: dHidden, ldOut: u, states: states, x: xs, wx: wx, wh: wh, steps: t, batch: nb,
                                 inputs: f, units: u, reverse: false)
                }
            }
        }
        // Convolution: dInput and dWeight.
        let (b, h, w, cin, cout, k) = (1, 4, 3, 2, 3, 3)
        let input = rand(b * h * w * cin), kernel = rand(k * k * cin * cout), dOut = rand(b * h * w * cout)
        var col = [Float](repeating: 0, count: b * h * w * k * k * cin)
        var out = [Float](repeating: 0, count: b * h * w * cout)
        conv2dForward(out: &out, col: &col, input: input, weight: kernel, bias: nil, b: b, h: h, w: w, cin: cin, cout: cout, k: k)
        var dCol = col, dWeightScratch = kernel
        twice(b * h * w * cin) { dInput in
            conv2dBackward(dInput: dInput, dWeight: &dWeightScratch, dCol: &dCol, dOut: dOut, col: col, weight: kernel,
                           b: b, h: h, w: w, cin: cin, cout: cout, k: k)
        }
        twice(k * k * cin * cout) { dWeight in
            conv2dBackward(dInput: nil, dWeight: dWeight, dCol: &dCol, dOut: dOut, col: col, weight: kernel,
                           b: b, h: h, w: w, cin: cin, cout: cout, k: k)
        }
        // Batch norm: dGamma and dBeta (its dx is computed in place from dy).
        let (n, c) = (6, 3)
        let xhat = rand(n * c), invStd = rand(c).map { abs($0) + 0.5 }, gamma = rand(c), dBN = rand(n * c)
        for gammaGradient in [true, false] {
            twice(c) { g in
                var d = dBN, other = [Float](repeating: 0, count: c)
                other.withUnsafeMutableBufferPointer { other in
                    batchNormBackward(&d, dGamma: gammaGradient ? g : other.baseAddress!, dBeta: gammaGradient ? other.baseAddress! : g,
                                      xhat: xhat, invStd: invStd, gamma: gamma, n: n, c: c)
                }
            }
        }
        // Columns to sequence (the reshape's backward).
        let sequence = rand(2 * 3 * 4 * 2)
        twice(sequence.count) { dInput in sequenceToColumns(dInput, sequence, b: 2, h: 3, w: 4, c: 2) }
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
