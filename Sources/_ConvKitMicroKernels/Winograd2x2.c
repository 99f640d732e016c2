#include "ConvKitMicroKernels.h"
#include <string.h>
#include "WinogradRows.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Winograd F(2×2, 3×3) transforms (Lavin & Gray 2016, interpolation points 0, ±1, ∞): 16 points
// per 2 × 2 output tile instead of F(4×4)'s 36 per 4 × 4, so the transformed filters are 16/9 of
// the weights (F(4×4): 36/9). Where a batch has few tiles (a single 14 × 14 image: 16 of F(4×4),
// 49 of these) the filters dominate what the products read, and these serve it
// (_ConvKitKernels/Winograd.swift). The tiles of a tile row sit on the vector lanes as in
// Winograd.c: W = 16 (AVX-512F), 8 (AVX2) or 4 (baseline vectors).
//
//   Bᵀ = [1  0 −1  0]     G = [1    0    0 ]     Aᵀ = [1  1  1  0]
//        [0  1  1  0]         [1/2  1/2  1/2]          [0  1 −1 −1]
//        [0 −1  1  0]         [1/2 −1/2  1/2]
//        [0  1  0 −1]         [0    0    1 ]
//
// Tile t of a tile row reads columns 2t … 2t+3 of its 4 rows: lanes hold tiles t0 … t0+W−1, so a
// row is loaded as 2W + W floats and split into its even and odd columns by shuffles; columns
// 2t+2 and 2t+3 are those shifted by one lane. Padding is never copied: loads are masked at the
// plane's edges. G's entries are powers of two, so the filter transform is exact but for its sums.

/// Bᵀ·e along one axis: four values in, four out.
#define WINO2_BT(e, u) do { u[0] = e[0] - e[2]; u[1] = e[1] + e[2]; u[2] = e[2] - e[1]; u[3] = e[1] - e[3]; } while (0)

/// Aᵀ·m along one axis: four values in, two out.
#define WINO2_AT(m, o) do { o[0] = m[0] + m[1] + m[2]; o[1] = m[1] - m[2] - m[3]; } while (0)

/// The input transform of tiles [t0, t0 + W) of a tile row, to v[ξ·vplane + t] (ξ = 4·row + column)
/// for the first `count` of them: rows top … top+3 of the plane (zeros outside), columns from
/// 2·t0 − left, loaded 3W at a time (masked at the plane's edges).
#define WINO2_INPUT_BODY() do { \
    for (size_t t0 = 0; t0 < tiles; t0 += W) { \
        VEC rows[4][4]; \
        const ptrdiff_t col0 = (ptrdiff_t)(2 * t0) - left; \
        for (int i = 0; i < 4; i++) { \
            const ptrdiff_t yy = top + i; \
            VEC z[3], e[4]; \
            WINO_LOAD_ROW(z, 3, yy, col0); \
            e[0] = EVENS(z[0], z[1]); e[1] = ODDS(z[0], z[1]); \
            e[2] = NEXT(e[0], z[2], 0); e[3] = NEXT(e[1], z[2], 1); \
            WINO2_BT(e, rows[i]); \
        } \
        WINO_COLUMNS(4, 4, WINO2_BT); \
    } \
} while (0)

/// The output transform of tiles [t0, t0 + W): 16 products in, 2 × 2 outputs per tile, the two
/// columns interleaved into 2W consecutive outputs of each of `rows` (1 or 2) rows.
#define WINO2_OUTPUT_BODY() do { \
    for (size_t t0 = 0; t0 < tiles; t0 += W) { \
        const size_t count = tiles - t0 < W ? tiles - t0 : W; \
        VEC cols2[2][4]; \
        for (int x = 0; x < 4; x++) { \
            VEC mm[4], o[2]; \
            WINO_LOAD_COLUMN(mm, 4, x); \
            WINO2_AT(mm, o); \
            cols2[0][x] = o[0]; cols2[1][x] = o[1]; \
        } \
        const size_t first = 2 * t0, width = cols > first ? (cols - first < 2 * W ? cols - first : 2 * W) : 0; \
        for (size_t r = 0; r < rows; r++) { \
            VEC o[2], q[2]; \
            WINO2_AT(cols2[r], o); \
            o[0] += bias; o[1] += bias; \
            q[0] = LOWHALF(o[0], o[1]); q[1] = HIGHHALF(o[0], o[1]); \
            float *dst = y + r * ldy + first; \
            if (width == 2 * W) memcpy(dst, q, sizeof q); \
            else for (size_t j = 0; j < 2 && j * W < width; j++) STOREN(dst + j * W, q[j], width - j * W < W ? width - j * W : W); \
        } \
    } \
} while (0)

#define DEFINE_WINOGRAD2(SUFFIX, ATTRIBUTE) \
    ATTRIBUTE static void wino2_input_##SUFFIX(const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left, \
                                             size_t tiles, float *v, size_t vplane) { \
        WINO2_INPUT_BODY(); \
    } \
    ATTRIBUTE static void wino2_output_##SUFFIX(const float *m, size_t plane, size_t tiles, float bias, \
                                              float *y, size_t ldy, size_t rows, size_t cols) { \
        WINO2_OUTPUT_BODY(); \
    }

