import CBLAS

/// Row-major single-precision matrix product over OpenBLAS:
/// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C`.
/// - Parameters:
///   - transA: use Aᵀ (A is then stored as [k, m]).
///   - transB: use Bᵀ (B is then stored as [n, k]).
///   - lda, ldb, ldc: row strides; default to the dense stride.
@inline(__always)
public func gemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int,
                 alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                 b: UnsafePointer<Float>, ldb: Int? = nil,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    if m == 1 && !transA {
        // A single row (batch 1): a matrix-vector product avoids sgemm's packing overhead.
        cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                    alpha, b, Int32(ldb), a, 1, beta, c, 1)
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Sets the number of threads the matrix products may use (process-wide, as OpenBLAS is).
/// - Parameter count: threads, at least 1.
public func setKernelThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
}
