/* Micro-benchmark of the int8 matrix product (Sources/CInt8Kernels) beside OpenBLAS sgemm, one thread.
 *
 *   make -C Benchmarks int8-gemm && Benchmarks/build/int8_gemm_bench [runs]
 *
 * For each shape (m, k, n) of the line model: C[m, n] = A[m, k] * W[k, n], int8 (u7 activations
 * already quantized, packed s8 weights, the full epilogue: column offsets, scales, bias) against sgemm
 * on the same shape (beta 0). Each is run until warm, then timed `runs` times (default 20); the best
 * time gives GOP/s = 2 * m * n * k / time. Quantizing the activations is timed apart (GB/s of floats read). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "int8_gemm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t state = 0x9E3779B97F4A7C15u;
static uint32_t next(void) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(state >> 33);
}

static void *buffer(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

typedef struct {
    int m, k, n;
    const char *what;
} Shape;

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    const Shape shapes[] = {
        {12544, 288, 64, "conv, 64 x 196 positions"},
        {50176, 12, 32, "conv, 64 x 784 positions"},
        {448, 448, 512, "448 steps x 448 -> 512"},
        {64, 128, 512, "recurrent step, 64 rows"},
        {64, 256, 256, "64 rows, 256 -> 256"},
    };
    openblas_set_num_threads(1);
    printf("int8 path: %s; best of %d runs after warm-up, 1 thread\n\n", hwr_int8_uses_avx2() ? "AVX2" : "scalar", runs);
    printf("%6s %4s %4s  %12s %12s %6s  %12s  %s\n", "m", "k", "n", "int8 GOP/s", "sgemm GOP/s", "ratio",
           "quant GB/s", "layer");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s].m, k = shapes[s].k, n = shapes[s].n, lda = hwr_int8_row_stride(k);
        float *x = buffer(sizeof(float) * (size_t)m * k), *wf = buffer(sizeof(float) * (size_t)k * n);
        float *c = buffer(sizeof(float) * (size_t)m * n), *scale = buffer(sizeof(float) * n);
        float *bias = buffer(sizeof(float) * n);
        uint8_t *a = buffer((size_t)m * lda);
        int8_t *w = buffer((size_t)k * n), *packed = buffer(hwr_int8_packed_size(k, n));
        int32_t *offset = buffer(sizeof(int32_t) * n);
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = (float)(next() % 2001) / 1000.0f - 1.0f;
        for (size_t i = 0; i < (size_t)k * n; i++) {
            w[i] = (int8_t)((int)(next() % 255) - 127);
            wf[i] = w[i] / 127.0f;
        }
        for (int j = 0; j < n; j++) {
            int32_t sum = 0;
            for (int p = 0; p < k; p++) sum += w[(size_t)p * n + j];
            offset[j] = 64 * sum;
            scale[j] = 1.0f / 63.5f / 127.0f;
            bias[j] = 0.01f * (float)j;
        }
        hwr_int8_pack(packed, w, k, n);

        double best_q = 1e30, best_i = 1e30, best_f = 1e30;
        for (int r = -3; r < runs; r++) { /* the first 3 warm up */
            double t0 = now();
            hwr_int8_quantize(a, lda, x, k, m, k, 63.5f, 64);
            double t1 = now();
            hwr_int8_gemm(m, n, k, a, lda, packed, offset, scale, bias, c, n, 0, 0);
            double t2 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, x, k, wf, n, 0.0f, c, n);
            double t3 = now();
            if (r >= 0) {
                if (t1 - t0 < best_q) best_q = t1 - t0;
                if (t2 - t1 < best_i) best_i = t2 - t1;
                if (t3 - t2 < best_f) best_f = t3 - t2;
            }
        }
        double ops = 2.0 * m * n * k;
        printf("%6d %4d %4d  %12.1f %12.1f %6.2f  %12.2f  %s\n", m, k, n, ops / best_i * 1e-9, ops / best_f * 1e-9,
               best_f / best_i, sizeof(float) * (double)m * k / best_q * 1e-9, shapes[s].what);
        free(x), free(wf), free(c), free(scale), free(bias), free(a), free(w), free(packed), free(offset);
    }
    return 0;
}
