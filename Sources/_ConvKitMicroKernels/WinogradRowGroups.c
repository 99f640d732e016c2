#include "ConvKitMicroKernels.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include "WinogradMath.h"
#include "WinogradLanes16.h"
#include "WinogradRows.h"

// Winograd F(4×4, 3×3) transforms of several tile rows in one pass on AVX-512 (two rows of at
// most 7 tiles, four of at most 4: rows of 28 and 14 outputs filled 44 % and 25 % of the 16
// lanes alone), and the output transform that max-pools in its registers. The single-row
// transforms of every level, the filter transforms and the matrices: Winograd.c.

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

// Column x of a row group's transformed tiles (u[y], point 6·y + x) to v[ξ·vplane + 0 … count):
// the `lanes` holding the group's tiles compressed to `count` consecutive columns.
__attribute__((target("avx512f")))
static inline void wino_store_lanes_16(const VEC *u, int x, __mmask16 lanes, size_t count, float *v, size_t vplane) {
    const __mmask16 stored = (__mmask16)((1u << count) - 1);
    for (int y = 0; y < 6; y++)
        _mm512_mask_storeu_ps(v + (size_t)(y * 6 + x) * vplane, stored, _mm512_maskz_compress_ps(lanes, (__m512)u[y]));
}

// Column x of both rows' transformed tiles to v[ξ·vplane + 0 … 2·tiles].
__attribute__((target("avx512f")))
static inline void wino_store_pair_16(const VEC *u, int x, size_t tiles, float *v, size_t vplane) {
    wino_store_lanes_16(u, x, wino_pair_lanes(tiles), 2 * tiles, v, vplane);
}

// Row top0 + i of plane0 (z[0], z[1]: 32 floats from column `col`) and row top1 + i of plane1
// (z[2], z[3]), zeros outside the planes.
__attribute__((target("avx512f")))
static inline void wino_pair_rows(const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                                  size_t width, int i, ptrdiff_t col, VEC z[4]) {
    z[0] = (VEC)wino_part_16(plane0, height, width, top0 + i, col);
    z[1] = (VEC)wino_part_16(plane0, height, width, top0 + i, col + 16);
    z[2] = (VEC)wino_part_16(plane1, height, width, top1 + i, col);
    z[3] = (VEC)wino_part_16(plane1, height, width, top1 + i, col + 16);
}

// Each of the 6 columns of a group's row-transformed tiles (`ROWS` rows of `rows`) through
// `TRANSFORM`, its 6 results stored by `STORE` (the pair's or the quad's compressing store).
#define WINO_GROUP_COLUMNS(ROWS, TRANSFORM, STORE) do { \
    for (int x = 0; x < 6; x++) { \
        VEC col[ROWS], u[6]; \
        for (int i = 0; i < (ROWS); i++) col[i] = rows[i][x]; \
        TRANSFORM(col, u); \
        STORE(u, x, tiles, v, vplane); \
    } \
} while (0)

__attribute__((target("avx512f")))
static void wino_input_pair_16(const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                               size_t width, ptrdiff_t left, size_t tiles, float *v, size_t vplane) {
    VEC rows[6][6];
    for (int i = 0; i < 6; i++) {
        VEC e[6], z[4];
        wino_pair_rows(plane0, top0, plane1, top1, height, width, i, -left, z);
        const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3], z4 = (VEC){0};
        DEINTERLEAVE();
        WINO_BT(e, rows[i]);
    }
    WINO_GROUP_COLUMNS(6, WINO_BT, wino_store_pair_16);
}

// The output-gradient transform of two tile rows in one pass (rows top0 … of plane0 and top1 …
// of plane1), as `wino_input_pair_16` does for the input: a patch row of at most 7 tiles is at
// most 28 floats.
__attribute__((target("avx512f")))
static void wino_gradient_pair_16(const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                                  size_t width, size_t tiles, float *v, size_t vplane) {
    VEC rows[4][6];
    for (int i = 0; i < 4; i++) {
        VEC e[4], z[4];
        wino_pair_rows(plane0, top0, plane1, top1, height, width, i, 0, z);
        const VEC z0 = z[0], z1 = z[1], z2 = z[2], z3 = z[3];
        DEINTERLEAVE4();
        WINO_A(e, rows[i]);
    }
    WINO_GROUP_COLUMNS(4, WINO_A, wino_store_pair_16);
}

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

// The output transform of two tile rows (their 2·tiles products one after another in m), rows
// 0..<rows0 of y0 and 0..<rows1 of y1, columns 0..<cols.
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
    wino_store_lanes_16(u, x, wino_quad_lanes(tiles), 4 * tiles, v, vplane);
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
    WINO_GROUP_COLUMNS(6, WINO_BT, wino_store_quad_16);
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
    WINO_GROUP_COLUMNS(4, WINO_A, wino_store_quad_16);
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
