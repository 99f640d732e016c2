#include "ConvKitMicroKernels.h"
#include <string.h>
#include "WinogradMath.h"
#include "WinogradRows.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Winograd F(4×4, 3×3) transforms (Lavin & Gray 2016, interpolation points 0, ±1, ±2, ∞), with
// the tiles of a tile row on the vector lanes: W = 16 (AVX-512F), 8 (AVX2) or 4 (baseline
// vectors). The products between the transforms are GEMMs (_ConvKitKernels/Winograd.swift).
//
//   Bᵀ = [4  0 −5  0  1  0]      Aᵀ = [1  1  1  1  1  0]
//        [0 −4 −4  1  1  0]           [0  1 −1  2 −2  0]
//        [0  4 −4 −1  1  0]           [0  1  1  4  4  0]
//        [0 −2 −1  2  1  0]           [0  1 −1  8 −8  1]
//        [0  2 −1 −2  1  0]
//        [0  4  0 −5  0  1]
//
// Tile t of a tile row reads columns 4t … 4t+5 of its 6 rows; lanes hold tiles t0 … t0+W−1,
// so each row is loaded as 4W + W floats and split by column with shuffles (vpermt2ps on
// AVX-512) instead of gathers. Padding is never copied: loads are masked at the plane's edges.
// Several tile rows a pass on AVX-512, and the output transform that pools: WinogradRowGroups.c.

/// The input transform of tiles [t0, t0 + W) of a tile row, written to v[ξ·plane + t] for the
/// first `count` of them. Row i of the patches is plane row top + i (zeros outside the plane);
/// columns start at 4·t0 − left and are loaded 5W at a time (masked at the plane's edges) and
/// split by DEINTERLEAVE into e[0…5], column c of each tile.
#define WINO_INPUT_BODY() do { \
    for (size_t t0 = 0; t0 < tiles; t0 += W) { \
        VEC rows[6][6]; \
        const ptrdiff_t col0 = (ptrdiff_t)(4 * t0) - left; \
        for (int i = 0; i < 6; i++) { \
            const ptrdiff_t yy = top + i; \
            VEC z[5], e[6]; \
            WINO_LOAD_ROW(z, 5, yy, col0); \
            const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3], z4 = z[4]; \
            DEINTERLEAVE(); \
            WINO_BT(e, rows[i]); \
        } \
        WINO_COLUMNS(6, 6, WINO_BT); \
    } \
} while (0)

/// The output transform of tiles [t0, t0 + W): 36 products in, 4 × 4 outputs per tile,
/// INTERLEAVE turning o[c] (column c of each tile) into 4W consecutive outputs.
#define WINO_OUTPUT_BODY() do { \
    for (size_t t0 = 0; t0 < tiles; t0 += W) { \
        const size_t count = tiles - t0 < W ? tiles - t0 : W; \
        VEC cols4[4][6]; \
        for (int x = 0; x < 6; x++) { \
            VEC mm[6], o[4]; \
            WINO_LOAD_COLUMN(mm, 6, x); \
            WINO_AT(mm, o); \
            for (int r = 0; r < 4; r++) cols4[r][x] = o[r]; \
        } \
        const size_t first = 4 * t0, width = cols > first ? (cols - first < 4 * W ? cols - first : 4 * W) : 0; \
        for (size_t r = 0; r < rows; r++) { \
            VEC o[4], q[4]; \
            WINO_AT(cols4[r], o); \
            for (int c = 0; c < 4; c++) o[c] += bias; \
            INTERLEAVE(); \
            float *dst = y + r * ldy + first; \
            if (width == 4 * W) memcpy(dst, q, sizeof q); \
            else for (size_t j = 0; j < 4 && j * W < width; j++) STOREN(dst + j * W, q[j], width - j * W < W ? width - j * W : W); \
        } \
    } \
} while (0)

#define DEFINE_WINOGRAD(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void wino_input_##SUFFIX(const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left, \
                                            size_t tiles, float *v, size_t vplane) { \
        WINO_INPUT_BODY(); \
    } \
    ATTRIBUTE static void wino_output_##SUFFIX(const float *m, size_t plane, size_t tiles, float bias, \
                                             float *y, size_t ldy, size_t rows, size_t cols) { \
        WINO_OUTPUT_BODY(); \
    }

// --- The weight gradient: dW = Gᵀ·[Σ over tiles (A·dy·Aᵀ) ⊙ (Bᵀ·d·B)]·G ---

