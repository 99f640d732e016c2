#include "ConvKitMicroKernels.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Max pooling of one 2-D plane. Taps outside the plane (padding, ceil-mode overhang) are
// skipped; a window's maximum is its first largest value in row-major tap order, and its first
// NaN wins and stays (padding acts as −∞, a window with no tap inside gives −∞ at index 0). Each
// output row takes the window rows that lie inside the plane; the columns whose windows lie
// wholly inside it read their taps through one offset list (up to 64 taps; larger windows, and
// the edge columns, take the checked loop). Not on vector lanes: strided loads are gathers, which
// measured slower on Zen 4 than this scalar loop (2 × 2 stride 2: 4–6 ns per output with
// indices, against 8 ns for lanes through a buffer and 32 ns for a taps-outer loop). 2 × 2
// windows of stride 2 without padding split even and odd columns by permutes instead (below).

// The columns whose windows lie inside the plane, `TAPS` taps at `offsets` (a constant for the
// usual 2 × 2 and 3 × 3 windows, so the tap loop unrolls). Branch-free selects; a NaN anywhere in
// the window (the sum is NaN) takes the rare ordered loop.
#define MAX_POOL_INTERIOR(TAPS) do { \
            _Pragma("clang loop vectorize(disable)") \
            for (long ow = lo; ow < hi; ow++) { \
                const float *src = x + ow * sw; \
                float best = src[offsets[0]], sum = best; long at = offsets[0]; \
                for (long t = 1; t < TAPS; t++) { \
                    const float v = src[offsets[t]]; \
                    sum += v; \
                    at = v > best ? offsets[t] : at; \
                    best = v > best ? v : best; \
                } \
                if (sum != sum) { \
                    /* Rare: a NaN wins and keeps its place (the sum is also NaN for +inf and -inf). */ \
                    best = src[offsets[0]]; at = offsets[0]; \
                    for (long t = 1; t < TAPS && best == best; t++) { \
                        const float v = src[offsets[t]]; \
                        if (v > best || v != v) { best = v; at = offsets[t]; } \
                    } \
                } \
                yr[ow] = best; \
                if (ir) ir[ow] = at + ow * sw; \
            } \
} while (0)

#define MAX_POOL_BODY() do { \
    const long last = (kw - 1) * dw; \
    long lo = (pw + sw - 1) / sw; if (lo > ow_count) lo = ow_count; \
    long hi = w - 1 - last + pw < 0 ? 0 : (w - 1 - last + pw) / sw + 1; \
    if (hi > ow_count) hi = ow_count; if (hi < lo) hi = lo; \
    for (long oh = 0; oh < oh_count; oh++) { \
        const long top = oh * sh - ph; \
        long kh0 = 0, kh1 = kh; \
        while (kh0 < kh && top + kh0 * dh < 0) kh0++; \
        while (kh1 > kh0 && top + (kh1 - 1) * dh >= h) kh1--; \
        float *yr = y + oh * ow_count; \
        long *ir = idx ? idx + oh * ow_count : 0; \
        long offsets[64], taps = 0; \
        const int interior = hi > lo && kh1 > kh0 && (kh1 - kh0) * kw <= 64; \
        if (interior) { \
            for (long a = kh0; a < kh1; a++) \
                for (long b = 0; b < kw; b++) offsets[taps++] = (top + a * dh) * w - pw + b * dw; \
            if (taps == 4) MAX_POOL_INTERIOR(4); \
            else if (taps == 9) MAX_POOL_INTERIOR(9); \
            else MAX_POOL_INTERIOR(taps); \
        } \
        for (long ow = 0; ow < ow_count; ow++) { \
            if (interior && ow == lo) { ow = hi - 1; continue; } \
            const long left = ow * sw - pw; \
            float best = -INFINITY; long at = -1; \
            for (long a = kh0; a < kh1 && !(at >= 0 && best != best); a++) { \
                const long row = (top + a * dh) * w; \
                for (long b = 0; b < kw; b++) { \
                    const long col = left + b * dw; \
                    if (col < 0 || col >= w) continue; \
                    const float v = x[row + col]; \
                    if (at < 0 || v > best || v != v) { best = v; at = row + col; if (v != v) break; } \
                } \
            } \
            yr[ow] = best; \
            if (ir) ir[ow] = at < 0 ? 0 : at; \
        } \
    } \
} while (0)

#define DEFINE_MAX_POOL(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void max_pool_##SUFFIX(const float *restrict x, long h, long w, float *restrict y, long *restrict idx, \
        long oh_count, long ow_count, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw) { MAX_POOL_BODY(); }

#if defined(__x86_64__) || defined(__i386__)
DEFINE_MAX_POOL(avx512, __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))))
DEFINE_MAX_POOL(avx2, __attribute__((target("avx2,fma"))))
#endif
DEFINE_MAX_POOL(portable, )

