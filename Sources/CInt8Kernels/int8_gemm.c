/* int8 matrix product: u7 activations x packed s8 weights, int32 sums, float epilogue (int8_gemm.h).
 *
 * Method: Intel's "Lower Numerical Precision Deep Learning Inference and Training" (2018) and FBGEMM's
 * AVX2 kernels: _mm256_maddubs_epi16 multiplies 32 u8 x s8 pairs and adds neighbours into s16 (exact,
 * as 2 * 127 * 127 < 32767), _mm256_madd_epi16 with ones adds neighbours again into s32. A 32-byte load
 * of the packed weights is 8 columns x 4 consecutive k, and a 4-byte broadcast of a row of A (4
 * consecutive k) multiplies it, so each s32 lane ends up with one column's dot product over those 4 k.
 *
 * The AVX2 micro-kernel computes 4 rows x 16 columns (8 accumulators) over the whole k; rows are taken
 * in blocks of about 64 KiB of A (kept in L2) and, within a block, each 16-column panel of the weights
 * (16 * k bytes, kept in L1) meets every 4 rows of the block in turn. */
#include "int8_gemm.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HWR_INT8_X86 1
#else
#define HWR_INT8_X86 0
#endif

/* The epilogue multiplies, then adds, on both paths; fused into one FMA (were FMA enabled for the whole
 * file) the scalar path would round differently. Neither path enables FMA; clang is told not to fuse in any
 * case, and GCC does not under -std=c11. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

enum {
    PANEL = 16,        /* columns of a packed panel: two 8-lane vectors */
    GROUP = 4,         /* consecutive k of one column in a 4-byte lane */
    BLOCK_A = 65536,   /* bytes of A per row block of the AVX2 path */
};

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

size_t hwr_int8_packed_size(int k, int n) { return (size_t)round_up(k, GROUP) * (size_t)round_up(n, PANEL); }

int hwr_int8_row_stride(int k) { return round_up(k, GROUP); }

void hwr_int8_pack(int8_t *packed, const int8_t *w, int k, int n) {
    int k4 = round_up(k, GROUP), n16 = round_up(n, PANEL);
    for (int j0 = 0; j0 < n16; j0 += PANEL)
        for (int p0 = 0; p0 < k4; p0 += GROUP)
            for (int c = 0; c < PANEL; c++)
                for (int q = 0; q < GROUP; q++) {
                    int col = j0 + c, row = p0 + q;
                    *packed++ = col < n && row < k ? w[(size_t)row * n + col] : 0;
                }
}

/* ---------------------------------------------------------------------------------------------------
 * Scalar path (the reference; any CPU) */

/* One output of the epilogue: the operations of the AVX2 path, in the same order. c_old is NULL unless
 * accumulating. */
static inline float finish(int32_t sum, int j, const int32_t *column_offset, const float *scale,
                           const float *bias, const float *c_old, int relu) {
    float v = scale[j] * (float)(sum - (column_offset ? column_offset[j] : 0));
    if (c_old) v = *c_old + v;
    if (bias) v = v + bias[j];
    return relu ? (v > 0.0f ? v : 0.0f) : v;
}

static void gemm_scalar(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                        const int32_t *column_offset, const float *scale, const float *bias,
                        float *c, int ldc, int accumulate, int relu) {
    int k4 = round_up(k, GROUP);
    for (int i = 0; i < m; i++) {
        const uint8_t *row = a + (size_t)i * lda;
        float *out = c + (size_t)i * ldc;
        for (int j0 = 0; j0 < n; j0 += PANEL) {
            const int8_t *w = packed + (size_t)j0 * k4;
            int32_t sum[PANEL] = {0};
            for (int p0 = 0; p0 < k4; p0 += GROUP) {
                int x0 = row[p0], x1 = row[p0 + 1], x2 = row[p0 + 2], x3 = row[p0 + 3];
                for (int col = 0; col < PANEL; col++, w += GROUP) sum[col] += x0 * w[0] + x1 * w[1] + x2 * w[2] + x3 * w[3];
            }
            for (int col = 0; col < PANEL && j0 + col < n; col++) {
                int j = j0 + col;
                out[j] = finish(sum[col], j, column_offset, scale, bias, accumulate ? &out[j] : NULL, relu);
            }
        }
    }
}

/* Keeps x * inverse_scale within what lrintf and the AVX2 conversion both represent; past +-512 the
 * result is clamped to 0 or 127 anyway (zero_point in 0...127). NaN ends at -512, so 0, on both paths. */
