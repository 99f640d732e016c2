#include "ConvKitMicroKernels.h"
#include <string.h>
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

/// Bᵀ·e along one axis: six values in, six out (u1/u2 and u3/u4 share their halves).
#define WINO_BT(e, u) do { \
    const VEC a_ = e[4] - 4.0f * e[2], b_ = e[3] - 4.0f * e[1]; \
    const VEC c_ = e[4] - e[2], d_ = 2.0f * (e[3] - e[1]); \
    u[0] = 4.0f * e[0] - 5.0f * e[2] + e[4]; \
    u[1] = a_ + b_; u[2] = a_ - b_; u[3] = c_ + d_; u[4] = c_ - d_; \
    u[5] = 4.0f * e[1] - 5.0f * e[3] + e[5]; \
} while (0)

/// Aᵀ·m along one axis: six values in, four out.
#define WINO_AT(m, o) do { \
    const VEC p_ = m[1] + m[2], q_ = m[1] - m[2], r_ = m[3] + m[4], s_ = m[3] - m[4]; \
    o[0] = m[0] + p_ + r_; o[1] = q_ + 2.0f * s_; o[2] = p_ + 4.0f * r_; o[3] = q_ + 8.0f * s_ + m[5]; \
} while (0)

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

/// A·e along one axis: four values in, six out (A = (Aᵀ)ᵀ, 6 × 4).
#define WINO_A(e, o) do { \
    const VEC p_ = e[0] + e[2], q_ = e[1] + e[3], r_ = e[0] + 4.0f * e[2], s_ = 2.0f * e[1] + 8.0f * e[3]; \
    o[0] = e[0]; o[1] = p_ + q_; o[2] = p_ - q_; o[3] = r_ + s_; o[4] = r_ - s_; o[5] = e[3]; \
} while (0)

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
#define W 16
#define VEC v16
#define IVEC i16
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t i16 __attribute__((vector_size(64)));
#define PICK4(a, b, c) __builtin_shufflevector(a, b, c, c + 4, c + 8, c + 12, c + 16, c + 20, c + 24, c + 28)
#define DEINTERLEAVE4() do { \
    e[0] = __builtin_shufflevector(PICK4(z0, z1, 0), PICK4(z2, z3, 0), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    e[1] = __builtin_shufflevector(PICK4(z0, z1, 1), PICK4(z2, z3, 1), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    e[2] = __builtin_shufflevector(PICK4(z0, z1, 2), PICK4(z2, z3, 2), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    e[3] = __builtin_shufflevector(PICK4(z0, z1, 3), PICK4(z2, z3, 3), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
} while (0)
#define DEINTERLEAVE() do { \
    DEINTERLEAVE4(); \
    e[4] = __builtin_shufflevector(e[0], z4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16); \
    e[5] = __builtin_shufflevector(e[1], z4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17); \
} while (0)
#define INTERLEAVE() do { \
    const VEC alo = __builtin_shufflevector(o[0], o[1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); \
    const VEC ahi = __builtin_shufflevector(o[0], o[1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); \
    const VEC blo = __builtin_shufflevector(o[2], o[3], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); \
    const VEC bhi = __builtin_shufflevector(o[2], o[3], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); \
    q[0] = __builtin_shufflevector(alo, blo, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23); \
    q[1] = __builtin_shufflevector(alo, blo, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31); \
    q[2] = __builtin_shufflevector(ahi, bhi, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23); \
    q[3] = __builtin_shufflevector(ahi, bhi, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31); \
} while (0)
#define LOADN(v, src, n) (v) = (VEC)_mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), src)
#define STOREN(dst, v, n) _mm512_mask_storeu_ps(dst, (__mmask16)((1u << (n)) - 1), (__m512)(v))
#define LOADRANGE(v, src, lo, hi) (v) = (VEC)_mm512_maskz_loadu_ps((__mmask16)(((1u << (hi)) - 1) & ~((1u << (lo)) - 1)), src)
#if defined(__x86_64__) || defined(__i386__)
DEFINE_WINOGRAD(16, __attribute__((target("avx512f"))))
DEFINE_WINOGRAD_GRADIENT(16, __attribute__((target("avx512f"))))
#endif
#if defined(__x86_64__) || defined(__i386__)
// Two tile rows of at most 7 tiles each in one pass: lanes 0–7 hold the first row's tiles and
// lanes 8–15 the second's. Rows of 28 outputs have 7 tiles and of 14 outputs 4, so one row a
// pass filled 44 % and 25 % of the lanes. A patch row of such a tile row is at most 30 floats,
// so the first row's occupy z0, z1 and the second's z2, z3 of DEINTERLEAVE's 64 + 16: e[c] then
// holds column c of both rows' tiles, and e[4], e[5] (e[0], e[1] one lane on) are right in every
// lane of a tile (lanes 7 and 15, past the last tile, hold what they may).

// Lanes lo..<hi of a 16-float load from plane row yy at column col, zeros outside the plane.
__attribute__((target("avx512f")))
static inline __m512 wino_part_16(const float *plane, size_t height, size_t width, ptrdiff_t yy, ptrdiff_t col) {
    if (yy < 0 || yy >= (ptrdiff_t)height) return _mm512_setzero_ps();
    const ptrdiff_t lo = col < 0 ? -col : 0, end = (ptrdiff_t)width - col, hi = end < 16 ? end : 16;
    if (hi <= lo) return _mm512_setzero_ps();
    const __mmask16 mask = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
    return _mm512_maskz_loadu_ps(mask, plane + yy * (ptrdiff_t)width + col);
}

// The lanes of two rows' first n tiles (0..<n and 8..<8+n).
static inline __mmask16 wino_pair_lanes(size_t n) { return (__mmask16)(((1u << n) - 1) * 0x101u); }

// Column x of both rows' transformed tiles (u[y], point 6·y + x) to v[ξ·vplane + 0 … 2·tiles):
// the lanes of the two rows' tiles compressed to consecutive columns.
__attribute__((target("avx512f")))
static inline void wino_store_pair_16(const VEC *u, int x, size_t tiles, float *v, size_t vplane) {
    const __mmask16 lanes = wino_pair_lanes(tiles), stored = (__mmask16)((1u << (2 * tiles)) - 1);
    for (int y = 0; y < 6; y++)
        _mm512_mask_storeu_ps(v + (size_t)(y * 6 + x) * vplane, stored, _mm512_maskz_compress_ps(lanes, (__m512)u[y]));
}

__attribute__((target("avx512f")))
static void wino_input_pair_16(const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                               size_t width, ptrdiff_t left, size_t tiles, float *v, size_t vplane) {
    VEC rows[6][6];
    for (int i = 0; i < 6; i++) {
        VEC e[6];
        const VEC z0 = (VEC)wino_part_16(plane0, height, width, top0 + i, -left);
        const VEC z1 = (VEC)wino_part_16(plane0, height, width, top0 + i, 16 - left);
        const VEC z2 = (VEC)wino_part_16(plane1, height, width, top1 + i, -left);
        const VEC z3 = (VEC)wino_part_16(plane1, height, width, top1 + i, 16 - left);
        const VEC z4 = (VEC){0};
        DEINTERLEAVE();
        WINO_BT(e, rows[i]);
    }
    for (int x = 0; x < 6; x++) {
        VEC col[6], u[6];
        for (int i = 0; i < 6; i++) col[i] = rows[i][x];
        WINO_BT(col, u);
        wino_store_pair_16(u, x, tiles, v, vplane);
    }
}

// The output-gradient transform of two tile rows in one pass (rows top0 … of plane0 and top1 …
// of plane1), as `wino_input_pair_16` does for the input: a patch row of at most 7 tiles is at
// most 28 floats.
__attribute__((target("avx512f")))
static void wino_gradient_pair_16(const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                                  size_t width, size_t tiles, float *v, size_t vplane) {
    VEC rows[4][6];
    for (int i = 0; i < 4; i++) {
        VEC e[4];
        const VEC z0 = (VEC)wino_part_16(plane0, height, width, top0 + i, 0);
        const VEC z1 = (VEC)wino_part_16(plane0, height, width, top0 + i, 16);
        const VEC z2 = (VEC)wino_part_16(plane1, height, width, top1 + i, 0);
        const VEC z3 = (VEC)wino_part_16(plane1, height, width, top1 + i, 16);
        DEINTERLEAVE4();
        WINO_A(e, rows[i]);
    }
    for (int x = 0; x < 6; x++) {
        VEC col[4], u[6];
        for (int i = 0; i < 4; i++) col[i] = rows[i][x];
        WINO_A(col, u);
        wino_store_pair_16(u, x, tiles, v, vplane);
    }
}

// The output transform of two tile rows (their 2·tiles products one after another in m), rows
// 0..<rows0 of y0 and 0..<rows1 of y1, columns 0..<cols.
// Aᵀ·m along the columns of two tile rows' products: cols4[r][x], row r of column x of each tile.
__attribute__((target("avx512f")))
static inline void wino_output_pair_columns(const float *m, size_t plane, size_t tiles, VEC cols4[4][6]) {
    const __mmask16 lanes = wino_pair_lanes(tiles), loaded = (__mmask16)((1u << (2 * tiles)) - 1);
    for (int x = 0; x < 6; x++) {
        VEC mm[6], o[4];
        for (int y = 0; y < 6; y++)
            mm[y] = (VEC)_mm512_maskz_expand_ps(lanes, _mm512_maskz_loadu_ps(loaded, m + (size_t)(y * 6 + x) * plane));
        WINO_AT(mm, o);
        for (int r = 0; r < 4; r++) cols4[r][x] = o[r];
    }
}

__attribute__((target("avx512f")))
static void wino_output_pair_16(const float *m, size_t plane, size_t tiles, float bias, float *y0, size_t rows0,
                                float *y1, size_t rows1, size_t ldy, size_t cols) {
    VEC cols4[4][6];
    wino_output_pair_columns(m, plane, tiles, cols4);
    // q[0], q[1]: the first row's tiles (4 outputs each, in order); q[2], q[3]: the second's.
    const size_t width = cols < 4 * tiles ? cols : 4 * tiles;
    const __mmask16 lo = (__mmask16)((1u << (width < 16 ? width : 16)) - 1);
    const __mmask16 hi = (__mmask16)(width > 16 ? (1u << (width - 16)) - 1 : 0);
    for (size_t r = 0; r < 4 && (r < rows0 || r < rows1); r++) {
        VEC o[4], q[4];
        WINO_AT(cols4[r], o);
        for (int c = 0; c < 4; c++) o[c] += bias;
        INTERLEAVE();
        if (r < rows0) {
            _mm512_mask_storeu_ps(y0 + r * ldy, lo, (__m512)q[0]);
            _mm512_mask_storeu_ps(y0 + r * ldy + 16, hi, (__m512)q[1]);
        }
        if (r < rows1) {
            _mm512_mask_storeu_ps(y1 + r * ldy, lo, (__m512)q[2]);
            _mm512_mask_storeu_ps(y1 + r * ldy + 16, hi, (__m512)q[3]);
        }
    }
}

// Tap `v` (at offset `off` in the plane from the window's first tap) of 2 × 2 windows held in
// `best` and `at`: taken where it is larger, or is the first NaN (the first NaN wins and stays,
// as in `MaxPool2d` and `ck_max_pool_plane`).
#define WINO_POOL_TAP(v, off) do { \
    const __mmask16 take_ = _mm512_cmp_ps_mask((__m512)(v), best, _CMP_GT_OQ) \
        | (_mm512_cmp_ps_mask((__m512)(v), (__m512)(v), _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q)); \
    best = _mm512_mask_mov_ps(best, take_, (__m512)(v)); \
    at = _mm512_mask_mov_epi32(at, take_, _mm512_set1_epi32(off)); \
} while (0)

// `wino_output_pair_16` with the 2 × 2, stride-2 max pooling of its outputs in registers: the
// windows of a tile lie in its lanes (rows 2p, 2p + 1, columns 2c, 2c + 1), so the four taps
// are four vectors, and only `pairs0` / `pairs1` pooled rows of each tile row are stored, to
// p0 / p1 (row stride ldp, ⌊width/2⌋ values) with, where i0 / i1 are given, their flat positions
// in the plane (origin0 / origin1: the tile row's first line · width). `bounds`: lower and upper
// of a clamp applied to each output before pooling (as `ClampKernel`: v < lower → lower, v >
// upper → upper, NaN kept), or NULL.
__attribute__((target("avx512f")))
static void wino_output_pair_pooled_16(const float *m, size_t plane, size_t tiles, float bias, const float *bounds,
                                       float *p0, long *i0, long origin0, size_t pairs0,
                                       float *p1, long *i1, long origin1, size_t pairs1, size_t ldp, size_t width) {
    VEC cols4[4][6];
    wino_output_pair_columns(m, plane, tiles, cols4);
    const size_t half = width / 2, count = half < 2 * tiles ? half : 2 * tiles;
    const __mmask16 stored = (__mmask16)((1u << count) - 1);
    // Lane l holds tile l % 8 of tile row l / 8: its first column 4·(l % 8), its row's origin.
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i column = _mm512_slli_epi32(_mm512_and_epi32(lane, _mm512_set1_epi32(7)), 2);
    const __m512i origin = _mm512_mask_blend_epi32((__mmask16)0xFF00, _mm512_set1_epi32((int)origin0), _mm512_set1_epi32((int)origin1));
    const __m512i first = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(8));
    for (size_t p = 0; p < 2 && (p < pairs0 || p < pairs1); p++) {
        VEC a[4], b[4];
        WINO_AT(cols4[2 * p], a);
        WINO_AT(cols4[2 * p + 1], b);
        for (int c = 0; c < 4; c++) {
            a[c] += bias;
            b[c] += bias;
            if (bounds) {
                const __m512 lower = _mm512_set1_ps(bounds[0]), upper = _mm512_set1_ps(bounds[1]);
                a[c] = (VEC)_mm512_mask_mov_ps((__m512)a[c], _mm512_cmp_ps_mask((__m512)a[c], lower, _CMP_LT_OQ), lower);
                a[c] = (VEC)_mm512_mask_mov_ps((__m512)a[c], _mm512_cmp_ps_mask((__m512)a[c], upper, _CMP_GT_OQ), upper);
                b[c] = (VEC)_mm512_mask_mov_ps((__m512)b[c], _mm512_cmp_ps_mask((__m512)b[c], lower, _CMP_LT_OQ), lower);
                b[c] = (VEC)_mm512_mask_mov_ps((__m512)b[c], _mm512_cmp_ps_mask((__m512)b[c], upper, _CMP_GT_OQ), upper);
            }
        }
        __m512 value[2];
        __m512i position[2];
        for (int c = 0; c < 2; c++) {
            __m512 best = (__m512)a[2 * c];
            __m512i at = _mm512_setzero_si512();
            WINO_POOL_TAP(a[2 * c + 1], 1);
            WINO_POOL_TAP(b[2 * c], (int)width);
            WINO_POOL_TAP(b[2 * c + 1], (int)width + 1);
            value[c] = best;
            // origin + 2p·width + 4·tile + 2c + the tap's offset (< 2³¹, checked by the caller).
            position[c] = _mm512_add_epi32(_mm512_add_epi32(origin, column),
                                           _mm512_add_epi32(at, _mm512_set1_epi32((int)(2 * p * width) + 2 * c)));
        }
        for (int row = 0; row < 2; row++) {
            if (p >= (row ? pairs1 : pairs0)) continue;
            const __m512i order = row ? second : first;
            float *dst = (row ? p1 : p0) + p * ldp;
            _mm512_mask_storeu_ps(dst, stored, _mm512_permutex2var_ps(value[0], order, value[1]));
            long *idx = row ? i1 : i0;
            if (idx) {
                const __m512i at = _mm512_permutex2var_epi32(position[0], order, position[1]);
                idx += p * ldp;
                _mm512_mask_storeu_epi64(idx, (__mmask8)stored, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(at)));
                _mm512_mask_storeu_epi64(idx + 8, (__mmask8)(stored >> 8), _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 1)));
            }
        }
    }
}
#undef WINO_POOL_TAP

