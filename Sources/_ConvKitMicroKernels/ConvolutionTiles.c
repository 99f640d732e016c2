#include "ConvKitMicroKernels.h"

// Direct-convolution tiles (forward and weight gradient) per instruction set, and their
// dispatch. The loops over lines, panels and batch items are Swift
// (_ConvKitKernels/Convolution+Direct.swift, Convolution+DirectWeightGradient.swift).

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// AVX2 + FMA direct-convolution tile: `rows` (≤ 6) output channels × 16 consecutive output
// positions of a line, C[i][j] = init[i] + Σ_p a[p·6 + i] · x[off[p] + j]. The GEMM's B
// operand is read in place: row p (an input channel and kernel tap) starts `off[p]` floats
// into a padded copy of the input, so no column matrix is written or read.
__attribute__((target("avx2,fma"), always_inline))
static inline void conv_avx2_tile(const int rows, size_t kc, const float *restrict a, const int32_t *restrict off,
                                  const float *restrict x, float *restrict c, size_t ldc, const float *restrict init,
                                  const float *restrict residual, const float *restrict bounds) {
    __m256 acc[6][2];
    for (int i = 0; i < rows; i++) { acc[i][0] = _mm256_set1_ps(init[i]); acc[i][1] = acc[i][0]; }
    for (size_t p = 0; p < kc; p++) {
        const float *xp = x + off[p];
        const __m256 b0 = _mm256_loadu_ps(xp), b1 = _mm256_loadu_ps(xp + 8);
        const float *ap = a + p * 6;
        for (int i = 0; i < rows; i++) {
            const __m256 ai = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    // The epilogue (see conv_avx512_epilogue): + residual (laid out as c), then the clamp.
    if (residual)
        for (int i = 0; i < rows; i++)
            for (int h = 0; h < 2; h++) acc[i][h] = _mm256_add_ps(acc[i][h], _mm256_loadu_ps(residual + i * ldc + 8 * h));
    if (bounds) {
        const __m256 lo = _mm256_set1_ps(bounds[0]), hi = _mm256_set1_ps(bounds[1]);
        for (int i = 0; i < rows; i++)
            for (int h = 0; h < 2; h++) acc[i][h] = _mm256_min_ps(hi, _mm256_max_ps(lo, acc[i][h]));
    }
    for (int i = 0; i < rows; i++) {
        _mm256_storeu_ps(c + i * ldc, acc[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
}

// Whole lines of `width` outputs: tiles of 16, the last one shifted left to end at the
// line's end (its overlap with the previous tile is computed twice, identically, and stored
// twice); lines narrower than 16 go through a scratch tile.
__attribute__((target("avx2,fma"), always_inline))
static inline void conv_avx2_lines(const int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                                   size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc,
                                   size_t c_line_stride, const float *init, const float *residual, const float *bounds) {
    for (size_t l = 0; l < lines; l++) {
        const float *xl = x + l * x_line_stride;
        float *cl = c + l * c_line_stride;
        const float *rl = residual ? residual + l * c_line_stride : NULL;
        if (width >= 16) {
            for (size_t j = 0; j < width; j += 16) {
                const size_t j0 = j + 16 <= width ? j : width - 16;
                conv_avx2_tile(rows, kc, a, off, xl + j0, cl + j0, ldc, init, rl ? rl + j0 : NULL, bounds);
            }
        } else {
            float tile[6 * 16];
            conv_avx2_tile(rows, kc, a, off, xl, tile, 16, init, NULL, NULL);
            for (int i = 0; i < rows; i++)
                for (size_t j = 0; j < width; j++) {
                    float v = tile[i * 16 + j];
                    if (rl) v += rl[i * ldc + j];
                    if (bounds) v = v < bounds[0] ? bounds[0] : (v > bounds[1] ? bounds[1] : v);
                    cl[i * ldc + j] = v;
                }
        }
    }
}

__attribute__((target("avx2,fma")))
static void conv_avx2(int rows, size_t kc, const float *a, const int32_t *off, const float *x, size_t x_line_stride,
                      size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride, const float *init,
                      const float *residual, const float *bounds) {
    switch (rows) {
    case 1: conv_avx2_lines(1, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    case 2: conv_avx2_lines(2, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    case 3: conv_avx2_lines(3, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    case 4: conv_avx2_lines(4, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    case 5: conv_avx2_lines(5, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    default: conv_avx2_lines(6, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    }
}

// AVX-512F direct-convolution tiles: `rows` (≤ 16) output channels × 16 consecutive output
// positions, one zmm accumulator per channel; per reduction step one load of the 16 inputs
// and `rows` FMAs with the weight broadcast from the packed panel (16 values per p). 16
// channels per panel fit the 32-, 64- and 128-channel layers exactly, where a 6-row panel
// left a partial one. Lines end in a masked tile instead of an overlapping one.
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_single(const int rows, size_t kc, const float *restrict a, const int32_t *restrict off,
                                      const float *restrict x, const float *restrict init, __m512 acc[16]) {
    for (int i = 0; i < rows; i++) acc[i] = _mm512_set1_ps(init[i]);
    for (size_t p = 0; p < kc; p++) {
        const __m512 b = _mm512_loadu_ps(x + off[p]);
        const float *ap = a + p * 16;
        for (int i = 0; i < rows; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(ap[i]), b, acc[i]);
    }
}

// The pair tile: `rows` (≤ 8) channels × two vectors of 16 positions (the second `second` floats
// after the first: the next 16 of a line, or the next line's), each broadcast weight
// serving two FMAs: 2 + rows loads per 2·rows FMAs instead of 1 + 16 per 16. A core that issues
// two 512-bit FMAs a cycle (Zen 5) waits on loads in the single tile (83 % of its peak in a C
// harness at 32 channels, against 97 % for pairs); a 16-channel panel runs as two halves.
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_pair(const int rows, size_t kc, const float *restrict a, const int32_t *restrict off,
                                    const float *restrict x, size_t second, const float *restrict init, __m512 acc[8][2]) {
    for (int i = 0; i < rows; i++) { acc[i][0] = _mm512_set1_ps(init[i]); acc[i][1] = acc[i][0]; }
    for (size_t p = 0; p < kc; p++) {
        const float *xp = x + off[p];
        const __m512 b0 = _mm512_loadu_ps(xp), b1 = _mm512_loadu_ps(xp + second);
        const float *ap = a + p * 16;
        for (int i = 0; i < rows; i++) {
            const __m512 w = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(w, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(w, b1, acc[i][1]);
        }
    }
}

// A block's epilogue in the registers before the stores: + the residual (laid out as c; masked
// lanes read nothing), then the clamp as max(lo, v), min(hi, v), so that NaN (the second operand)
// passes through and −0 stays — the values `ck_clamp` would give after the stores.
__attribute__((target("avx512f"), always_inline))
static inline __m512 conv_avx512_epilogue(__m512 v, const float *r, __mmask16 mask, const float *bounds) {
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r));
    if (bounds) v = _mm512_min_ps(_mm512_set1_ps(bounds[1]), _mm512_max_ps(_mm512_set1_ps(bounds[0]), v));
    return v;
}

// Stores the lanes of a tile over flat slab positions [q0, q0 + 16) ∩ [0, flat): lanes of line
// l are q in [l·xls, l·xls + width), and lane i of such a q goes to c + l·c_line_stride + (q0 + i − l·xls).
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_store_flat(const int rows, const __m512 *acc, size_t acc_stride, size_t q0, size_t flat,
                                          size_t x_line_stride, size_t width, float *c, size_t ldc, size_t c_line_stride,
                                          const float *residual, const float *bounds) {
    const size_t q1 = q0 + 16 < flat ? q0 + 16 : flat;
    for (size_t l = q0 / x_line_stride; l * x_line_stride < q1; l++) {
        const size_t lo = l * x_line_stride > q0 ? l * x_line_stride : q0;
        const size_t hi = l * x_line_stride + width < q1 ? l * x_line_stride + width : q1;
        if (lo >= hi) continue;
        const __mmask16 mask = (__mmask16)(((1u << (hi - lo)) - 1) << (lo - q0));
        const size_t at = l * c_line_stride + q0 - l * x_line_stride;
        for (int i = 0; i < rows; i++)
            _mm512_mask_storeu_ps(c + at + i * ldc, mask,
                                  conv_avx512_epilogue(acc[i * acc_stride], residual ? residual + at + i * ldc : NULL, mask, bounds));
    }
}

// Whole lines of `width` outputs in tiles of 16 per line (the last one masked), computed two
// at a time. When lines are short, the tiles run instead over the flat slab positions
// q = l·x_line_stride + j (line l reads x + q + off[p] in both cases) and skip only the
// x_line_stride − width junk positions between lines, storing each tile's lanes to the one to
// three output lines they belong to with masks: 28-wide lines of a 3 × 3 layer (29 floats in
// the slab, the padding shared) fill 96 % of the lanes instead of 28 / 32, 56-wide ones 98 %
// instead of 56 / 64. A pair's second vector is one a single tile would have computed too, so
// both read the same floats of the slab. Panels of more than 8 channels run as two halves.
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_lines(const int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                                     size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc,
                                     size_t c_line_stride, const float *init, const float *residual, const float *bounds) {
    const int h0 = rows > 8 ? (rows + 1) / 2 : rows, h1 = rows - h0;
    const size_t per_line = lines * ((width + 15) / 16);
    const size_t flat = lines * x_line_stride - (x_line_stride - width);
    if ((flat + 15) / 16 < per_line) {
        size_t q0 = 0;
        for (; q0 + 16 < flat; q0 += 32) {
            __m512 acc[8][2];
            for (int half = 0; half < (h1 > 0 ? 2 : 1); half++) {
                const int r0 = half ? h0 : 0;
                if (half) conv_avx512_pair(h1, kc, a + r0, off, x + q0, 16, init + r0, acc);
                else conv_avx512_pair(h0, kc, a, off, x + q0, 16, init, acc);
                const int n = half ? h1 : h0;
                const float *r = residual ? residual + r0 * ldc : NULL;
                conv_avx512_store_flat(n, &acc[0][0], 2, q0, flat, x_line_stride, width, c + r0 * ldc, ldc, c_line_stride, r, bounds);
                conv_avx512_store_flat(n, &acc[0][1], 2, q0 + 16, flat, x_line_stride, width, c + r0 * ldc, ldc, c_line_stride, r,
                                       bounds);
            }
        }
        if (q0 < flat) {
            __m512 acc[16];
            conv_avx512_single(rows, kc, a, off, x + q0, init, acc);
            conv_avx512_store_flat(rows, acc, 1, q0, flat, x_line_stride, width, c, ldc, c_line_stride, residual, bounds);
        }
        return;
    }
    // Line by line: the line's tiles of 16 (the last one masked), taken two at a time across
    // line ends (14-wide lines: two lines per pair).
    const __mmask16 tail = (__mmask16)((1u << (width % 16)) - 1);
    const size_t per = (width + 15) / 16, total = lines * per;
    size_t t = 0;
    for (; t + 1 < total; t += 2) {
        const size_t l0 = t / per, j0 = (t % per) * 16, l1 = (t + 1) / per, j1 = ((t + 1) % per) * 16;
        const size_t x0 = l0 * x_line_stride + j0, x1 = l1 * x_line_stride + j1;
        const __mmask16 m0 = j0 + 16 <= width ? 0xFFFF : tail, m1 = j1 + 16 <= width ? 0xFFFF : tail;
        float *c0 = c + l0 * c_line_stride + j0, *c1 = c + l1 * c_line_stride + j1;
        __m512 acc[8][2];
        for (int half = 0; half < (h1 > 0 ? 2 : 1); half++) {
            const int r0 = half ? h0 : 0, n = half ? h1 : h0;
            if (half) conv_avx512_pair(h1, kc, a + r0, off, x + x0, x1 - x0, init + r0, acc);
            else conv_avx512_pair(h0, kc, a, off, x + x0, x1 - x0, init, acc);
            for (int i = 0; i < n; i++) {
                const size_t o0 = (c0 - c) + (r0 + i) * ldc, o1 = (c1 - c) + (r0 + i) * ldc;
                _mm512_mask_storeu_ps(c + o0, m0, conv_avx512_epilogue(acc[i][0], residual ? residual + o0 : NULL, m0, bounds));
                _mm512_mask_storeu_ps(c + o1, m1, conv_avx512_epilogue(acc[i][1], residual ? residual + o1 : NULL, m1, bounds));
            }
        }
    }
    if (t < total) {
        const size_t l = t / per, j = (t % per) * 16;
        __m512 acc[16];
        conv_avx512_single(rows, kc, a, off, x + l * x_line_stride + j, init, acc);
        const __mmask16 mask = j + 16 <= width ? 0xFFFF : tail;
        for (int i = 0; i < rows; i++) {
            const size_t o = l * c_line_stride + j + i * ldc;
            _mm512_mask_storeu_ps(c + o, mask, conv_avx512_epilogue(acc[i], residual ? residual + o : NULL, mask, bounds));
        }
    }
}

#define CK_CONV512_CASE(R) case R: conv_avx512_lines(R, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
__attribute__((target("avx512f")))
static void conv_avx512(int rows, size_t kc, const float *a, const int32_t *off, const float *x, size_t x_line_stride,
                        size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride, const float *init,
                        const float *residual, const float *bounds) {
    switch (rows) {
    CK_CONV512_CASE(1) CK_CONV512_CASE(2) CK_CONV512_CASE(3) CK_CONV512_CASE(4) CK_CONV512_CASE(5) CK_CONV512_CASE(6)
    CK_CONV512_CASE(7) CK_CONV512_CASE(8) CK_CONV512_CASE(9) CK_CONV512_CASE(10) CK_CONV512_CASE(11) CK_CONV512_CASE(12)
    CK_CONV512_CASE(13) CK_CONV512_CASE(14) CK_CONV512_CASE(15)
    default: conv_avx512_lines(16, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds); break;
    }
}
#undef CK_CONV512_CASE

// AVX2 + FMA weight-gradient tile of a direct convolution: `rows` (≤ 6) rows of the implicit
// column matrix × 16 output channels, C[i][j] += Σ_l Σ_q x[off[i] + l·x_line + q] · dyt[(l·width + q)·ldt + j]:
// the column values are broadcast from the padded input, the output gradient is read
// transposed (positions × channels), and the reduction over positions stays in registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void grad_avx2_tile(const int rows, size_t width, size_t lines, const float *restrict x,
                                  const int32_t *restrict off, size_t x_line, const float *restrict dyt, size_t ldt,
                                  float *restrict c, size_t ldc) {
    __m256 acc[6][2];
    const float *xr[6];
    for (int i = 0; i < rows; i++) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = acc[i][0]; xr[i] = x + off[i]; }
    for (size_t l = 0; l < lines; l++) {
        const float *d = dyt + l * width * ldt;
        for (size_t q = 0; q < width; q++) {
            const __m256 b0 = _mm256_loadu_ps(d + q * ldt), b1 = _mm256_loadu_ps(d + q * ldt + 8);
            for (int i = 0; i < rows; i++) {
                const __m256 ai = _mm256_broadcast_ss(xr[i] + q);
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        for (int i = 0; i < rows; i++) xr[i] += x_line;
    }
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
        _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
    }
}

__attribute__((target("avx2,fma")))
static void grad_avx2(int rows, size_t width, size_t lines, const float *x, const int32_t *off, size_t x_line,
                      const float *dyt, size_t ldt, float *c, size_t ldc) {
    switch (rows) {
    case 1: grad_avx2_tile(1, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    case 2: grad_avx2_tile(2, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    case 3: grad_avx2_tile(3, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    case 4: grad_avx2_tile(4, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    case 5: grad_avx2_tile(5, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    default: grad_avx2_tile(6, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    }
}

// AVX-512F weight-gradient tile: `rows` (≤ 12) column-matrix rows × 16 output channels, one
// zmm accumulator per row; per position one load of the 16 channels' output gradient and
// `rows` FMAs with the input value broadcast from memory. Twice the rows of the AVX2 tile,
// so each output-gradient load serves twice as many FMAs.
__attribute__((target("avx512f"), always_inline))
static inline void grad_avx512_tile(const int rows, size_t width, size_t lines, const float *restrict x,
                                    const int32_t *restrict off, size_t x_line, const float *restrict dyt, size_t ldt,
                                    float *restrict c, size_t ldc) {
    __m512 acc[12];
    const float *xr[12];
    for (int i = 0; i < rows; i++) { acc[i] = _mm512_setzero_ps(); xr[i] = x + off[i]; }
    for (size_t l = 0; l < lines; l++) {
        const float *d = dyt + l * width * ldt;
        for (size_t q = 0; q < width; q++) {
            const __m512 b = _mm512_loadu_ps(d + q * ldt);
            for (int i = 0; i < rows; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(xr[i][q]), b, acc[i]);
        }
        for (int i = 0; i < rows; i++) xr[i] += x_line;
    }
    for (int i = 0; i < rows; i++) _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), acc[i]));
}

// The same for 32 output channels (two panels): each broadcast input value serves two FMAs,
// 2 + rows loads per 2·rows FMAs instead of 1 + rows per rows (88 % → 100 % of a Zen 5 core's
// peak in a C harness at 32 channels).
__attribute__((target("avx512f"), always_inline))
static inline void grad_avx512_pair(const int rows, size_t width, size_t lines, const float *restrict x,
                                    const int32_t *restrict off, size_t x_line, const float *restrict dyt, size_t ldt,
                                    float *restrict c, size_t ldc) {
    __m512 acc[12][2];
    const float *xr[12];
    for (int i = 0; i < rows; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = acc[i][0]; xr[i] = x + off[i]; }
    for (size_t l = 0; l < lines; l++) {
        const float *d = dyt + l * width * ldt;
        for (size_t q = 0; q < width; q++) {
            const __m512 b0 = _mm512_loadu_ps(d + q * ldt), b1 = _mm512_loadu_ps(d + q * ldt + 16);
            for (int i = 0; i < rows; i++) {
                const __m512 v = _mm512_set1_ps(xr[i][q]);
                acc[i][0] = _mm512_fmadd_ps(v, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(v, b1, acc[i][1]);
            }
        }
        for (int i = 0; i < rows; i++) xr[i] += x_line;
    }
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][0]));
        _mm512_storeu_ps(ci + 16, _mm512_add_ps(_mm512_loadu_ps(ci + 16), acc[i][1]));
    }
}

#define CK_GRAD512_CASE(R) case R: if (panels == 2) grad_avx512_pair(R, width, lines, x, off, x_line, dyt, ldt, c, ldc); \
    else grad_avx512_tile(R, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
__attribute__((target("avx512f")))
static void grad_avx512(int rows, int panels, size_t width, size_t lines, const float *x, const int32_t *off, size_t x_line,
                        const float *dyt, size_t ldt, float *c, size_t ldc) {
    switch (rows) {
    CK_GRAD512_CASE(1) CK_GRAD512_CASE(2) CK_GRAD512_CASE(3) CK_GRAD512_CASE(4) CK_GRAD512_CASE(5) CK_GRAD512_CASE(6)
    CK_GRAD512_CASE(7) CK_GRAD512_CASE(8) CK_GRAD512_CASE(9) CK_GRAD512_CASE(10) CK_GRAD512_CASE(11)
    default:
        if (panels == 2) grad_avx512_pair(12, width, lines, x, off, x_line, dyt, ldt, c, ldc);
        else grad_avx512_tile(12, width, lines, x, off, x_line, dyt, ldt, c, ldc);
        break;
    }
}
#undef CK_GRAD512_CASE
#endif

int ck_conv_mr(int level) { return level == 2 ? 16 : (level == 1 ? 6 : 0); }

int ck_conv_lines(int level, int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                  size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride,
                  const float *init, const float *residual, const float *bounds) {
#if defined(__x86_64__) || defined(__i386__)
    if (rows < 1 || rows > ck_conv_mr(level)) return 0;
    if (level == 2) {
        conv_avx512(rows, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds);
        return 1;
    }
    if (level == 1) {
        conv_avx2(rows, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init, residual, bounds);
        return 1;
    }
#endif
    (void)level; (void)rows; (void)kc; (void)a; (void)off; (void)x; (void)x_line_stride; (void)lines; (void)width;
    (void)c; (void)ldc; (void)c_line_stride; (void)init; (void)residual; (void)bounds;
    return 0;
}

int ck_conv_grad_rows(int level) { return level == 2 ? 12 : (level == 1 ? 6 : 0); }

int ck_conv_grad_lines(int level, int rows, int panels, size_t width, size_t lines, const float *x, const int32_t *off,
                       size_t x_line, const float *dyt, size_t ldt, float *c, size_t ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (rows < 1 || rows > ck_conv_grad_rows(level) || panels < 1 || panels > 2) return 0;
    if (level == 2) {
        grad_avx512(rows, panels, width, lines, x, off, x_line, dyt, ldt, c, ldc);
        return 1;
    }
    if (level == 1) {
        for (int panel = 0; panel < panels; panel++)
            grad_avx2(rows, width, lines, x, off, x_line, dyt + panel * 16, ldt, c + panel * 16, ldc);
        return 1;
    }
#endif
    (void)level; (void)rows; (void)panels; (void)width; (void)lines; (void)x; (void)off; (void)x_line; (void)dyt; (void)ldt;
    (void)c; (void)ldc;
    return 0;
}
