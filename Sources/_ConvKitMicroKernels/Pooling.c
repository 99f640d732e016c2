#include "ConvKitMicroKernels.h"
#include <math.h>

// Max pooling of one 2-D plane. Taps outside the plane (padding, ceil-mode overhang) are
// skipped; a window's maximum is its first largest value in row-major tap order, and its first
// NaN wins and stays. Each output row takes the window rows that lie inside the plane; the
// columns whose windows lie wholly inside it run tap by tap across the row (taps outer,
// columns inner, branch-free selects the compiler puts on vector lanes); the edge columns take
// their own tap range.

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
        for (long ow = 0; ow < ow_count; ow++) { \
            if (ow == lo && hi > lo) { ow = hi - 1; continue; } \
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
        if (hi == lo) continue; \
        if (kh1 == kh0) { \
            for (long ow = lo; ow < hi; ow++) { yr[ow] = -INFINITY; if (ir) ir[ow] = 0; } \
            continue; \
        } \
        const long first = (top + kh0 * dh) * w - pw; \
        for (long ow = lo; ow < hi; ow++) yr[ow] = x[first + ow * sw]; \
        if (ir) for (long ow = lo; ow < hi; ow++) ir[ow] = first + ow * sw; \
        for (long a = kh0; a < kh1; a++) { \
            for (long b = (a == kh0 ? 1 : 0); b < kw; b++) { \
                const long base = (top + a * dh) * w - pw + b * dw; \
                const float *src = x + base; \
                if (ir) { \
                    for (long ow = lo; ow < hi; ow++) { \
                        const float v = src[ow * sw], m = yr[ow]; \
                        const int take = (v > m) | ((v != v) & (m == m)); \
                        yr[ow] = take ? v : m; \
                        ir[ow] = take ? base + ow * sw : ir[ow]; \
                    } \
                } else { \
                    for (long ow = lo; ow < hi; ow++) { \
                        const float v = src[ow * sw], m = yr[ow]; \
                        const int take = (v > m) | ((v != v) & (m == m)); \
                        yr[ow] = take ? v : m; \
                    } \
                } \
            } \
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