// Four tile rows of at most 4 tiles each in one pass (outputs at most 16 wide: the course CNN's
// 14² layer, whose rows of 4 tiles filled half the lanes even in pairs): lane 4·r + t holds tile
// t of row r. A row's patch columns 0 … 15 (from −left) give e[0 … 3] through DEINTERLEAVE4 as
// for the pairs; its columns 4t + 4 and 4t + 5 of the last tile lie past those 16 floats, so e[4]
// and e[5] come from a second load of each row two columns on (columns 2 … 17), as its columns
// 4t + 2 and 4t + 3. Results are compressed to the 4·n consecutive columns of the four rows.
static inline __mmask16 wino_quad_lanes(size_t n) { return (__mmask16)(((1u << n) - 1) * 0x1111u); }

// Column x of the four rows' transformed tiles (u[y], point 6·y + x) to v[ξ·vplane + 0 … 4·tiles).
__attribute__((target("avx512f")))
static inline void wino_store_quad_16(const VEC *u, int x, size_t tiles, float *v, size_t vplane) {
    const __mmask16 lanes = wino_quad_lanes(tiles), stored = (__mmask16)((1u << (4 * tiles)) - 1);
    for (int y = 0; y < 6; y++)
        _mm512_mask_storeu_ps(v + (size_t)(y * 6 + x) * vplane, stored, _mm512_maskz_compress_ps(lanes, (__m512)u[y]));
}

