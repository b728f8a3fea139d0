import CInt8Kernels
import Foundation
import XCTest

/// The int8 matrix product of CInt8Kernels: the AVX2 path against the scalar reference (bit for bit: the same
/// integer sums, the same float operations) and both against a plain Swift loop; packing and quantization
/// against their definitions.
final class Int8GemmTests: XCTestCase {
    var seed: UInt64 = 2018

    func random(_ range: ClosedRange<Int>) -> Int {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return range.lowerBound + Int(seed >> 33) % range.count
    }

    func randomFloat() -> Float { Float(random(0...2_000_000)) / 1_000_000 - 1 }

    /// count values in -1...1 (a loop over the buffer: a debug build is slow on a million elements otherwise).
    func randomFloats(_ count: Int) -> [Float] {
        var state = seed
        defer { seed = state }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                buffer[i] = Float(Int(state >> 41)) / Float(1 << 22) - 1
            }
            initialized = count
        }
    }

    /// The index of the first element whose bits differ, if any.
    func firstDifference(_ x: [Float], _ y: [Float]) -> Int? {
        guard x.count == y.count else { return min(x.count, y.count) }
        guard !x.isEmpty, x.withUnsafeBytes({ a in y.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) } }) != 0 else {
            return nil
        }
        return (0..<x.count).first { x[$0].bitPattern != y[$0].bitPattern }
    }

    /// A random product of shape (m, k, n): u7 activations with a zero point of 64, weights in -127...127.
    struct Problem {
        var m, k, n, lda: Int
        /// m rows of lda bytes: k values in 0...127, then padding bytes of any value.
        var a: [UInt8]
        /// [k, n] row-major, and its packed form.
        var w: [Int8], packed: [Int8]
        /// 64 * the column sums of w, as the caller computes them.
        var offset: [Int32]
        var scale: [Float], bias: [Float]
    }

    func problem(m: Int, k: Int, n: Int, extraStride: Int) -> Problem {
        let lda = Int(hwr_int8_row_stride(Int32(k))) + extraStride
        var state = seed
        let a = [UInt8](unsafeUninitializedCapacity: m * lda) { buffer, initialized in
            for i in 0..<m * lda {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                buffer[i] = UInt8(truncatingIfNeeded: state >> (i % lda < k ? 57 : 56))
            }
            initialized = m * lda
        }
        seed = state
        let w = (0..<k * n).map { _ in Int8(random(-127...127)) }
        var packed = [Int8](repeating: 99, count: hwr_int8_packed_size(Int32(k), Int32(n)))
        hwr_int8_pack(&packed, w, Int32(k), Int32(n))
        let offset = (0..<n).map { j in Int32(64 * (0..<k).reduce(0) { $0 + Int(w[$1 * n + j]) }) }
        let scale = (0..<n).map { _ in (1.5 + randomFloat()) / 63.5 / 127 }
        return Problem(m: m, k: k, n: n, lda: lda, a: a, w: w, packed: packed, offset: offset, scale: scale,
                       bias: (0..<n).map { _ in randomFloat() })
    }

    /// Which optional parts of the epilogue a call uses; `unitScale` (all scales 1, no offsets, no bias) returns
    /// the integer sums themselves, exact in Float below 2^24.
    struct Epilogue {
        var offset = true, bias = true, accumulate = false, relu = false, unitScale = false
    }

    /// C (row stride ldc, starting as c0) after `hwr_int8_gemm` or the reference on the first `rows` rows of A.
    func gemm(_ p: Problem, rows: Int, _ e: Epilogue, ldc: Int, c0: [Float], reference: Bool) -> [Float] {
        let call = reference ? hwr_int8_gemm_reference : hwr_int8_gemm
        let scale = e.unitScale ? [Float](repeating: 1, count: p.n) : p.scale
        var c = c0
        p.offset.withUnsafeBufferPointer { offset in
            p.bias.withUnsafeBufferPointer { bias in
                call(Int32(rows), Int32(p.n), Int32(p.k), p.a, Int32(p.lda), p.packed,
                     e.offset ? offset.baseAddress : nil, scale, e.bias ? bias.baseAddress : nil,
                     &c, Int32(ldc), e.accumulate ? 1 : 0, e.relu ? 1 : 0)
            }
        }
        return c
    }

    /// The same on a plain loop: integer sums, then the epilogue's float operations in its order.
    func naive(_ p: Problem, rows: Int, _ e: Epilogue, ldc: Int, c0: [Float]) -> [Float] {
        var c = c0
        for i in 0..<rows {
            for j in 0..<p.n {
                var sum = 0
                for q in 0..<p.k { sum += Int(p.a[i * p.lda + q]) * Int(p.w[q * p.n + j]) }
                if e.offset { sum -= Int(p.offset[j]) }
                var v = (e.unitScale ? 1 : p.scale[j]) * Float(sum)
                if e.accumulate { v = c[i * ldc + j] + v }
                if e.bias { v = v + p.bias[j] }
                c[i * ldc + j] = e.relu ? max(v, 0) : v
            }
        }
        return c
    }

    /// Checks one shape: the AVX2 path == the reference bit for bit over the whole C buffer (so nothing past n,
    /// past the last row or in the row padding of C is written), and both == the plain loop on the first `naiveRows`
    /// rows (exact on the integer sums, 1e-5 relative after the float epilogue). Every epilogue variant runs on the
    /// first `rows` rows of A; the full one (offsets, scales, bias) on all m.
    func check(m: Int, k: Int, n: Int, extraStride: Int = 0, extraLdc: Int = 0, rows: Int = .max, naiveRows: Int = .max,
               file: StaticString = #filePath, line: UInt = #line) {
        let p = problem(m: m, k: k, n: n, extraStride: extraStride)
        let ldc = n + extraLdc
        let variants = [Epilogue(), Epilogue(offset: false, bias: false, unitScale: true),
                        Epilogue(offset: false, bias: false, accumulate: true, relu: true),
                        Epilogue(bias: false, accumulate: true), Epilogue(offset: false, relu: true),
                        Epilogue(accumulate: true, relu: true)]
        for (index, e) in variants.enumerated() {
            let used = index == 0 ? m : min(m, rows)
            let c0 = randomFloats(used * ldc + 1) // one guard element after the last row
            let fast = gemm(p, rows: used, e, ldc: ldc, c0: c0, reference: false)
            let reference = gemm(p, rows: used, e, ldc: ldc, c0: c0, reference: true)
            if let i = firstDifference(fast, reference) {
                XCTFail("(\(used), \(k), \(n)) \(e): AVX2 \(fast[i]) != reference \(reference[i]) at \(i)", file: file, line: line)
            }
            XCTAssertEqual(fast.last, c0.last, "wrote past C", file: file, line: line)
            let count = min(used, naiveRows) * ldc
            let plain = naive(p, rows: min(used, naiveRows), e, ldc: ldc, c0: c0)
            if e.unitScale {
                XCTAssertEqual(Array(fast[0..<count]), Array(plain[0..<count]), "(\(m), \(k), \(n)) integer sums",
                               file: file, line: line)
            } else {
                let worst = zip(fast[0..<count], plain[0..<count]).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-5, "(\(m), \(k), \(n)) \(e)", file: file, line: line)
            }
        }
    }

    /// The layers of the line model, and the edge cases: k = 9 (padded to 12), n not a multiple of 16, one row, no row.
    /// On the big ones the epilogue variants take a few row blocks (and a remainder) of A, not all of it.
    func testModelShapes() {
        check(m: 64 * 196, k: 288, n: 64, rows: 451, naiveRows: 8)  // a convolution (row blocks of 224)
        check(m: 64 * 784, k: 9, n: 32, rows: 1000, naiveRows: 8)   // the first convolution
        check(m: 448 * 2, k: 448, n: 512, rows: 22, naiveRows: 4)   // an input projection, 448 steps of 2 lines
        check(m: 32, k: 128, n: 512)                                // a recurrent step
        check(m: 64, k: 128, n: 36)
        check(m: 1, k: 256, n: 128)
        check(m: 3, k: 5, n: 7)
        check(m: 0, k: 16, n: 16)
    }

    /// Random small shapes, with wider row strides of A and C.
    func testRandomShapes() {
        for _ in 0..<40 {
            check(m: random(0...13), k: random(1...70), n: random(1...70), extraStride: 4 * random(0...2), extraLdc: random(0...5))
        }
    }

    func testPackingLayout() {
        XCTAssertEqual(hwr_int8_row_stride(9), 12)
        XCTAssertEqual(hwr_int8_row_stride(12), 12)
        XCTAssertEqual(hwr_int8_row_stride(0), 0)
        let k = 5, n = 17, k4 = 8
        XCTAssertEqual(hwr_int8_packed_size(Int32(k), Int32(n)), k4 * 32)
        let w = (0..<k * n).map { _ in Int8(random(-127...127)) }
        var packed = [Int8](repeating: 99, count: k4 * 32)
        hwr_int8_pack(&packed, w, Int32(k), Int32(n))
        for row in 0..<k4 {
            for col in 0..<32 {
                let at = col / 16 * 16 * k4 + row / 4 * 64 + 4 * (col % 16) + row % 4
                XCTAssertEqual(packed[at], row < k && col < n ? w[row * n + col] : 0, "W[\(row), \(col)]")
            }
        }
    }

    /// The formula of the header, with its documented edges: NaN gives 0, infinities clamp.
    func quantized(_ x: Float, _ inverseScale: Float, _ zeroPoint: Int) -> UInt8 {
        let v = x * inverseScale
        if v.isNaN { return 0 }
        return UInt8(min(max(Int(min(max(v, -1e6), 1e6).rounded(.toNearestOrEven)) + zeroPoint, 0), 127))
    }

    func testQuantize() {
        // Halves times 2 are exact ties (rounded to even); 63.5 with random values and the special ones.
        for (inverseScale, zeroPoint) in [(Float(2), 64), (63.5, 3), (63.5, 127), (0.1, 0)] {
            for cols in [1, 5, 8, 9, 31, 32, 33, 70, 288] {
                let rows = 3, ldx = cols + 2, ldo = Int(hwr_int8_row_stride(Int32(cols))) + 4
                var x = (0..<rows * ldx).map { _ in
                    inverseScale == 2 ? Float(random(-160...160)) / 4 : 3 * randomFloat()
                }
                let special: [Float] = [.nan, .infinity, -.infinity, 1e30, -1e30, 2.0 / inverseScale, -0.0]
                for (index, value) in special.enumerated() where index < rows * ldx { x[(index * 7) % (rows * ldx)] = value }
                var out = [UInt8](repeating: 0xAA, count: rows * ldo)
                hwr_int8_quantize(&out, Int32(ldo), x, Int32(ldx), Int32(rows), Int32(cols), inverseScale, Int32(zeroPoint))
                for i in 0..<rows {
                    for j in 0..<ldo {
                        let expected = j < cols ? quantized(x[i * ldx + j], inverseScale, zeroPoint) : UInt8(zeroPoint)
                        XCTAssertEqual(out[i * ldo + j], expected, "x = \(j < cols ? x[i * ldx + j] : 0), cols \(cols), [\(i), \(j)]")
                    }
                }
            }
        }
    }

    /// The AVX2 path runs on a CPU with AVX2 unless HWR_INT8_SCALAR=1 (the flags read from /proc/cpuinfo).
    func testPathChoice() throws {
        guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { throw XCTSkip("no /proc/cpuinfo") }
        let forced = ProcessInfo.processInfo.environment["HWR_INT8_SCALAR"] == "1"
        #if arch(x86_64)
        let avx2 = cpu.contains(" avx2")
        #else
        let avx2 = false
        #endif
        XCTAssertEqual(hwr_int8_uses_avx2(), avx2 && !forced ? 1 : 0)
    }
}