/// The output-gradient transform A·dy·Aᵀ of tiles [t0, t0 + W): rows top … top+3 and columns
/// 4t … 4t+3 of the (height × width) dy plane, zero outside it, to v[ξ·vplane + t].
#define WINO_GRADIENT_BODY() do { \
    for (size_t t0 = 0; t0 < tiles; t0 += W) { \
        VEC rows[4][6]; \
        const ptrdiff_t col0 = (ptrdiff_t)(4 * t0); \
        for (int i = 0; i < 4; i++) { \
            const ptrdiff_t yy = top + i; \
            VEC z[4], e[4]; \
            if (yy >= (ptrdiff_t)height) { \
                for (int j = 0; j < 4; j++) z[j] = (VEC){0}; \
            } else { \
                const float *row = plane + yy * (ptrdiff_t)width; \
                for (int j = 0; j < 4; j++) { \
                    const ptrdiff_t col = col0 + j * W, hi_ = (ptrdiff_t)width - col; \
                    if (hi_ >= W) memcpy(&z[j], row + col, sizeof z[j]); \
                    else if (hi_ <= 0) z[j] = (VEC){0}; \
                    else LOADRANGE(z[j], row + col, 0, hi_); \
                } \
            } \
            const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3]; \
            DEINTERLEAVE4(); \
            WINO_A(e, rows[i]); \
        } \
        WINO_COLUMNS(4, 6, WINO_A); \
    } \
} while (0)

#define DEFINE_WINOGRAD_GRADIENT(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void wino_gradient_##SUFFIX(const float *plane, size_t height, size_t width, ptrdiff_t top, \
                                               size_t tiles, float *v, size_t vplane) { \
        WINO_GRADIENT_BODY(); \
    }

// --- 16 lanes (AVX-512F) ---
#include "WinogradLanes16.h"
#if defined(__x86_64__) || defined(__i386__)
DEFINE_WINOGRAD(16, __attribute__((target("avx512f"))))
DEFINE_WINOGRAD_GRADIENT(16, __attribute__((target("avx512f"))))
#endif
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef IVEC
#undef PICK4
#undef DEINTERLEAVE
#undef DEINTERLEAVE4
#undef INTERLEAVE

// --- 8 lanes (AVX2 + FMA) ---
#define W 8
#define VEC v8
#define IVEC i8
typedef float v8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
#define PICK4(a, b, c) __builtin_shufflevector(a, b, c, c + 4, c + 8, c + 12)
#define DEINTERLEAVE4() do { \
    e[0] = __builtin_shufflevector(PICK4(z0, z1, 0), PICK4(z2, z3, 0), 0, 1, 2, 3, 4, 5, 6, 7); \
    e[1] = __builtin_shufflevector(PICK4(z0, z1, 1), PICK4(z2, z3, 1), 0, 1, 2, 3, 4, 5, 6, 7); \
    e[2] = __builtin_shufflevector(PICK4(z0, z1, 2), PICK4(z2, z3, 2), 0, 1, 2, 3, 4, 5, 6, 7); \
    e[3] = __builtin_shufflevector(PICK4(z0, z1, 3), PICK4(z2, z3, 3), 0, 1, 2, 3, 4, 5, 6, 7); \
} while (0)
#define DEINTERLEAVE() do { \
    DEINTERLEAVE4(); \
    e[4] = __builtin_shufflevector(e[0], z4, 1, 2, 3, 4, 5, 6, 7, 8); \
    e[5] = __builtin_shufflevector(e[1], z4, 1, 2, 3, 4, 5, 6, 7, 9); \
} while (0)
#define INTERLEAVE() do { \
    const VEC alo = __builtin_shufflevector(o[0], o[1], 0, 8, 1, 9, 2, 10, 3, 11); \
    const VEC ahi = __builtin_shufflevector(o[0], o[1], 4, 12, 5, 13, 6, 14, 7, 15); \
    const VEC blo = __builtin_shufflevector(o[2], o[3], 0, 8, 1, 9, 2, 10, 3, 11); \
    const VEC bhi = __builtin_shufflevector(o[2], o[3], 4, 12, 5, 13, 6, 14, 7, 15); \
    q[0] = __builtin_shufflevector(alo, blo, 0, 1, 8, 9, 2, 3, 10, 11); \
    q[1] = __builtin_shufflevector(alo, blo, 4, 5, 12, 13, 6, 7, 14, 15); \
    q[2] = __builtin_shufflevector(ahi, bhi, 0, 1, 8, 9, 2, 3, 10, 11); \
    q[3] = __builtin_shufflevector(ahi, bhi, 4, 5, 12, 13, 6, 7, 14, 15); \
} while (0)
#define LANES_BELOW(n) ((__m256i)((IVEC){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(n)))
#define LOADN(v, src, n) (v) = (VEC)_mm256_maskload_ps(src, LANES_BELOW(n))
#define STOREN(dst, v, n) _mm256_maskstore_ps(dst, LANES_BELOW(n), (__m256)(v))
#define LOADRANGE(v, src, lo, hi) (v) = (VEC)_mm256_maskload_ps(src, (__m256i)(((IVEC){0, 1, 2, 3, 4, 5, 6, 7} >= (int32_t)(lo)) \
                                                                             & ((IVEC){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(hi))))
