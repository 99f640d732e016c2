#include "ConvKitMicroKernels.h"
#include <math.h>

// Max pooling of one 2-D plane. Taps outside the plane (padding, ceil-mode overhang) are
// skipped; a window's maximum is its first largest value in row-major tap order, and its first
// NaN wins and stays (padding acts as −∞, a window with no tap inside gives −∞ at index 0). Each
// output row takes the window rows that lie inside the plane; the columns whose windows lie
// wholly inside it read their taps through one offset list (up to 64 taps; larger windows, and
// the edge columns, take the checked loop). Not on vector lanes: strided loads are gathers, which
// measured slower on Zen 4 than this scalar loop (2 × 2 stride 2: 4–6 ns per output with
// indices, against 8 ns for lanes through a buffer and 32 ns for a taps-outer loop).

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

void ck_max_pool_plane(int level, const float *x, long height, long width, float *y, long *indices,
                       long out_height, long out_width, long kernel_h, long kernel_w, long stride_h, long stride_w,
                       long pad_h, long pad_w, long dilation_h, long dilation_w) {
#if defined(__x86_64__) || defined(__i386__)
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
