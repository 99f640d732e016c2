#include "ConvKitMicroKernels.h"

// Depthwise convolution rows per instruction set, and their dispatch. The loops over channels,
// batch items and output rows, and the edges where a tap falls outside the input, are Swift
// (_ConvKitKernels/Depthwise.swift). Loads stay inside [src[t], src[t] + (count−1)·step]: vector
// blocks at step 2 run while a whole block of 2·width inputs ends before the last one used.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static void accumulate_avx512(size_t taps, const float *const *src, const float *w, size_t step, float *out, size_t count) {
    size_t i = 0;
    if (step == 1) {
        for (; i < count; i += 16) {
            const __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
            __m512 acc = _mm512_maskz_loadu_ps(m, out + i);
            for (size_t t = 0; t < taps; t++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), _mm512_maskz_loadu_ps(m, src[t] + i), acc);
            _mm512_mask_storeu_ps(out + i, m, acc);
        }
        return;
    }
    if (step == 2) {
        const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        for (; i + 16 < count; i += 16) {
            __m512 acc = _mm512_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++) {
                const float *p = src[t] + 2 * i;
                const __m512 x = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), x, acc);
            }
            _mm512_storeu_ps(out + i, acc);
        }
    }
    for (; i < count; i++) {
        float s = out[i];
        for (size_t t = 0; t < taps; t++) s += w[t] * src[t][i * step];
        out[i] = s;
    }
}

__attribute__((target("avx2,fma")))
static void accumulate_avx2(size_t taps, const float *const *src, const float *w, size_t step, float *out, size_t count) {
    size_t i = 0;
    if (step == 1) {
        for (; i + 8 <= count; i += 8) {
            __m256 acc = _mm256_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++)
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), _mm256_loadu_ps(src[t] + i), acc);
            _mm256_storeu_ps(out + i, acc);
        }
    } else if (step == 2) {
        for (; i + 8 < count; i += 8) {
            __m256 acc = _mm256_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++) {
                const float *p = src[t] + 2 * i;
                // [a0 a2 b0 b2 | a4 a6 b4 b6] → [a0 a2 a4 a6 b0 b2 b4 b6]
                const __m256 mixed = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                const __m256 x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), x, acc);
            }
            _mm256_storeu_ps(out + i, acc);
        }
    }
    for (; i < count; i++) {
        float s = out[i];
        for (size_t t = 0; t < taps; t++) s += w[t] * src[t][i * step];
        out[i] = s;
    }
}

__attribute__((target("avx512f")))
static void dots_avx512(size_t taps, const float *const *src, const float *a, size_t step, size_t count, float *dots) {
    for (size_t t = 0; t < taps; t++) {
        __m512 acc = _mm512_setzero_ps();
        size_t i = 0;
        if (step == 1) {
            for (; i < count; i += 16) {
                const __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, src[t] + i), acc);
            }
        } else if (step == 2) {
            const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
            for (; i + 16 < count; i += 16) {
                const float *p = src[t] + 2 * i;
                const __m512 x = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), x, acc);
            }
        }
        float s = _mm512_reduce_add_ps(acc);
        for (; i < count; i++) s += a[i] * src[t][i * step];
        dots[t] += s;
    }
}

__attribute__((target("avx2,fma")))
static void dots_avx2(size_t taps, const float *const *src, const float *a, size_t step, size_t count, float *dots) {
    for (size_t t = 0; t < taps; t++) {
        __m256 acc = _mm256_setzero_ps();
        size_t i = 0;
        if (step == 1) {
            for (; i + 8 <= count; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(src[t] + i), acc);
        } else if (step == 2) {
            for (; i + 8 < count; i += 8) {
                const float *p = src[t] + 2 * i;
                const __m256 mixed = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                const __m256 x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), x, acc);
            }
        }
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
        float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
        for (; i < count; i++) s += a[i] * src[t][i * step];
        dots[t] += s;
    }
}
#endif

typedef void (*accumulate_fn)(size_t, const float *const *, const float *, size_t, float *, size_t);
typedef void (*dots_fn)(size_t, const float *const *, const float *, size_t, size_t, float *);