#if defined(__x86_64__) || defined(__i386__)
DEFINE_WINOGRAD(8, __attribute__((target("avx2,fma"))))
DEFINE_WINOGRAD_GRADIENT(8, __attribute__((target("avx2,fma"))))
#endif
#undef LANES_BELOW
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef IVEC
#undef PICK4
#undef DEINTERLEAVE
#undef DEINTERLEAVE4
#undef INTERLEAVE

// --- 4 lanes (any CPU: the compiler's baseline vectors) ---
#define W 4
#define VEC v4
#define IVEC i4
typedef float v4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));
#define DEINTERLEAVE4() do { \
    e[0] = __builtin_shufflevector(__builtin_shufflevector(z0, z1, 0, 4), __builtin_shufflevector(z2, z3, 0, 4), 0, 1, 2, 3); \
    e[1] = __builtin_shufflevector(__builtin_shufflevector(z0, z1, 1, 5), __builtin_shufflevector(z2, z3, 1, 5), 0, 1, 2, 3); \
    e[2] = __builtin_shufflevector(__builtin_shufflevector(z0, z1, 2, 6), __builtin_shufflevector(z2, z3, 2, 6), 0, 1, 2, 3); \
    e[3] = __builtin_shufflevector(__builtin_shufflevector(z0, z1, 3, 7), __builtin_shufflevector(z2, z3, 3, 7), 0, 1, 2, 3); \
} while (0)
#define DEINTERLEAVE() do { \
    DEINTERLEAVE4(); \
    e[4] = __builtin_shufflevector(e[0], z4, 1, 2, 3, 4); \
    e[5] = __builtin_shufflevector(e[1], z4, 1, 2, 3, 5); \
} while (0)
#define INTERLEAVE() do { \
    const VEC alo = __builtin_shufflevector(o[0], o[1], 0, 4, 1, 5), ahi = __builtin_shufflevector(o[0], o[1], 2, 6, 3, 7); \
    const VEC blo = __builtin_shufflevector(o[2], o[3], 0, 4, 1, 5), bhi = __builtin_shufflevector(o[2], o[3], 2, 6, 3, 7); \
    q[0] = __builtin_shufflevector(alo, blo, 0, 1, 4, 5); \
    q[1] = __builtin_shufflevector(alo, blo, 2, 3, 6, 7); \
    q[2] = __builtin_shufflevector(ahi, bhi, 0, 1, 4, 5); \
    q[3] = __builtin_shufflevector(ahi, bhi, 2, 3, 6, 7); \
} while (0)
#define LOADN(v, src, n) do { (v) = (VEC){0}; for (size_t l_ = 0; l_ < (n); l_++) (v)[l_] = (src)[l_]; } while (0)
#define STOREN(dst, v, n) do { for (size_t l_ = 0; l_ < (n); l_++) (dst)[l_] = (v)[l_]; } while (0)
#define LOADRANGE(v, src, lo, hi) do { (v) = (VEC){0}; for (ptrdiff_t l_ = (lo); l_ < (hi); l_++) (v)[l_] = (src)[l_]; } while (0)
DEFINE_WINOGRAD(4, )
DEFINE_WINOGRAD_GRADIENT(4, )
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef IVEC
#undef DEINTERLEAVE
#undef DEINTERLEAVE4
#undef INTERLEAVE

size_t ck_wino_lanes(int level) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return 16;
    if (level == 1) return 8;
#else
    (void)level;
#endif
    return 4;
}


