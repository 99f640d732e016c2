#include "ConvKitMicroKernels.h"
#include <string.h>

// SiLU (x·σ(x) = x / (1 + e^−x), as PyTorch computes it) on vector lanes: e^v by Cephes' expf
// (v = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial, 2^n built in the exponent bits; relative
// error about 1e-7), +∞ above 88.7 so that −∞ gives NaN as in PyTorch, 0 below −87.3.

#define SILU_BODY() do { \
    for (size_t i = 0; i < n; i += W) { \
        const size_t count = n - i < W ? n - i : W; \
        VEC x = (VEC){0}; \
        if (count == W) memcpy(&x, src + i, sizeof x); else for (size_t l = 0; l < count; l++) x[l] = src[i + l]; \
        const VEC v = -x; \
        VEC c = v; \
        c = (VEC)(((IVEC)c & ~(IVEC)(c > 88.0f)) | ((IVEC)((VEC){0} + 88.0f) & (IVEC)(c > 88.0f))); \
        c = (VEC)(((IVEC)c & ~(IVEC)(c < -87.0f)) | ((IVEC)((VEC){0} - 87.0f) & (IVEC)(c < -87.0f))); \
        const VEC fn = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f; \
        const VEC r = (c - fn * 0.693359375f) - fn * -2.12194440e-4f; \
        VEC p = 1.9875691500e-4f * r + 1.3981999507e-3f; \
        p = p * r + 8.3334519073e-3f; p = p * r + 4.1665795894e-2f; p = p * r + 1.6666665459e-1f; \
        p = p * r + 5.0000001201e-1f; p = p * (r * r) + r + 1.0f; \
        const IVEC bits = (__builtin_convertvector(fn, IVEC) + 127) << 23; \
        VEC e = p * (VEC)bits; \
        const IVEC big = (IVEC)(v > 88.7f), tiny = (IVEC)(v < -87.3f); \
        e = (VEC)(((IVEC)e & ~big & ~tiny) | ((IVEC)((VEC){0} + __builtin_inff()) & big)); \
        const VEC s = 1.0f / (1.0f + e); \
        const VEC y = x * s; \
        if (count == W) memcpy(dst + i, &y, sizeof y); else for (size_t l = 0; l < count; l++) dst[i + l] = y[l]; \
        if (derivative) { \
            const VEC d = s * (1.0f + x * (1.0f - s)); \
            if (count == W) memcpy(derivative + i, &d, sizeof d); else for (size_t l = 0; l < count; l++) derivative[i + l] = d[l]; \
        } \
    } \
} while (0)

#define DEFINE_SILU(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void silu_##SUFFIX(const float *src, float *dst, float *derivative, size_t n) { SILU_BODY(); } \
    ATTRIBUTE static void clamp_##SUFFIX(const float *src, float *y, const float *residual, size_t n, int bounded, float lower, \
                                         float upper) { CLAMP_BODY(); } \
    ATTRIBUTE static void mask_##SUFFIX(const float *y, const float *dy, float *dx, size_t n, float lower, int bounded, \
                                        float upper) { MASK_BODY(); }

// A convolution's epilogue, or ReLU / clamp as a pass: y = src (+ residual) and, when `bounded`,
// y < lower → lower, y > upper → upper (NaN fails both tests and passes through; −0 stays −0 as in
// PyTorch's relu), the comparisons as selects on the lanes. src may be y.
#define CLAMP_BODY() do { \
    for (size_t i = 0; i < n; i += W) { \
        const size_t count = n - i < W ? n - i : W; \
        VEC v = (VEC){0}, r = (VEC){0}; \
        if (count == W) memcpy(&v, src + i, sizeof v); else for (size_t l = 0; l < count; l++) v[l] = src[i + l]; \
        if (residual) { \
            if (count == W) memcpy(&r, residual + i, sizeof r); else for (size_t l = 0; l < count; l++) r[l] = residual[i + l]; \
            v = v + r; \
        } \
        if (bounded) { \
            const VEC lo = (VEC){0} + lower, hi = (VEC){0} + upper; \
            const IVEC below = (IVEC)(v < lo); \
            v = (VEC)(((IVEC)v & ~below) | ((IVEC)lo & below)); \
            const IVEC above = (IVEC)(v > hi); \
            v = (VEC)(((IVEC)v & ~above) | ((IVEC)hi & above)); \
        } \
        if (count == W) memcpy(y + i, &v, sizeof v); else for (size_t l = 0; l < count; l++) y[i + l] = v[l]; \
    } \
} while (0)

// The gradient of a clamp from its output: dx = dy where y > lower (and y < upper when `bounded`),
// else 0; dy loaded unconditionally so that the mask is a select.
#define MASK_BODY() do { \
    for (size_t i = 0; i < n; i += W) { \
        const size_t count = n - i < W ? n - i : W; \
        VEC v = (VEC){0}, g = (VEC){0}; \
        if (count == W) { memcpy(&v, y + i, sizeof v); memcpy(&g, dy + i, sizeof g); } \
        else for (size_t l = 0; l < count; l++) { v[l] = y[i + l]; g[l] = dy[i + l]; } \
        IVEC keep = (IVEC)(v > ((VEC){0} + lower)); \
        if (bounded) keep &= (IVEC)(v < ((VEC){0} + upper)); \
        const VEC d = (VEC)((IVEC)g & keep); \
        if (count == W) memcpy(dx + i, &d, sizeof d); else for (size_t l = 0; l < count; l++) dx[i + l] = d[l]; \
    } \
} while (0)

typedef float a16 __attribute__((vector_size(64)));
typedef int32_t ai16 __attribute__((vector_size(64)));
typedef float a8 __attribute__((vector_size(32)));
typedef int32_t ai8 __attribute__((vector_size(32)));
typedef float a4 __attribute__((vector_size(16)));
typedef int32_t ai4 __attribute__((vector_size(16)));

#if defined(__x86_64__) || defined(__i386__)
#define W 16
#define VEC a16
#define IVEC ai16
DEFINE_SILU(16, __attribute__((target("avx512f"))))
#undef W
#undef VEC
#undef IVEC
#define W 8
#define VEC a8
#define IVEC ai8
DEFINE_SILU(8, __attribute__((target("avx2,fma"))))
#undef W
#undef VEC
#undef IVEC
#endif
#define W 4
#define VEC a4
#define IVEC ai4
DEFINE_SILU(4, )
#undef W
#undef VEC
#undef IVEC

void ck_silu(int level, const float *x, float *y, float *derivative, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return silu_16(x, y, derivative, n);
    if (level == 1) return silu_8(x, y, derivative, n);
#endif
    silu_4(x, y, derivative, n);
}

void ck_clamp(int level, float *y, const float *residual, size_t n, int bounded, float lower, float upper) {
    ck_clamp_copy(level, y, y, residual, n, bounded, lower, upper);
}

void ck_clamp_copy(int level, const float *x, float *y, const float *residual, size_t n, int bounded, float lower, float upper) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return clamp_16(x, y, residual, n, bounded, lower, upper);
    if (level == 1) return clamp_8(x, y, residual, n, bounded, lower, upper);
#endif
    clamp_4(x, y, residual, n, bounded, lower, upper);
}

void ck_clamp_gradient(int level, const float *y, const float *dy, float *dx, size_t n, float lower, int bounded, float upper) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return mask_16(y, dy, dx, n, lower, bounded, upper);
    if (level == 1) return mask_8(y, dy, dx, n, lower, bounded, upper);
#endif
    mask_4(y, dy, dx, n, lower, bounded, upper);
}