// Row top[r] + i of each of the four planes, 16 floats from column `col` (zeros outside).
__attribute__((target("avx512f")))
static inline void wino_quad_rows(const float *const *plane, const ptrdiff_t *top, size_t height, size_t width, int i,
                                  ptrdiff_t col, VEC z[4]) {
    for (int r = 0; r < 4; r++) z[r] = (VEC)wino_part_16(plane[r], height, width, top[r] + i, col);
}

__attribute__((target("avx512f")))
static void wino_input_quad_16(const float *const *plane, const ptrdiff_t *top, size_t height, size_t width, ptrdiff_t left,
                               size_t tiles, float *v, size_t vplane) {
    VEC rows[6][6];
    for (int i = 0; i < 6; i++) {
        VEC e[6], z[4], s[4];
        wino_quad_rows(plane, top, height, width, i, -left, z);
        wino_quad_rows(plane, top, height, width, i, 2 - left, s);
        const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];
        DEINTERLEAVE4();
        e[4] = __builtin_shufflevector(PICK4(s[0], s[1], 2), PICK4(s[2], s[3], 2), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        e[5] = __builtin_shufflevector(PICK4(s[0], s[1], 3), PICK4(s[2], s[3], 3), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        WINO_BT(e, rows[i]);
    }
    for (int x = 0; x < 6; x++) {
        VEC col[6], u[6];
        for (int i = 0; i < 6; i++) col[i] = rows[i][x];
        WINO_BT(col, u);
        wino_store_quad_16(u, x, tiles, v, vplane);
    }
}

// The output-gradient transform of four tile rows of at most 4 tiles (a row's 16 floats are its
// 4 tiles' columns).
__attribute__((target("avx512f")))
static void wino_gradient_quad_16(const float *const *plane, const ptrdiff_t *top, size_t height, size_t width, size_t tiles,
                                  float *v, size_t vplane) {
    VEC rows[4][6];
    for (int i = 0; i < 4; i++) {
        VEC e[4], z[4];
        wino_quad_rows(plane, top, height, width, i, 0, z);
        const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];
        DEINTERLEAVE4();
        WINO_A(e, rows[i]);
    }
    for (int x = 0; x < 6; x++) {
        VEC col[4], u[6];
        for (int i = 0; i < 4; i++) col[i] = rows[i][x];
        WINO_A(col, u);
        wino_store_quad_16(u, x, tiles, v, vplane);
    }
}