void ck_wino_input(int level, const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left,
                   size_t tiles, float *v, size_t vplane) {
    wino_prefetch_rows(plane, height, width, top, 6, 2);
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return wino_input_16(plane, height, width, top, left, tiles, v, vplane);
    if (level == 1) return wino_input_8(plane, height, width, top, left, tiles, v, vplane);
#endif
    wino_input_4(plane, height, width, top, left, tiles, v, vplane);
}

void ck_wino_output(int level, const float *m, size_t plane, size_t tiles, float bias,
                    float *y, size_t ldy, size_t rows, size_t cols) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return wino_output_16(m, plane, tiles, bias, y, ldy, rows, cols);
    if (level == 1) return wino_output_8(m, plane, tiles, bias, y, ldy, rows, cols);
#endif
    wino_output_4(m, plane, tiles, bias, y, ldy, rows, cols);
}

// U for up to N filters k0 + l (l < lanes ≤ N, all in one mr-row panel) of input channel ci, each
// lane computed as the scalar definition did (G·g·Gᵀ in double, rounded once): lanes side by side
// so that the compiler vectorises the double arithmetic and each point's lanes are one
// contiguous store into their panel (one filter at a time was scalar double with 36 scattered
// stores, 4–5 % of a ResNet-18 batch-16 forward profile).
// Multiplications by the reciprocals 1/6, 1/12, 1/24 in double instead of divisions (vdivpd
// took most of this transform's time: 512 × 512 filters 1.7 ms of a 7 ms Winograd pass), the
// terms that rows 1/2 and 3/4 share computed once, never contracted into FMAs so every level
// rounds alike (double's rounding errors are ~2⁻²⁹ of a float ulp: the floats are those of the
// exact G·g·Gᵀ except where it lies that close to a rounding boundary); each output row of a point is stored with
// STORE(dst, values) (`lanes` floats: a masked store on vector levels) rather than memcpy. Each
// function using it starts with `#pragma clang fp contract(off)`.
#define WINO_FILTER_PANEL(N, LOAD, STORE)                                                                   \
    const double sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyfourth = 1.0 / 24;                              \
    double g[9][16], gg[6][3][16];                                                                          \
    LOAD(N);                                                                                                \
    for (int col = 0; col < 3; col++)                                                                       \
        for (size_t l = 0; l < (N); l++) {                                                                  \
            const double g0 = g[col][l], g1 = g[3 + col][l], g2 = g[6 + col][l];                            \
            const double outer = g0 + g2, even = g0 * twentyfourth + g2 * sixth, odd = g1 * twelfth;        \
            gg[0][col][l] = g0 * 0.25; gg[1][col][l] = (outer + g1) * -sixth;                               \
            gg[2][col][l] = (outer - g1) * -sixth; gg[3][col][l] = even + odd; gg[4][col][l] = even - odd;  \
            gg[5][col][l] = g2;                                                                             \
        }                                                                                                   \
    for (int row = 0; row < 6; row++) {                                                                     \
        float out[6][16];                                                                                   \
        for (size_t l = 0; l < (N); l++) {                                                                  \
            const double g0 = gg[row][0][l], g1 = gg[row][1][l], g2 = gg[row][2][l];                        \
            const double outer = g0 + g2, even = g0 * twentyfourth + g2 * sixth, odd = g1 * twelfth;        \
            out[0][l] = (float)(g0 * 0.25); out[1][l] = (float)((outer + g1) * -sixth);                     \
            out[2][l] = (float)((outer - g1) * -sixth); out[3][l] = (float)(even + odd);                    \
            out[4][l] = (float)(even - odd); out[5][l] = (float)g2;                                         \
        }                                                                                                   \
        for (int j = 0; j < 6; j++) STORE(dst + (size_t)(row * 6 + j) * point, out[j]);                    \
    }

#define WINO_FILTER_STORE_SCALAR(to, values) memcpy((to), (values), lanes * sizeof(float))
#define WINO_FILTER_LOAD_SCALAR(N)                                                                          \
    for (int t = 0; t < 9; t++)                                                                             \
        for (size_t l = 0; l < (N); l++) g[t][l] = l < lanes ? w[((k0 + l) * c + ci) * 9 + t] : 0

