#include "ConvKitMicroKernels.h"
#include <string.h>

// Batch norm's passes over one row (the `inner` values of one channel of one item) on vector
// lanes of W floats, the tail one by one. The sums are kept per lane in double (each float
// widened before it is added, as the scalar loops did), so their rounding does not grow with
// the row; the lanes are added at the end.
//
// With `relu` (batch norm followed by ReLU, fused), the forward pass stores max(y, 0) (NaN kept,
// as ReLU keeps it) and the backward passes take dy only where y = γ·x̂ + β > 0, y recomputed
// from x as the forward pass computed it: ReLU's mask without its output or a pass of its own.

#define NORM_BODIES(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void moments_##SUFFIX(const float *x, size_t n, double *sums) { \
        DVEC s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0}; \
        size_t i = 0; \
        for (; i + W <= n; i += W) { \
            VEC v; memcpy(&v, x + i, sizeof v); \
            const DVEC a = __builtin_convertvector(LOW(v), DVEC), b = __builtin_convertvector(HIGH(v), DVEC); \
            s0 += a; s1 += b; q0 += a * a; q1 += b * b; \
        } \
        double s = 0, q = 0; \
        for (int l = 0; l < W / 2; l++) { s += s0[l] + s1[l]; q += q0[l] + q1[l]; } \
        for (; i < n; i++) { const double v = x[i]; s += v; q += v * v; } \
        sums[0] += s; sums[1] += q; \
    } \
    ATTRIBUTE static void gradient_sums_##SUFFIX(const float *x, const float *dy, size_t n, float mu, float inv, double *sums, \
                                                 const float *relu) { \
        DVEC s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0}; \
        const VEC vmu = (VEC){0} + mu, vinv = (VEC){0} + inv; \
        const VEC vg = (VEC){0} + (relu ? relu[0] : 0), vb = (VEC){0} + (relu ? relu[1] : 0); \
        size_t i = 0; \
        for (; i + W <= n; i += W) { \
            VEC xv, g; memcpy(&xv, x + i, sizeof xv); memcpy(&g, dy + i, sizeof g); \
            const VEC xh = (xv - vmu) * vinv; \
            if (relu) g = (VEC)((IVEC)g & (vg * xh + vb > 0)); \
            const VEC p = g * xh; \
            s0 += __builtin_convertvector(LOW(g), DVEC); s1 += __builtin_convertvector(HIGH(g), DVEC); \
            q0 += __builtin_convertvector(LOW(p), DVEC); q1 += __builtin_convertvector(HIGH(p), DVEC); \
        } \
        double s = 0, q = 0; \
        for (int l = 0; l < W / 2; l++) { s += s0[l] + s1[l]; q += q0[l] + q1[l]; } \
        for (; i < n; i++) { \
            const float xh = (x[i] - mu) * inv, g = relu && !(relu[0] * xh + relu[1] > 0) ? 0 : dy[i]; \
            s += g; q += g * xh; \
        } \
        sums[0] += s; sums[1] += q; \
    } \
    ATTRIBUTE static void forward_##SUFFIX(const float *x, float *y, size_t n, float mu, float inv, float gamma, float beta, \
                                           const float *residual, int relu) { \
        const VEC vmu = (VEC){0} + mu, vinv = (VEC){0} + inv, vg = (VEC){0} + gamma, vb = (VEC){0} + beta; \
        size_t i = 0; \
        for (; i + W <= n; i += W) { \
            VEC xv; memcpy(&xv, x + i, sizeof xv); \
            VEC r = vg * ((xv - vmu) * vinv) + vb; \
            if (residual) { VEC s; memcpy(&s, residual + i, sizeof s); r += s; } \
            if (relu) r = (VEC)((IVEC)r & ((r > 0) | (r != r))); \
            memcpy(y + i, &r, sizeof r); \
        } \
        for (; i < n; i++) { \
            const float r = gamma * ((x[i] - mu) * inv) + beta + (residual ? residual[i] : 0); \
            y[i] = relu && !(r > 0 || r != r) ? 0 : r; \
        } \
    } \
    ATTRIBUTE static void input_gradient_##SUFFIX(const float *x, const float *dy, float *dx, size_t n, float mu, float inv, \
                                                  float scale, float mean_dy, float mean_dy_xhat, int training, const float *relu) { \
        const VEC vmu = (VEC){0} + mu, vinv = (VEC){0} + inv, vs = (VEC){0} + scale; \
        const VEC c1 = (VEC){0} + mean_dy, c2 = (VEC){0} + mean_dy_xhat; \
        const VEC vg = (VEC){0} + (relu ? relu[0] : 0), vb = (VEC){0} + (relu ? relu[1] : 0); \
        size_t i = 0; \
        for (; i + W <= n; i += W) { \
            VEC g, r, xh = {0}; memcpy(&g, dy + i, sizeof g); \
            if (training || relu) { VEC xv; memcpy(&xv, x + i, sizeof xv); xh = (xv - vmu) * vinv; } \
            if (relu) g = (VEC)((IVEC)g & (vg * xh + vb > 0)); \
            r = training ? vs * (g - c1 - xh * c2) : vs * g; \
            memcpy(dx + i, &r, sizeof r); \
        } \
        for (; i < n; i++) { \
            const float xh = training || relu ? (x[i] - mu) * inv : 0; \
            const float g = relu && !(relu[0] * xh + relu[1] > 0) ? 0 : dy[i]; \
            dx[i] = training ? scale * (g - mean_dy - xh * mean_dy_xhat) : scale * g; \
        } \
    }