// The output transform of four tile rows of at most 4 tiles: after INTERLEAVE, q[r] is row r's
// 16 outputs in order.
__attribute__((target("avx512f")))
static void wino_output_quad_16(const float *m, size_t plane, size_t tiles, float bias, float *const *y, const size_t *rows,
                                size_t ldy, size_t cols) {
    const __mmask16 lanes = wino_quad_lanes(tiles), loaded = (__mmask16)((1u << (4 * tiles)) - 1);
    VEC cols4[4][6];
    for (int x = 0; x < 6; x++) {
        VEC mm[6], o[4];
        for (int yy = 0; yy < 6; yy++)
            mm[yy] = (VEC)_mm512_maskz_expand_ps(lanes, _mm512_maskz_loadu_ps(loaded, m + (size_t)(yy * 6 + x) * plane));
        WINO_AT(mm, o);
        for (int r = 0; r < 4; r++) cols4[r][x] = o[r];
    }
    const size_t width = cols < 4 * tiles ? cols : 4 * tiles;
    const __mmask16 stored = (__mmask16)((1u << width) - 1);
    for (size_t r = 0; r < 4 && (r < rows[0] || r < rows[1] || r < rows[2] || r < rows[3]); r++) {
        VEC o[4], q[4];
        WINO_AT(cols4[r], o);
        for (int c = 0; c < 4; c++) o[c] += bias;
        INTERLEAVE();
        for (int k = 0; k < 4; k++)
            if (r < rows[k]) _mm512_mask_storeu_ps(y[k] + r * ldy, stored, (__m512)q[k]);
    }
}
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