#if defined(__x86_64__) || defined(__i386__)
#define WINO_FILTER_STORE_16(to, values) _mm512_mask_storeu_ps((to), mask16, _mm512_loadu_ps(values))
// The lanes' filters C·9 floats apart, one 16-lane gather of 32-bit offsets per tap: the channels
// past the last whole block of 16 (wino_filter_block_16 takes the blocks without gathers).
#define WINO_FILTER_LOAD_16(N)                                                                              \
    const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, \
                                                                 14, 15), _mm512_set1_epi32((int)(c * 9))); \
    const float *first = w + (k0 * c + ci) * 9;                                                            \
    for (int t = 0; t < 9; t++) {                                                                           \
        const __m512 taps = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask16, offsets, first + t, 4);    \
        _mm512_storeu_pd(g[t], _mm512_cvtps_pd(_mm512_castps512_ps256(taps)));                             \
        _mm512_storeu_pd(g[t] + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(taps), 1)))); \
    }
#define WINO_FILTER_STORE_8(to, values) _mm256_maskstore_ps((to), mask8, _mm256_loadu_ps(values))
// Taps already on the lanes: staged[t·16 + l] (wino_filter_block_16).
#define WINO_FILTER_LOAD_STAGED(N)                                                                          \
    for (int t = 0; t < 9; t++) {                                                                           \
        const __m512 taps = _mm512_loadu_ps(staged + t * 16);                                               \
        _mm512_storeu_pd(g[t], _mm512_cvtps_pd(_mm512_castps512_ps256(taps)));                             \
        _mm512_storeu_pd(g[t] + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(taps), 1)))); \
    }

// r[j][l] = r[l][j]: a 16 × 16 transpose in registers (unpacks, then 128-bit lane shuffles).
__attribute__((target("avx512f")))
static inline void wino_transpose_16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) { t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]); t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]); }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

// One filter's taps on each lane from `staged`, transformed and stored as wino_filter_panel_16.
__attribute__((target("avx512f")))
static void wino_filter_staged_16(const float *staged, size_t lanes, size_t point, float *dst) {
#pragma clang fp contract(off)
    const __mmask16 mask16 = (__mmask16)((1u << lanes) - 1);
    WINO_FILTER_PANEL(16, WINO_FILTER_LOAD_STAGED, WINO_FILTER_STORE_16)
}

// Input channels ci0 … ci0 + 15 of filters k0 … k0 + lanes − 1: each filter's 16 · 9 taps are
// contiguous, loaded as 9 vectors and put on the lanes by 16 × 16 transposes (staged[(ci · 9 + t)
// · 16 + l]), instead of 9 gathers a channel, each ~10 cycles even from L1 (C harness, 512 × 512
// filters on one core: 1.65 ms with gathers, 0.9 ms without loads at all).
__attribute__((target("avx512f")))
static void wino_filter_block_16(const float *w, size_t k0, size_t lanes, size_t c, size_t ci0, size_t point, size_t mr, float *dst) {
    float staged[144 * 16] __attribute__((aligned(64)));
    for (int b = 0; b < 9; b++) {
        __m512 r[16];
        for (size_t l = 0; l < 16; l++) r[l] = l < lanes ? _mm512_loadu_ps(w + ((k0 + l) * c + ci0) * 9 + 16 * b) : _mm512_setzero_ps();
        wino_transpose_16(r);
        for (int j = 0; j < 16; j++) _mm512_store_ps(staged + (16 * b + j) * 16, r[j]);
    }
    for (size_t ci = 0; ci < 16; ci++) wino_filter_staged_16(staged + ci * 9 * 16, lanes, point, dst + ci * mr);
}

__attribute__((target("avx512f")))
static void wino_filter_panel_16(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t point, float *dst) {
#pragma clang fp contract(off)
    const __mmask16 mask16 = (__mmask16)((1u << lanes) - 1);
    if (c * 9 * 16 > 0x7fffffff) { WINO_FILTER_PANEL(16, WINO_FILTER_LOAD_SCALAR, WINO_FILTER_STORE_16) return; }
    WINO_FILTER_PANEL(16, WINO_FILTER_LOAD_16, WINO_FILTER_STORE_16)
}
__attribute__((target("avx2")))
static void wino_filter_panel_8(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t point, float *dst) {
#pragma clang fp contract(off)
    const __m256i mask8 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    WINO_FILTER_PANEL(8, WINO_FILTER_LOAD_SCALAR, WINO_FILTER_STORE_8)
}
#endif
// Without vector kernels the panels are single filters (mr = 1): no lanes past `lanes`.
static void wino_filter_panel(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t point, float *dst) {
#pragma clang fp contract(off)
    WINO_FILTER_PANEL(lanes, WINO_FILTER_LOAD_SCALAR, WINO_FILTER_STORE_SCALAR)
}