enum { MAX_TAPS = 64 };

// Whether every output row's taps (its kernel rows × kw_count) fit the scratch arrays.
__attribute__((unused)) static int taps_fit(size_t out_rows, const int32_t *start, size_t kw_count) {
    for (size_t r = 0; r < out_rows; r++) {
        if ((size_t)(start[r + 1] - start[r]) * kw_count > MAX_TAPS) return 0;
    }
    return 1;
}

int ck_dw_forward_plane(int level, const float *x, const float *w, float *y, size_t out_rows, const int32_t *start,
                        const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                        const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step) {
#if defined(__x86_64__) || defined(__i386__)
    if (level != 1 && level != 2) return 0;
    const accumulate_fn accumulate = level == 2 ? accumulate_avx512 : accumulate_avx2;
    const float *src[MAX_TAPS];
    float weights[MAX_TAPS];
    if (!taps_fit(out_rows, start, kw_count)) return 0;
    for (size_t r = 0; r < out_rows; r++) {
        float *dst = y + out[r];
        size_t taps = 0;
        for (int32_t j = start[r]; j < start[r + 1]; j++) {
            const float *row = x + in[j];
            for (size_t kw = 0; kw < kw_count; kw++) {
                const float v = w[tap[j] + kw];
                const int32_t *cols = columns + kw * ow_count;
                for (size_t ow = 0; ow < lo; ow++) if (cols[ow] >= 0) dst[ow] += v * row[cols[ow]];
                for (size_t ow = hi; ow < ow_count; ow++) if (cols[ow] >= 0) dst[ow] += v * row[cols[ow]];
                if (lo < hi) { src[taps] = row + lo * step + offset[kw]; weights[taps] = v; taps++; }
            }
        }
        if (lo < hi) accumulate(taps, src, weights, step, dst + lo, hi - lo);
    }
    return 1;
#else
    (void)level; (void)x; (void)w; (void)y; (void)out_rows; (void)start; (void)out; (void)in; (void)tap; (void)kw_count;
    (void)ow_count; (void)columns; (void)offset; (void)lo; (void)hi; (void)step;
    return 0;
#endif
}

int ck_dw_weight_plane(int level, const float *x, const float *dy, float *dw, size_t out_rows, const int32_t *start,
                       const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                       const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step) {
#if defined(__x86_64__) || defined(__i386__)
    if (level != 1 && level != 2) return 0;
    const dots_fn dots = level == 2 ? dots_avx512 : dots_avx2;
    const float *src[MAX_TAPS];
    float sums[MAX_TAPS];
    if (!taps_fit(out_rows, start, kw_count)) return 0;
    for (size_t r = 0; r < out_rows; r++) {
        const float *d = dy + out[r];
        size_t taps = 0;
        for (int32_t j = start[r]; j < start[r + 1]; j++) {
            const float *row = x + in[j];
            for (size_t kw = 0; kw < kw_count; kw++) {
                const int32_t *cols = columns + kw * ow_count;
                float s = 0;
                for (size_t ow = 0; ow < lo; ow++) if (cols[ow] >= 0) s += d[ow] * row[cols[ow]];
                for (size_t ow = hi; ow < ow_count; ow++) if (cols[ow] >= 0) s += d[ow] * row[cols[ow]];
                dw[tap[j] + kw] += s;
                if (lo < hi) { src[taps] = row + lo * step + offset[kw]; sums[taps] = 0; taps++; }
            }
        }
        if (lo < hi) {
            dots(taps, src, d + lo, step, hi - lo, sums);
            size_t t = 0;
            for (int32_t j = start[r]; j < start[r + 1]; j++)
                for (size_t kw = 0; kw < kw_count; kw++) dw[tap[j] + kw] += sums[t++];
        }
    }
    return 1;
#else
    (void)level; (void)x; (void)dy; (void)dw; (void)out_rows; (void)start; (void)out; (void)in; (void)tap; (void)kw_count;
    (void)ow_count; (void)columns; (void)offset; (void)lo; (void)hi; (void)step;
    return 0;
#endif
}