// Asks for rows top … top + count − 1 of the plane `ahead` planes further on (the same tile row
// of a later channel, which the callers transform once they have done this channel's rows of
// the block), one prefetch per cache line. The rows of one call are too short for the hardware
// prefetcher to follow (6 streams of a few lines), so its loads waited on memory: 40 % of the
// input transform's samples in a ResNet-18 training step. Two planes ahead, the 32×64×56² → 64
// forward, input and weight gradient passes ran 7-9 % faster (benchmark --breakdown, A/B
// 2026-12-04); without it the two-row transform ran 32×128×28² → 128 8 % slower than the
// single-row one with it (A/B, 2026-12-05). Prefetches never fault, so planes past the last one
// are harmless.
static void wino_prefetch_rows(const float *plane, size_t height, size_t width, ptrdiff_t top, int count, size_t ahead) {
    const float *next = plane + ahead * height * width;
    for (int i = 0; i < count; i++) {
        const ptrdiff_t yy = top + i;
        if (yy < 0 || yy >= (ptrdiff_t)height) continue;
        const char *row = (const char *)(next + yy * (ptrdiff_t)width);
        for (size_t b = 0; b < width * sizeof(float); b += 64) __builtin_prefetch(row + b, 0, 3);
        __builtin_prefetch(row + width * sizeof(float) - 1, 0, 3);
    }
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

size_t ck_wino_pair_tiles(int level) { return level == 2 ? 7 : 0; }

int ck_wino_input_pair(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                       size_t width, ptrdiff_t left, size_t tiles, float *v, size_t vplane) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 7) {
        wino_prefetch_rows(plane0, height, width, top0, 6, 2);
        wino_prefetch_rows(plane1, height, width, top1, 6, 2);
        wino_input_pair_16(plane0, top0, plane1, top1, height, width, left, tiles, v, vplane);
        return 1;
    }