void ck_wino_filters(const float *w, size_t k0, size_t k1, size_t c, size_t point, size_t mr, float *u) {
    const int level = ck_gemm_level();
    // Runs of filters within one mr-row panel, at most a panel function's N at a time.
    for (size_t k = k0; k < k1;) {
        const size_t panelEnd = (k / mr + 1) * mr, end = k1 < panelEnd ? k1 : panelEnd;
        const size_t width = level == 1 ? 8 : 16, lanes = end - k < width ? end - k : width;
        for (size_t ci = 0; ci < c; ci++) {
            float *dst = u + (k / mr * c + ci) * mr + k % mr;
#if defined(__x86_64__) || defined(__i386__)
            if (level == 2 && ci + 16 <= c) {
                wino_filter_block_16(w, k, lanes, c, ci, point, mr, dst);
                ci += 15;
                continue;
            }
            if (level == 2) { wino_filter_panel_16(w, k, lanes, c, ci, point, dst); continue; }
            if (level == 1) { wino_filter_panel_8(w, k, lanes, c, ci, point, dst); continue; }
#endif
            (void)level;
            wino_filter_panel(w, k, lanes, c, ci, point, dst);
        }
        k += lanes;
    }
}

void ck_wino_gradient(int level, const float *plane, size_t height, size_t width, ptrdiff_t top,
                      size_t tiles, float *v, size_t vplane) {
    wino_prefetch_rows(plane, height, width, top, 4, 2);
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return wino_gradient_16(plane, height, width, top, tiles, v, vplane);
    if (level == 1) return wino_gradient_8(plane, height, width, top, tiles, v, vplane);
#endif
    wino_gradient_4(plane, height, width, top, tiles, v, vplane);
}

// Gᵀ·M·G in double: G (6 × 3) is the filter transform's matrix (ck_wino_filters).
static const double wino_g[6][3] = {{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

// One filter (k, ci) of ck_wino_filter_gradient.
static void filter_gradient_1(const float *src, size_t plane, float *out) {
    double mg[6][3];  // M·G
    for (int r = 0; r < 6; r++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int x = 0; x < 6; x++) s += (double)src[(size_t)(r * 6 + x) * plane] * wino_g[x][j];
            mg[r][j] = s;
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int r = 0; r < 6; r++) s += wino_g[r][i] * mg[r][j];
            out[i * 3 + j] = (float)s;
        }
}

#if defined(__x86_64__) || defined(__i386__)
typedef double wd8 __attribute__((vector_size(64)));
typedef float wf8 __attribute__((vector_size(32)));

// Eight filters (k, ci…ci + 7) at once, one per double lane: the same operations in the same
// order as filter_gradient_1 (no contraction into FMAs), so the same bits. The sums of
// consecutive input channels are consecutive in M.
__attribute__((target("avx512f")))
static void filter_gradient_8(const float *src, size_t plane, float *out) {
#pragma clang fp contract(off)
    wd8 mg[6][3];
    for (int r = 0; r < 6; r++) {
        wd8 row[6];
        for (int x = 0; x < 6; x++) {
            wf8 f;
            memcpy(&f, src + (size_t)(r * 6 + x) * plane, sizeof f);
            row[x] = __builtin_convertvector(f, wd8);
        }
        for (int j = 0; j < 3; j++) {
            wd8 s = (wd8){0};
            for (int x = 0; x < 6; x++) s += row[x] * wino_g[x][j];
            mg[r][j] = s;
        }
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            wd8 s = (wd8){0};
            for (int r = 0; r < 6; r++) s += wino_g[r][i] * mg[r][j];
            const wf8 f = __builtin_convertvector(s, wf8);
            for (int l = 0; l < 8; l++) out[(size_t)l * 9 + i * 3 + j] = f[l];
        }
}
#endif

void ck_wino_filter_gradient(int level, const float *m, size_t point, size_t row, size_t k0, size_t k1, size_t c, float *dw) {
    for (size_t k = k0; k < k1; k++) {
        const float *sums = m + (k - k0) * row;
        size_t ci = 0;
#if defined(__x86_64__) || defined(__i386__)
        if (level == 2)
            for (; ci + 8 <= c; ci += 8) filter_gradient_8(sums + ci, point, dw + (k * c + ci) * 9);
#endif
        for (; ci < c; ci++) filter_gradient_1(sums + ci, point, dw + (k * c + ci) * 9);
    }
    (void)level;
}
