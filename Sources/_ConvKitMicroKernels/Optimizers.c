#include "ConvKitMicroKernels.h"
#include <string.h>

// Optimizer updates over one parameter tensor's values on vector lanes, each element computed
// with the operations, in the order and with the roundings, of the scalar definitions they
// replace (ConvKit's Optimizer.swift): no contraction into fused multiply-adds, IEEE division
// and square root per lane, so a step gives the same bits at every level and on every core split.
#pragma clang fp contract(off)

typedef float o16 __attribute__((vector_size(64)));
typedef float o8 __attribute__((vector_size(32)));
typedef float o4 __attribute__((vector_size(16)));

// W values from `p` (fewer at the end, the rest 0) and back.
#define OPT_LOAD(v, p) do { if (count == W) memcpy(&(v), (p) + i, sizeof(v)); else { (v) = (VEC){0}; for (size_t l = 0; l < count; l++) (v)[l] = (p)[i + l]; } } while (0)
#define OPT_STORE(p, v) do { if (count == W) memcpy((p) + i, &(v), sizeof(v)); else for (size_t l = 0; l < count; l++) (p)[i + l] = (v)[l]; } while (0)

// Adam / AdamW: g ← ∇ (+ λ·w, Adam with decay) or w ← w·(1 − lr·λ) first (AdamW);
// m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g·g;  w ← w − step·m / (√v / c₂ + ε).
#define ADAM_BODY() do { \
    const float keep = 1 - lr * decay, one1 = 1 - beta1, one2 = 1 - beta2; \
    for (size_t i = 0; i < n; i += W) { \
        const size_t count = n - i < W ? n - i : W; \
        VEC gv, wv, mv, vv; \
        OPT_LOAD(gv, g); OPT_LOAD(wv, w); OPT_LOAD(mv, m); OPT_LOAD(vv, v); \
        if (decoupled) wv = wv * keep; else if (decay != 0) gv = gv + decay * wv; \
        mv = beta1 * mv + one1 * gv; \
        vv = beta2 * vv + one2 * gv * gv; \
        wv = wv - step * mv / (__builtin_elementwise_sqrt(vv) / root2 + eps); \
        OPT_STORE(w, wv); OPT_STORE(m, mv); OPT_STORE(v, vv); \
    } \
} while (0)

// SGD: g ← ∇ (+ λ·w);  b ← g (first step) or μ·b + (1 − τ)·g;  g ← g + μ·b (Nesterov) or b;  w ← w − lr·g.
#define SGD_BODY() do { \
    const float undamped = 1 - dampening; \
    for (size_t i = 0; i < n; i += W) { \
        const size_t count = n - i < W ? n - i : W; \
        VEC gv, wv; \
        OPT_LOAD(gv, g); OPT_LOAD(wv, w); \
        if (decay != 0) gv = gv + decay * wv; \
        if (buffer) { \
            VEC bv; \
            if (first) bv = gv; else { OPT_LOAD(bv, buffer); bv = momentum * bv + undamped * gv; } \
            OPT_STORE(buffer, bv); \
            gv = nesterov ? gv + momentum * bv : bv; \
        } \
        wv = wv - lr * gv; \
        OPT_STORE(w, wv); \
    } \
} while (0)

#define DEFINE_OPTIMIZERS(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void adam_##SUFFIX(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n, \
                                        float beta1, float beta2, float step, float root2, float eps, float lr, float decay, int decoupled) { \
        ADAM_BODY(); \
    } \
    ATTRIBUTE static void sgd_##SUFFIX(float *restrict w, const float *restrict g, float *restrict buffer, size_t n, float lr, \
                                       float momentum, float dampening, float decay, int nesterov, int first) { \
        SGD_BODY(); \
    }

#if defined(__x86_64__) || defined(__i386__)
#define W 16
#define VEC o16
DEFINE_OPTIMIZERS(16, __attribute__((target("avx512f"))))
#undef W
#undef VEC
#define W 8
#define VEC o8
DEFINE_OPTIMIZERS(8, __attribute__((target("avx2"))))
#undef W
#undef VEC
#endif
#define W 4
#define VEC o4
DEFINE_OPTIMIZERS(4, )
#undef W
#undef VEC

void ck_adam_step(int level, float *w, const float *g, float *m, float *v, size_t n, float beta1, float beta2, float step,
                  float root2, float eps, float lr, float decay, int decoupled) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return adam_16(w, g, m, v, n, beta1, beta2, step, root2, eps, lr, decay, decoupled);
    if (level == 1) return adam_8(w, g, m, v, n, beta1, beta2, step, root2, eps, lr, decay, decoupled);
#endif
    adam_4(w, g, m, v, n, beta1, beta2, step, root2, eps, lr, decay, decoupled);
}

void ck_sgd_step(int level, float *w, const float *g, float *buffer, size_t n, float lr, float momentum, float dampening,
                 float decay, int nesterov, int first) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return sgd_16(w, g, buffer, n, lr, momentum, dampening, decay, nesterov, first);
    if (level == 1) return sgd_8(w, g, buffer, n, lr, momentum, dampening, decay, nesterov, first);
#endif
    sgd_4(w, g, buffer, n, lr, momentum, dampening, decay, nesterov, first);
}
