#include "ConvKitMicroKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// AVX-512F: 12 × 32 tile, 24 zmm accumulators; A values broadcast from memory.
__attribute__((target("avx512f,fma")))
static void micro_avx512(size_t kc, const float *restrict a, const float *restrict b, size_t ldb, float *restrict c, size_t ldc) {
    __m512 acc[12][2];
    for (int i = 0; i < 12; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(b + p * ldb), b1 = _mm512_loadu_ps(b + p * ldb + 16);
        const float *ap = a + p * 12;
        for (int i = 0; i < 12; i++) {
            const __m512 ai = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < 12; i++) {
        float *ci = c + i * ldc;
        _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][0]));
        _mm512_storeu_ps(ci + 16, _mm512_add_ps(_mm512_loadu_ps(ci + 16), acc[i][1]));
    }
}

// AVX2 + FMA: 6 × 16 tile, 12 ymm accumulators (of 16 registers).
__attribute__((target("avx2,fma")))
static void micro_avx2(size_t kc, const float *restrict a, const float *restrict b, size_t ldb, float *restrict c, size_t ldc) {
    __m256 acc[6][2];
    for (int i = 0; i < 6; i++) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = _mm256_setzero_ps(); }
    for (size_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
        const float *ap = a + p * 6;
        for (int i = 0; i < 6; i++) {
            const __m256 ai = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < 6; i++) {
        float *ci = c + i * ldc;
        _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
        _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
    }
}

// AVX2 + FMA for the last row panel of an A whose height is not a multiple of 6: only
// `rows` (1…5, a constant after inlining) accumulator pairs are computed and stored.
__attribute__((target("avx2,fma"), always_inline))
static inline void micro_avx2_rows(const int rows, size_t kc, const float *restrict a, const float *restrict b,
                                   size_t ldb, float *restrict c, size_t ldc) {
    __m256 acc[6][2];
    for (int i = 0; i < rows; i++) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = _mm256_setzero_ps(); }
    for (size_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
        const float *ap = a + p * 6;
        for (int i = 0; i < rows; i++) {
            const __m256 ai = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
        _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
    }
}

__attribute__((target("avx2,fma")))
static int micro_avx2_partial(int rows, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc) {
    switch (rows) {
    case 1: micro_avx2_rows(1, kc, a, b, ldb, c, ldc); return 1;
    case 2: micro_avx2_rows(2, kc, a, b, ldb, c, ldc); return 1;
    case 3: micro_avx2_rows(3, kc, a, b, ldb, c, ldc); return 1;
    case 4: micro_avx2_rows(4, kc, a, b, ldb, c, ldc); return 1;
    case 5: micro_avx2_rows(5, kc, a, b, ldb, c, ldc); return 1;
    default: return 0;
    }
}

// Ten independent accumulator chains hide the FMA latency (4 cycles × 2 ports).
__attribute__((target("avx512f,fma")))
static double peak_avx512(size_t iterations, float *sink) {
    __m512 acc[10];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 10; j++) acc[j] = _mm512_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++)
        for (int j = 0; j < 10; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    __m512 s = acc[0];
    for (int j = 1; j < 10; j++) s = _mm512_add_ps(s, acc[j]);
    *sink = _mm512_reduce_add_ps(s);
    return (double)iterations * 10 * 16 * 2;
}

__attribute__((target("avx2,fma")))
static double peak_avx2(size_t iterations, float *sink) {
    __m256 acc[10];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 10; j++) acc[j] = _mm256_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++)
        for (int j = 0; j < 10; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    __m256 s = acc[0];
    for (int j = 1; j < 10; j++) s = _mm256_add_ps(s, acc[j]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[7];
    return (double)iterations * 10 * 8 * 2;
}

static int detect_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}
#else
static int detect_level(void) { return 0; }
#endif

int ck_gemm_level(void) {
    static int level = -1;  // benign race: every thread computes the same value
    if (level < 0) level = detect_level();
    return level;
}

int ck_gemm_mr(int level) { return level == 2 ? 12 : (level == 1 ? 6 : 0); }
int ck_gemm_nr(int level) { return level == 2 ? 32 : (level == 1 ? 16 : 0); }

double ck_fma_peak_loop(int level, size_t iterations, float *sink) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return peak_avx512(iterations, sink);
    if (level == 1) return peak_avx2(iterations, sink);
#endif
    // Scalar fallback: a few independent chains.
    float a = 0, b = 1, c = 2, d = 3;
    for (size_t i = 0; i < iterations; i++) {
        a = a * 0.999999f + 1e-7f; b = b * 0.999999f + 1e-7f; c = c * 0.999999f + 1e-7f; d = d * 0.999999f + 1e-7f;
    }
    *sink = a + b + c + d;
    (void)level;
    return (double)iterations * 4 * 2;
}

void ck_gemm_micro(int level, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) { micro_avx512(kc, a, b, ldb, c, ldc); return; }
    if (level == 1) { micro_avx2(kc, a, b, ldb, c, ldc); return; }
#endif
    (void)level; (void)kc; (void)a; (void)b; (void)ldb; (void)c; (void)ldc;
}

int ck_gemm_micro_rows(int level, int rows, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 1) return micro_avx2_partial(rows, kc, a, b, ldb, c, ldc);
#endif
    (void)level; (void)rows; (void)kc; (void)a; (void)b; (void)ldb; (void)c; (void)ldc;
    return 0;
}