typedef float f16 __attribute__((vector_size(64)));
typedef float f8 __attribute__((vector_size(32)));
typedef float f4 __attribute__((vector_size(16)));
typedef double d8 __attribute__((vector_size(64)));
typedef double d4 __attribute__((vector_size(32)));
typedef double d2 __attribute__((vector_size(16)));
typedef int32_t i16 __attribute__((vector_size(64)));
typedef int32_t i8 __attribute__((vector_size(32)));
typedef int32_t i4 __attribute__((vector_size(16)));

#if defined(__x86_64__) || defined(__i386__)
#define W 16
#define VEC f16
#define IVEC i16
#define DVEC d8
#define LOW(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define HIGH(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)
NORM_BODIES(16, __attribute__((target("avx512f"))))
#undef W
#undef VEC
#undef IVEC
#undef DVEC
#undef LOW
#undef HIGH
#define W 8
#define VEC f8
#define IVEC i8
#define DVEC d4
#define LOW(v) __builtin_shufflevector(v, v, 0, 1, 2, 3)
#define HIGH(v) __builtin_shufflevector(v, v, 4, 5, 6, 7)
NORM_BODIES(8, __attribute__((target("avx2,fma"))))
#undef W
#undef VEC
#undef IVEC
#undef DVEC
#undef LOW
#undef HIGH
#endif
#define W 4
#define VEC f4
#define IVEC i4
#define DVEC d2
#define LOW(v) __builtin_shufflevector(v, v, 0, 1)
#define HIGH(v) __builtin_shufflevector(v, v, 2, 3)
NORM_BODIES(4, )
#undef W
#undef VEC
#undef IVEC
#undef DVEC
#undef LOW
#undef HIGH

#if defined(__x86_64__) || defined(__i386__)
#define DISPATCH(NAME, ...) do { \
    if (level == 2) { NAME##_16(__VA_ARGS__); return; } \
    if (level == 1) { NAME##_8(__VA_ARGS__); return; } \
    NAME##_4(__VA_ARGS__); \
} while (0)
#else
#define DISPATCH(NAME, ...) do { (void)level; NAME##_4(__VA_ARGS__); } while (0)
#endif

void ck_bn_row_moments(int level, const float *x, size_t n, double *sums) { DISPATCH(moments, x, n, sums); }

void ck_bn_row_gradient_sums(int level, const float *x, const float *dy, size_t n, float mean, float inv_std, double *sums,
                             const float *relu) {
    DISPATCH(gradient_sums, x, dy, n, mean, inv_std, sums, relu);
}

void ck_bn_row_forward(int level, const float *x, float *y, size_t n, float mean, float inv_std, float gamma, float beta,
                       const float *residual, int relu) {
    DISPATCH(forward, x, y, n, mean, inv_std, gamma, beta, residual, relu);
}

void ck_bn_row_input_gradient(int level, const float *x, const float *dy, float *dx, size_t n, float mean, float inv_std,
                              float scale, float mean_dy, float mean_dy_xhat, int training, const float *relu) {
    DISPATCH(input_gradient, x, dy, dx, n, mean, inv_std, scale, mean_dy, mean_dy_xhat, training, relu);
}