static inline uint8_t quantize_one(float x, float inverse_scale, int zero_point) {
    float v = x * inverse_scale;
    v = v > -512.0f ? v : -512.0f;
    v = v < 512.0f ? v : 512.0f;
    long q = lrintf(v) + zero_point;
    return (uint8_t)(q < 0 ? 0 : q > 127 ? 127 : q);
}

/* Sets the row's bytes cols...ldo-1 to the zero point. */
static void pad_row(uint8_t *out, int ldo, int cols, int zero_point) {
    memset(out + cols, zero_point, (size_t)(ldo - cols));
}

static void quantize_scalar(uint8_t *out, int ldo, const float *x, int ldx, int rows, int cols,
                            float inverse_scale, int zero_point) {
    for (int i = 0; i < rows; i++) {
        uint8_t *o = out + (size_t)i * ldo;
        const float *xi = x + (size_t)i * ldx;
        for (int j = 0; j < cols; j++) o[j] = quantize_one(xi[j], inverse_scale, zero_point);
        pad_row(o, ldo, cols, zero_point);
    }
}

/* ---------------------------------------------------------------------------------------------------
 * AVX2 path (x86-64 with AVX2, detected at run time) */

#if HWR_INT8_X86
#define AVX2 __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

/* Writes the sums of 8 columns j...j+7 of one row of C, all inside n. */
AVX2_INLINE void finish8(__m256i sum, int j, const int32_t *column_offset, const float *scale,
                         const float *bias, float *out, int accumulate, int relu) {
    if (column_offset) sum = _mm256_sub_epi32(sum, _mm256_loadu_si256((const __m256i *)(column_offset + j)));
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(scale + j), _mm256_cvtepi32_ps(sum));
    if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(out + j), v);
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
    if (relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    _mm256_storeu_ps(out + j, v);
}

/* rows (1...4, a constant after inlining) rows of A times the 16-column panel w starting at column j0,
 * into rows of C. */
AVX2_INLINE void rows_x_panel(int rows, int k4, const uint8_t *a, int lda, const int8_t *w, int j0, int n,
                              const int32_t *column_offset, const float *scale, const float *bias,
                              float *c, int ldc, int accumulate, int relu) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int p0 = 0; p0 < k4; p0 += GROUP, w += PANEL * GROUP) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w);
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
#pragma GCC unroll 4
        for (int r = 0; r < rows; r++) {
            int32_t quad;
            memcpy(&quad, a + (size_t)r * lda + p0, sizeof quad);
            __m256i x = _mm256_set1_epi32(quad);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w0), ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w1), ones));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) {
        float *out = c + (size_t)r * ldc;
        if (j0 + PANEL <= n) {
            finish8(acc[r][0], j0, column_offset, scale, bias, out, accumulate, relu);
            finish8(acc[r][1], j0 + 8, column_offset, scale, bias, out, accumulate, relu);
        } else {
            int32_t sum[PANEL];
            _mm256_storeu_si256((__m256i *)sum, acc[r][0]);
            _mm256_storeu_si256((__m256i *)(sum + 8), acc[r][1]);
            for (int col = 0; j0 + col < n; col++) {
                int j = j0 + col;
                out[j] = finish(sum[col], j, column_offset, scale, bias, accumulate ? &out[j] : NULL, relu);
            }
        }
    }
}

static AVX2 void gemm_avx2(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                           const int32_t *column_offset, const float *scale, const float *bias,
                           float *c, int ldc, int accumulate, int relu) {
    int k4 = round_up(k, GROUP);
    int block = BLOCK_A / (k4 > 0 ? k4 : 1) / 4 * 4;
    if (block < 4) block = 4;
    for (int i0 = 0; i0 < m; i0 += block) {
        int i1 = i0 + block < m ? i0 + block : m;
        for (int j0 = 0; j0 < n; j0 += PANEL) {
            const int8_t *w = packed + (size_t)j0 * k4;
            for (int i = i0; i < i1; i += 4) {
                const uint8_t *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc;
                switch (i1 - i) {
                case 1: rows_x_panel(1, k4, ai, lda, w, j0, n, column_offset, scale, bias, ci, ldc, accumulate, relu); break;
                case 2: rows_x_panel(2, k4, ai, lda, w, j0, n, column_offset, scale, bias, ci, ldc, accumulate, relu); break;
                case 3: rows_x_panel(3, k4, ai, lda, w, j0, n, column_offset, scale, bias, ci, ldc, accumulate, relu); break;
                default: rows_x_panel(4, k4, ai, lda, w, j0, n, column_offset, scale, bias, ci, ldc, accumulate, relu); break;
                }
            }
        }
    }
}