#endif
    (void)level; (void)plane0; (void)top0; (void)plane1; (void)top1; (void)height; (void)width; (void)left; (void)tiles;
    (void)v; (void)vplane;
    return 0;
}

int ck_wino_gradient_pair(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                          size_t width, size_t tiles, float *v, size_t vplane) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 7) {
        wino_prefetch_rows(plane0, height, width, top0, 4, 2);
        wino_prefetch_rows(plane1, height, width, top1, 4, 2);
        wino_gradient_pair_16(plane0, top0, plane1, top1, height, width, tiles, v, vplane);
        return 1;
    }
#endif
    (void)level; (void)plane0; (void)top0; (void)plane1; (void)top1; (void)height; (void)width; (void)tiles; (void)v; (void)vplane;
    return 0;
}

int ck_wino_output_pair(int level, const float *m, size_t plane, size_t tiles, float bias, float *y0, size_t rows0,
                        float *y1, size_t rows1, size_t ldy, size_t cols) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 7) {
        wino_output_pair_16(m, plane, tiles, bias, y0, rows0, y1, rows1, ldy, cols);
        return 1;
    }
#endif
    (void)level; (void)m; (void)plane; (void)tiles; (void)bias; (void)y0; (void)rows0; (void)y1; (void)rows1; (void)ldy; (void)cols;
    return 0;
}

