#include "ConvKitMicroKernels.h"
#include <string.h>

// The sum of a row of floats on vector lanes: four independent accumulators of W lanes, so the
// adds' latency hides behind the loads and the pass runs at the speed of the cache the row is
// in (a convolution's bias gradient reads its whole output gradient this way). The lanes are
// added in a fixed order, so a row's sum is the same in every run at a level.

#define SUM_BODY(SUFFIX, ATTRIBUTE, W) \
    ATTRIBUTE static float sum_##SUFFIX(const float *x, size_t n) { \
        typedef float VEC __attribute__((vector_size(4 * W))); \
        VEC a = {0}, b = {0}, c = {0}, d = {0}; \
        size_t i = 0; \
        for (; i + 4 * W <= n; i += 4 * W) { \
            VEC v0, v1, v2, v3; \
            memcpy(&v0, x + i, sizeof v0); memcpy(&v1, x + i + W, sizeof v1); \
            memcpy(&v2, x + i + 2 * W, sizeof v2); memcpy(&v3, x + i + 3 * W, sizeof v3); \
            a += v0; b += v1; c += v2; d += v3; \
        } \
        for (; i + W <= n; i += W) { VEC v; memcpy(&v, x + i, sizeof v); a += v; } \
        const VEC s = (a + b) + (c + d); \
        float t = 0; \
        for (int l = 0; l < W; l++) t += s[l]; \
        for (; i < n; i++) t += x[i]; \
        return t; \
    }

#if defined(__x86_64__) || defined(__i386__)
SUM_BODY(16, __attribute__((target("avx512f"))), 16)
SUM_BODY(8, __attribute__((target("avx2"))), 8)
#endif
SUM_BODY(4, , 4)

float ck_sum(int level, const float *x, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return sum_16(x, n);
    if (level == 1) return sum_8(x, n);
#endif
    (void)level;
    return sum_4(x, n);
}
