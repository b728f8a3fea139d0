import CBLAS

/// How `gemm` uses a stored matrix: as it is (BLAS `NoTrans`) or transposed (BLAS `Trans`).
public enum Transpose: Sendable {
    /// op(X) = X.
    case noTranspose
    /// op(X) = Xᵀ: a matrix used as [r, c] is stored as [c, r].
    case transpose

    var blas: CBLAS_TRANSPOSE { self == .transpose ? CblasTrans : CblasNoTrans }
}

/// Row-major single-precision matrix product over OpenBLAS (BLAS level 3 `sgemm`):
/// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C`. A single row of a non-transposed A
/// (batch 1) goes through the matrix-vector product `sgemv` instead, which skips sgemm's packing.
/// - Parameters:
///   - opA: `.transpose` to use Aᵀ (A is then stored as [k, m]).
///   - opB: `.transpose` to use Bᵀ (B is then stored as [n, k]).
///   - lda, ldb, ldc: row strides in floats; default to the dense stride.
///   - beta: 0 overwrites C, 1 adds to it (how gradients accumulate).
@inline(__always)
public func gemm(_ opA: Transpose, _ opB: Transpose, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                 b: UnsafePointer<Float>, ldb: Int? = nil,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (opA == .transpose ? m : k)
    let ldb = ldb ?? (opB == .transpose ? k : n)
    let ldc = ldc ?? n
    if m == 1 && opA == .noTranspose {
        // c[1, n] = a[1, k] * op(B): op(B)ᵀ times the vector a, so B's own transposition flips.
        let stored = opB == .transpose ? (rows: n, columns: k) : (rows: k, columns: n)
        cblas_sgemv(CblasRowMajor, opB == .transpose ? CblasNoTrans : CblasTrans, Int32(stored.rows), Int32(stored.columns),
                    alpha, b, Int32(ldb), a, 1, beta, c, 1)
        return
    }
    cblas_sgemm(CblasRowMajor, opA.blas, opB.blas,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Sets the number of threads the matrix products may use (process-wide, as OpenBLAS is).
/// - Parameter count: threads, at least 1.
public func setKernelThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
}