int ck_wino_output_pair_pooled(int level, const float *m, size_t plane, size_t tiles, float bias, const float *bounds,
                               float *p0, long *i0, long origin0, size_t pairs0, float *p1, long *i1, long origin1,
                               size_t pairs1, size_t ldp, size_t width) {
#if defined(__x86_64__) || defined(__i386__)
    const long last = (origin0 > origin1 ? origin0 : origin1) + 4 * (long)width;
    if (level == 2 && tiles >= 1 && tiles <= 7 && width >= 2 && origin0 >= 0 && origin1 >= 0 && last < (1L << 31)) {
        wino_output_pair_pooled_16(m, plane, tiles, bias, bounds, p0, i0, origin0, pairs0, p1, i1, origin1, pairs1, ldp, width);
        return 1;
    }
#endif
    (void)level; (void)m; (void)plane; (void)tiles; (void)bias; (void)bounds; (void)p0; (void)i0; (void)origin0; (void)pairs0;
    (void)p1; (void)i1; (void)origin1; (void)pairs1; (void)ldp; (void)width;
    return 0;
}

size_t ck_wino_quad_tiles(int level) { return level == 2 ? 4 : 0; }

int ck_wino_input_quad(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1,
                       const float *plane2, ptrdiff_t top2, const float *plane3, ptrdiff_t top3, size_t height, size_t width,
                       ptrdiff_t left, size_t tiles, float *v, size_t vplane) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 4) {
        const float *planes[4] = {plane0, plane1, plane2, plane3};
        const ptrdiff_t tops[4] = {top0, top1, top2, top3};
        for (int r = 0; r < 4; r++) wino_prefetch_rows(planes[r], height, width, tops[r], 6, 2);
        wino_input_quad_16(planes, tops, height, width, left, tiles, v, vplane);
        return 1;
    }
#endif
    (void)level; (void)plane0; (void)top0; (void)plane1; (void)top1; (void)plane2; (void)top2; (void)plane3; (void)top3;
    (void)height; (void)width; (void)left; (void)tiles; (void)v; (void)vplane;
    return 0;
}

int ck_wino_gradient_quad(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1,
                          const float *plane2, ptrdiff_t top2, const float *plane3, ptrdiff_t top3, size_t height, size_t width,
                          size_t tiles, float *v, size_t vplane) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 4) {
        const float *planes[4] = {plane0, plane1, plane2, plane3};
        const ptrdiff_t tops[4] = {top0, top1, top2, top3};
        for (int r = 0; r < 4; r++) wino_prefetch_rows(planes[r], height, width, tops[r], 4, 2);
        wino_gradient_quad_16(planes, tops, height, width, tiles, v, vplane);
        return 1;
    }
#endif
    (void)level; (void)plane0; (void)top0; (void)plane1; (void)top1; (void)plane2; (void)top2; (void)plane3; (void)top3;
    (void)height; (void)width; (void)tiles; (void)v; (void)vplane;
    return 0;
}

int ck_wino_output_quad(int level, const float *m, size_t plane, size_t tiles, float bias, float *y0, size_t rows0,
                        float *y1, size_t rows1, float *y2, size_t rows2, float *y3, size_t rows3, size_t ldy, size_t cols) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && tiles >= 1 && tiles <= 4) {
        float *const ys[4] = {y0, y1, y2, y3};
        const size_t rows[4] = {rows0, rows1, rows2, rows3};
        wino_output_quad_16(m, plane, tiles, bias, ys, rows, ldy, cols);
        return 1;
    }
