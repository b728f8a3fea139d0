/* int8 matrix product for int8 inference: unsigned 7-bit activations (0...127, with a zero point)
 * times signed 8-bit weights (-127...127, one scale per output column), summed exactly in int32, then a
 * float epilogue (scale, bias, ReLU).
 *
 * Method: the u8 x s8 `vpmaddubsw` scheme of Intel's "Lower Numerical Precision Deep Learning Inference
 * and Training" white paper (2018), as FBGEMM runs it on AVX2 without VNNI ("reduce_range"): with
 * activations kept to 7 bits a pair of products never saturates the s16 sum (2 * 127 * 127 < 32767),
 * and `vpmaddwd` with ones widens the pairs to int32.
 *
 * An AVX2 path (chosen at run time, the library itself needs only x86-64) and a portable scalar one;
 * both give identical results. HWR_INT8_SCALAR=1 in the environment, read once on the first call, forces
 * the scalar path. All functions are thread-safe; none allocates. */
#ifndef HWR_INT8_GEMM_H
#define HWR_INT8_GEMM_H
#include <stddef.h>
#include <stdint.h>

/* Internal to the engine: hidden, so that libhwr.so (whose version script exports hwr_*) keeps exporting
 * its C API only. */
#pragma GCC visibility push(hidden)

/** Bytes of the packed form of a [k, n] weight matrix: k rounded up to a multiple of 4 times n rounded
 *  up to a multiple of 16. */
size_t hwr_int8_packed_size(int k, int n);

/** Packs w ([k, n] row-major int8, values in -127...127; read only) into packed (hwr_int8_packed_size(k, n)
 *  bytes owned by the caller, 32-byte aligned by the caller for speed). Done once per weight matrix.
 *  Layout: panels of 16 columns one after the other; a panel is k/4 groups of 64 bytes, in which column c
 *  of the panel holds its 4 weights W[4g...4g+3, c] at bytes 4c...4c+3. Padding rows and columns are 0. */
void hwr_int8_pack(int8_t *packed, const int8_t *w, int k, int n);

/** Row stride (bytes) an activation matrix with k columns needs: k rounded up to a multiple of 4. */
int hwr_int8_row_stride(int k);

/** Quantizes rows x cols floats (x, row stride ldx floats) to u7:
 *  q = clamp(lrintf(x * inverse_scale) + zero_point, 0, 127) (rounding to nearest even; NaN gives 0),
 *  into out (caller's buffer, row stride ldo >= cols bytes); the bytes cols...ldo-1 of each row are set to
 *  zero_point, which must lie in 0...127. */
void hwr_int8_quantize(uint8_t *out, int ldo, const float *x, int ldx, int rows, int cols, float inverse_scale,
                       int zero_point);

/** C[m, n] = (accumulate ? C[m, n] : 0) + scale[n] * (sum_k A[m, k] * W[k, n] - column_offset[n]) + (bias ? bias[n] : 0),
 *  then max(0, .) if relu; the float operations in that order on both paths, without fused multiply-add.
 *  A: m rows of u7 (0...127), row stride lda >= hwr_int8_row_stride(k) bytes (the padding bytes may hold
 *  any value). W: packed by hwr_int8_pack for these k and n. column_offset: n int32, zero_point * sum_k W[k, n],
 *  computed by the caller; NULL means all 0. scale: n floats, activation scale * weight scale of the
 *  column. bias: n floats or NULL. C: float, row stride ldc floats; only its m x n elements are read
 *  (if accumulate) and written. All buffers belong to the caller. k up to 65536 (the int32 sums). */
void hwr_int8_gemm(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                   const int32_t *column_offset, const float *scale, const float *bias,
                   float *c, int ldc, int accumulate, int relu);

/** hwr_int8_gemm on the scalar path whatever the CPU, with the same parameters: the reference the tests
 *  compare the AVX2 path with in one process. */
void hwr_int8_gemm_reference(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                             const int32_t *column_offset, const float *scale, const float *bias,
                             float *c, int ldc, int accumulate, int relu);

/** 1 if the AVX2 path is in use, 0 for the scalar one (for reports and tests). */
int hwr_int8_uses_avx2(void);

#pragma GCC visibility pop

#endif