/* lrintf(x * inverse_scale) + zero_point for 8 floats, clamped as quantize_one does. */
AVX2_INLINE __m256i quantize8(const float *x, __m256 inverse_scale, __m256i zero_point) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), inverse_scale);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point);
}

/* Four vectors of 8 int32 to 32 bytes in 0...127, in order. Narrowing with saturation (s32 -> s16 ->
 * u8, to 0...255) interleaves the two 128-bit lanes; the permutation puts the 4-byte groups back. */
AVX2_INLINE __m256i narrow(__m256i q0, __m256i q1, __m256i q2, __m256i q3) {
    __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm256_min_epu8(bytes, _mm256_set1_epi8(127));
}

/* 32 floats at a time, then 8, then the scalar formula for the last few of a row. */
static AVX2 void quantize_avx2(uint8_t *out, int ldo, const float *x, int ldx, int rows, int cols,
                               float inverse_scale, int zero_point) {
    const __m256 inverse = _mm256_set1_ps(inverse_scale);
    const __m256i zero = _mm256_set1_epi32(zero_point);
    for (int i = 0; i < rows; i++) {
        uint8_t *o = out + (size_t)i * ldo;
        const float *xi = x + (size_t)i * ldx;
        int j = 0;
        for (; j + 32 <= cols; j += 32) {
            __m256i bytes = narrow(quantize8(xi + j, inverse, zero), quantize8(xi + j + 8, inverse, zero),
                                   quantize8(xi + j + 16, inverse, zero), quantize8(xi + j + 24, inverse, zero));
            _mm256_storeu_si256((__m256i *)(o + j), bytes);
        }
        for (; j + 8 <= cols; j += 8) {
            __m256i q = quantize8(xi + j, inverse, zero);
            _mm_storel_epi64((__m128i *)(o + j), _mm256_castsi256_si128(narrow(q, q, q, q)));
        }
        for (; j < cols; j++) o[j] = quantize_one(xi[j], inverse_scale, zero_point);
        pad_row(o, ldo, cols, zero_point);
    }
}
#endif

/* ---------------------------------------------------------------------------------------------------
 * Dispatch */

static _Atomic int avx2_state = -1; /* -1 until the first call decides */

int hwr_int8_uses_avx2(void) {
    int state = atomic_load_explicit(&avx2_state, memory_order_relaxed);
    if (state < 0) {
        const char *forced = getenv("HWR_INT8_SCALAR");
        int scalar = forced && strcmp(forced, "1") == 0;
#if HWR_INT8_X86
        __builtin_cpu_init();
        state = !scalar && __builtin_cpu_supports("avx2");
#else
        (void)scalar;
        state = 0;
#endif
        atomic_store_explicit(&avx2_state, state, memory_order_relaxed);
    }
    return state;
}

void hwr_int8_quantize(uint8_t *out, int ldo, const float *x, int ldx, int rows, int cols, float inverse_scale,
                       int zero_point) {
#if HWR_INT8_X86
    if (hwr_int8_uses_avx2()) {
        quantize_avx2(out, ldo, x, ldx, rows, cols, inverse_scale, zero_point);
        return;
    }
#endif
    quantize_scalar(out, ldo, x, ldx, rows, cols, inverse_scale, zero_point);
}

void hwr_int8_gemm(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                   const int32_t *column_offset, const float *scale, const float *bias,
                   float *c, int ldc, int accumulate, int relu) {
#if HWR_INT8_X86
    if (hwr_int8_uses_avx2()) {
        gemm_avx2(m, n, k, a, lda, packed, column_offset, scale, bias, c, ldc, accumulate, relu);
        return;
    }
#endif
    gemm_scalar(m, n, k, a, lda, packed, column_offset, scale, bias, c, ldc, accumulate, relu);
}

void hwr_int8_gemm_reference(int m, int n, int k, const uint8_t *a, int lda, const int8_t *packed,
                             const int32_t *column_offset, const float *scale, const float *bias,
                             float *c, int ldc, int accumulate, int relu) {
    gemm_scalar(m, n, k, a, lda, packed, column_offset, scale, bias, c, ldc, accumulate, relu);
}