#endif
    (void)level; (void)m; (void)plane; (void)tiles; (void)bias; (void)y0; (void)rows0; (void)y1; (void)rows1; (void)y2;
    (void)rows2; (void)y3; (void)rows3; (void)ldy; (void)cols;
    return 0;
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
#define WINO_FILTER_PANEL(N)                                                                                \
    double g[9][16], gg[6][3][16];                                                                          \
    for (int t = 0; t < 9; t++)                                                                             \
        for (size_t l = 0; l < (N); l++) g[t][l] = l < lanes ? w[((k0 + l) * c + ci) * 9 + t] : 0;          \
    for (int col = 0; col < 3; col++)                                                                       \
        for (size_t l = 0; l < (N); l++) {                                                                  \
            const double g0 = g[col][l], g1 = g[3 + col][l], g2 = g[6 + col][l];                            \
            gg[0][col][l] = g0 / 4; gg[1][col][l] = -(g0 + g1 + g2) / 6; gg[2][col][l] = -(g0 - g1 + g2) / 6; \
            gg[3][col][l] = g0 / 24 + g1 / 12 + g2 / 6; gg[4][col][l] = g0 / 24 - g1 / 12 + g2 / 6;         \
            gg[5][col][l] = g2;                                                                             \
        }                                                                                                   \
    for (int row = 0; row < 6; row++) {                                                                     \
        float out[6][16];                                                                                   \
        for (size_t l = 0; l < (N); l++) {                                                                  \
            const double g0 = gg[row][0][l], g1 = gg[row][1][l], g2 = gg[row][2][l];                        \
            out[0][l] = (float)(g0 / 4); out[1][l] = (float)(-(g0 + g1 + g2) / 6);                          \
            out[2][l] = (float)(-(g0 - g1 + g2) / 6); out[3][l] = (float)(g0 / 24 + g1 / 12 + g2 / 6);      \
            out[4][l] = (float)(g0 / 24 - g1 / 12 + g2 / 6); out[5][l] = (float)g2;                         \
        }                                                                                                   \
        for (int j = 0; j < 6; j++) memcpy(dst + (size_t)(row * 6 + j) * kp * c, out[j], lanes * sizeof(float)); \
    }

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f")))
static void wino_filter_panel_16(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t kp, float *dst) {
    WINO_FILTER_PANEL(16)
}
__attribute__((target("avx2")))
static void wino_filter_panel_8(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t kp, float *dst) {
    WINO_FILTER_PANEL(8)
}
#endif
// Without vector kernels the panels are single filters (mr = 1): no lanes past `lanes`.
static void wino_filter_panel(const float *w, size_t k0, size_t lanes, size_t c, size_t ci, size_t kp, float *dst) {
    WINO_FILTER_PANEL(lanes)
}

void ck_wino_filters(const float *w, size_t k0, size_t k1, size_t c, size_t kp, size_t mr, float *u) {
    const int level = ck_gemm_level();
    // Runs of filters within one mr-row panel, at most a panel function's N at a time.
    for (size_t k = k0; k < k1;) {
        const size_t panelEnd = (k / mr + 1) * mr, end = k1 < panelEnd ? k1 : panelEnd;
        const size_t width = level == 1 ? 8 : 16, lanes = end - k < width ? end - k : width;
        for (size_t ci = 0; ci < c; ci++) {
            float *dst = u + (k / mr * c + ci) * mr + k % mr;
#if defined(__x86_64__) || defined(__i386__)
            if (level == 2) { wino_filter_panel_16(w, k, lanes, c, ci, kp, dst); continue; }
            if (level == 1) { wino_filter_panel_8(w, k, lanes, c, ci, kp, dst); continue; }
#endif
            (void)level;
            wino_filter_panel(w, k, lanes, c, ci, kp, dst);
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

void ck_wino_filter_gradient(const float *m, size_t kcount, size_t k0, size_t k1, size_t c, float *dw) {
    // Gᵀ·M·G in double: G (6 × 3) is the filter transform's matrix (ck_wino_filters).
    static const double G[6][3] = {{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const size_t plane = kcount * c;
    for (size_t k = k0; k < k1; k++) {
        for (size_t ci = 0; ci < c; ci++) {
            const float *src = m + k * c + ci;
            double mg[6][3];  // M·G
            for (int r = 0; r < 6; r++)
                for (int j = 0; j < 3; j++) {
                    double s = 0;
                    for (int x = 0; x < 6; x++) s += (double)src[(size_t)(r * 6 + x) * plane] * G[x][j];
                    mg[r][j] = s;
                }
            float *out = dw + (k * c + ci) * 9;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    double s = 0;
                    for (int r = 0; r < 6; r++) s += G[r][i] * mg[r][j];
                    out[i * 3 + j] = (float)s;
                }
        }
    }
}