// --- 16 lanes (AVX-512F) ---
#define W 16
#define VEC v16
typedef float v16 __attribute__((vector_size(64)));
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define NEXT(a, b, i) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 + (i))
#define LOWHALF(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define HIGHHALF(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define LOADN(v, src, n) (v) = (VEC)_mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), src)
#define STOREN(dst, v, n) _mm512_mask_storeu_ps(dst, (__mmask16)((1u << (n)) - 1), (__m512)(v))
#define LOADRANGE(v, src, lo, hi) (v) = (VEC)_mm512_maskz_loadu_ps((__mmask16)(((1u << (hi)) - 1) & ~((1u << (lo)) - 1)), src)
#if defined(__x86_64__) || defined(__i386__)
DEFINE_WINOGRAD2(16, __attribute__((target("avx512f"))))
#endif
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef EVENS
#undef ODDS
#undef NEXT
#undef LOWHALF
#undef HIGHHALF

// --- 8 lanes (AVX2 + FMA) ---
#define W 8
#define VEC v8
#define IVEC i8
typedef float v8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define NEXT(a, b, i) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8 + (i))
#define LOWHALF(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define HIGHHALF(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#define LANES_BELOW(n) ((__m256i)((IVEC){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(n)))
#define LOADN(v, src, n) (v) = (VEC)_mm256_maskload_ps(src, LANES_BELOW(n))
#define STOREN(dst, v, n) _mm256_maskstore_ps(dst, LANES_BELOW(n), (__m256)(v))
#define LOADRANGE(v, src, lo, hi) (v) = (VEC)_mm256_maskload_ps(src, (__m256i)(((IVEC){0, 1, 2, 3, 4, 5, 6, 7} >= (int32_t)(lo)) \
                                                                             & ((IVEC){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(hi))))
#if defined(__x86_64__) || defined(__i386__)
DEFINE_WINOGRAD2(8, __attribute__((target("avx2,fma"))))
#endif
#undef LANES_BELOW
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef IVEC
#undef EVENS
#undef ODDS
#undef NEXT
#undef LOWHALF
#undef HIGHHALF

// --- 4 lanes (any CPU: the compiler's baseline vectors) ---
#define W 4
#define VEC v4
typedef float v4 __attribute__((vector_size(16)));
#define EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#define NEXT(a, b, i) __builtin_shufflevector(a, b, 1, 2, 3, 4 + (i))
#define LOWHALF(a, b) __builtin_shufflevector(a, b, 0, 4, 1, 5)
#define HIGHHALF(a, b) __builtin_shufflevector(a, b, 2, 6, 3, 7)
#define LOADN(v, src, n) do { (v) = (VEC){0}; for (size_t l_ = 0; l_ < (n); l_++) (v)[l_] = (src)[l_]; } while (0)
#define STOREN(dst, v, n) do { for (size_t l_ = 0; l_ < (n); l_++) (dst)[l_] = (v)[l_]; } while (0)
#define LOADRANGE(v, src, lo, hi) do { (v) = (VEC){0}; for (ptrdiff_t l_ = (lo); l_ < (hi); l_++) (v)[l_] = (src)[l_]; } while (0)
DEFINE_WINOGRAD2(4, )
#undef LOADN
#undef STOREN
#undef LOADRANGE
#undef W
#undef VEC
#undef EVENS
#undef ODDS
#undef NEXT
#undef LOWHALF
#undef HIGHHALF

void ck_wino2_input(int level, const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left,
                    size_t tiles, float *v, size_t vplane) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return wino2_input_16(plane, height, width, top, left, tiles, v, vplane);
    if (level == 1) return wino2_input_8(plane, height, width, top, left, tiles, v, vplane);
#endif
    wino2_input_4(plane, height, width, top, left, tiles, v, vplane);
}

void ck_wino2_output(int level, const float *m, size_t plane, size_t tiles, float bias,
                     float *y, size_t ldy, size_t rows, size_t cols) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return wino2_output_16(m, plane, tiles, bias, y, ldy, rows, cols);
    if (level == 1) return wino2_output_8(m, plane, tiles, bias, y, ldy, rows, cols);
#endif
    wino2_output_4(m, plane, tiles, bias, y, ldy, rows, cols);
}

void ck_wino2_filters(const float *w, size_t k0, size_t k1, size_t c, size_t point, size_t mr, float *u) {
    // U_ξ = G·g·Gᵀ per filter in double, rounded once, into row panels U[ξ][k / mr][c][k % mr].
    for (size_t k = k0; k < k1; k++) {
        for (size_t ci = 0; ci < c; ci++) {
            const float *g = w + (k * c + ci) * 9;
            double gg[4][3];  // G·g
            for (int col = 0; col < 3; col++) {
                const double g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
                gg[0][col] = g0; gg[1][col] = (g0 + g1 + g2) / 2; gg[2][col] = (g0 - g1 + g2) / 2; gg[3][col] = g2;
            }
            float *dst = u + (k / mr * c + ci) * mr + k % mr;
            for (int row = 0; row < 4; row++) {
                const double g0 = gg[row][0], g1 = gg[row][1], g2 = gg[row][2];
                const float out[4] = {(float)g0, (float)((g0 + g1 + g2) / 2), (float)((g0 - g1 + g2) / 2), (float)g2};
                for (int j = 0; j < 4; j++) dst[(size_t)(row * 4 + j) * point] = out[j];
            }
        }
    }
}