#if defined(__x86_64__) || defined(__i386__)
// 2 × 2 windows, stride 2, no padding (VGG's, LeNet's and the course CNN's pooling) on vector
// lanes: per output row, 16 outputs from two loads of 32 floats in each of the two input rows,
// their even and odd columns split by permutes (no gathers), and the first largest of the four
// taps chosen in tap order by ordered compares, as the scalar loop does. A chunk with a NaN
// takes the scalar loop (`MAX_POOL_INTERIOR`'s rule: the first NaN wins).
__attribute__((target("avx512f")))
static void max_pool_2x2_avx512(const float *restrict x, long w, float *restrict y, long *restrict idx,
                                long oh_count, long ow_count, long origin) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i lanes2 = _mm512_slli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 1);
    for (long oh = 0; oh < oh_count; oh++) {
        const float *r0 = x + 2 * oh * w, *r1 = r0 + w;
        float *yr = y + oh * ow_count;
        long *ir = idx ? idx + oh * ow_count : 0;
        for (long ow = 0; ow < ow_count; ow += 16) {
            const long n = ow_count - ow < 16 ? ow_count - ow : 16;
            const __mmask16 out = (__mmask16)((1u << n) - 1);
            const __mmask16 lo = (__mmask16)(n >= 8 ? 0xFFFF : (1u << (2 * n)) - 1);
            const __mmask16 hi = (__mmask16)(n > 8 ? (n == 16 ? 0xFFFF : (1u << (2 * (n - 8))) - 1) : 0);
            const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow), b0 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
            const __m512 a1 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
            const __m512 t0 = _mm512_permutex2var_ps(a0, even, b0), t1 = _mm512_permutex2var_ps(a0, odd, b0);
            const __m512 t2 = _mm512_permutex2var_ps(a1, even, b1), t3 = _mm512_permutex2var_ps(a1, odd, b1);
            const __mmask16 nan = _mm512_mask_cmp_ps_mask(out, t0, t1, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(out, t2, t3, _CMP_UNORD_Q);
            if (nan) {
                for (long o = ow; o < ow + n; o++) {
                    const long offsets[4] = {2 * o, 2 * o + 1, w + 2 * o, w + 2 * o + 1};
                    const float *row = r0;
                    float best = row[offsets[0]]; long at = offsets[0];
                    for (int t = 1; t < 4 && best == best; t++) {
                        const float v = row[offsets[t]];
                        if (v > best || v != v) { best = v; at = offsets[t]; }
                    }
                    yr[o] = best;
                    if (ir) ir[o] = origin + at + 2 * oh * w;
                }
                continue;
            }
            __m512 best = t0;
            __m512i at = _mm512_setzero_si512();
            __mmask16 m = _mm512_cmp_ps_mask(t1, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m, t1); at = _mm512_mask_mov_epi32(at, m, _mm512_set1_epi32(1));
            m = _mm512_cmp_ps_mask(t2, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m, t2); at = _mm512_mask_mov_epi32(at, m, _mm512_set1_epi32((int)w));
            m = _mm512_cmp_ps_mask(t3, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m, t3); at = _mm512_mask_mov_epi32(at, m, _mm512_set1_epi32((int)w + 1));
            _mm512_mask_storeu_ps(yr + ow, out, best);
            if (ir) {
                // Flat positions in the plane: origin + 2·oh·w + 2·(ow + lane) + tap offset (< 2³¹, checked by the caller).
                const __m512i pos = _mm512_add_epi32(_mm512_add_epi32(lanes2, _mm512_set1_epi32((int)(origin + 2 * oh * w + 2 * ow))), at);
                _mm512_mask_storeu_epi64(ir + ow, (__mmask8)out, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(pos)));
                _mm512_mask_storeu_epi64(ir + ow + 8, (__mmask8)(out >> 8), _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(pos, 1)));
            }
        }
    }
}
#endif

void ck_max_pool_plane(int level, const float *x, long height, long width, float *y, long *indices,
                       long out_height, long out_width, long kernel_h, long kernel_w, long stride_h, long stride_w,
                       long pad_h, long pad_w, long dilation_h, long dilation_w) {
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 2 && kernel_h == 2 && kernel_w == 2 && stride_h == 2 && stride_w == 2 && pad_h == 0 && pad_w == 0 &&
        dilation_h == 1 && dilation_w == 1 && 2 * out_height <= height && 2 * out_width <= width && height * width < (1L << 31)) {
        max_pool_2x2_avx512(x, width, y, indices, out_height, out_width, 0);
        return;
    }
    if (level >= 2) {
        max_pool_avx512(x, height, width, y, indices, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w,
                        pad_h, pad_w, dilation_h, dilation_w);
        return;
    }
    if (level == 1) {
        max_pool_avx2(x, height, width, y, indices, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w,
                      pad_h, pad_w, dilation_h, dilation_w);
        return;
    }
#endif
    max_pool_portable(x, height, width, y, indices, out_height, out_width, kernel_h, kernel_w, stride_h, stride_w,
                      pad_h, pad_w, dilation_h, dilation_w);
}

void ck_max_pool_line_pairs(int level, const float *x, long pairs, long width, long first_pair, float *y, long *indices) {
    const long origin = 2 * first_pair * width;
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 2 && width >= 2 && (2 * first_pair + 2 * pairs) * width < (1L << 31)) {
        max_pool_2x2_avx512(x, width, y, indices, pairs, width / 2, origin);
        return;
    }
#endif
    ck_max_pool_plane(level, x, 2 * pairs, width, y, indices, pairs, width / 2, 2, 2, 2, 2, 0, 0, 1, 1);
    if (indices && origin)
        for (long i = 0; i < pairs * (width / 2); i++) indices[i] += origin;
}
