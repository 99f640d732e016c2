#include "ConvKitMicroKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// AVX-512F: 12 × 32 tile, 24 zmm accumulators; A values broadcast from memory.
__attribute__((target("avx512f,fma")))
static void micro_avx512(size_t kc, const float *restrict a, const float *restrict b, size_t ldb, float *restrict c, size_t ldc) {
    __m512 acc[12][2];
    for (int i = 0; i < 12; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(b + p * ldb), b1 = _mm512_loadu_ps(b + p * ldb + 16);
        const float *ap = a + p * 12;
        for (int i = 0; i < 12; i++) {
            const __m512 ai = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < 12; i++) {
        float *ci = c + i * ldc;
        _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][0]));
        _mm512_storeu_ps(ci + 16, _mm512_add_ps(_mm512_loadu_ps(ci + 16), acc[i][1]));
    }
}

// AVX2 + FMA: a tile of `rows` × 16 (a constant after inlining: 6 for the full 6 × 16 tile,
// 12 ymm accumulators of 16 registers; 1…5 for the last row panel of an A whose height is
// not a multiple of 6, which computes and stores only those rows).
__attribute__((target("avx2,fma"), always_inline))
static inline void micro_avx2_rows(const int rows, size_t kc, const float *restrict a, const float *restrict b,
                                   size_t ldb, float *restrict c, size_t ldc, const float *restrict init) {
    __m256 acc[6][2];
    for (int i = 0; i < rows; i++) { acc[i][0] = init ? _mm256_set1_ps(init[i]) : _mm256_setzero_ps(); acc[i][1] = acc[i][0]; }
    for (size_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
        const float *ap = a + p * 6;
        for (int i = 0; i < rows; i++) {
            const __m256 ai = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *ci = c + i * ldc;
        if (init) {
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        } else {
            _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
            _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
        }
    }
}

__attribute__((target("avx2,fma")))
static void micro_avx2(size_t kc, const float *restrict a, const float *restrict b, size_t ldb, float *restrict c, size_t ldc,
                       const float *restrict init) {
    micro_avx2_rows(6, kc, a, b, ldb, c, ldc, init);
}

__attribute__((target("avx2,fma")))
static int micro_avx2_partial(int rows, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                              const float *init) {
    switch (rows) {
    case 1: micro_avx2_rows(1, kc, a, b, ldb, c, ldc, init); return 1;
    case 2: micro_avx2_rows(2, kc, a, b, ldb, c, ldc, init); return 1;
    case 3: micro_avx2_rows(3, kc, a, b, ldb, c, ldc, init); return 1;
    case 4: micro_avx2_rows(4, kc, a, b, ldb, c, ldc, init); return 1;
    case 5: micro_avx2_rows(5, kc, a, b, ldb, c, ldc, init); return 1;
    default: return 0;
    }
}

// AVX2 + FMA direct-convolution tile: `rows` (≤ 6) output channels × 16 consecutive output
// positions of a line, C[i][j] = init[i] + Σ_p a[p·6 + i] · x[off[p] + j]. The GEMM's B
// operand is read in place: row p (an input channel and kernel tap) starts `off[p]` floats
// into a padded copy of the input, so no column matrix is written or read.
__attribute__((target("avx2,fma"), always_inline))
static inline void conv_avx2_tile(const int rows, size_t kc, const float *restrict a, const int32_t *restrict off,
                                  const float *restrict x, float *restrict c, size_t ldc, const float *restrict init) {
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
                                   size_t c_line_stride, const float *init) {
    for (size_t l = 0; l < lines; l++) {
        const float *xl = x + l * x_line_stride;
        float *cl = c + l * c_line_stride;
        if (width >= 16) {
            for (size_t j = 0; j < width; j += 16) {
                const size_t j0 = j + 16 <= width ? j : width - 16;
                conv_avx2_tile(rows, kc, a, off, xl + j0, cl + j0, ldc, init);
            }
        } else {
            float tile[6 * 16];
            conv_avx2_tile(rows, kc, a, off, xl, tile, 16, init);
            for (int i = 0; i < rows; i++)
                for (size_t j = 0; j < width; j++) cl[i * ldc + j] = tile[i * 16 + j];
        }
    }
}

__attribute__((target("avx2,fma")))
static void conv_avx2(int rows, size_t kc, const float *a, const int32_t *off, const float *x, size_t x_line_stride,
                      size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride, const float *init) {
    switch (rows) {
    case 1: conv_avx2_lines(1, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    case 2: conv_avx2_lines(2, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    case 3: conv_avx2_lines(3, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    case 4: conv_avx2_lines(4, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    case 5: conv_avx2_lines(5, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    default: conv_avx2_lines(6, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
    }
}

// AVX-512F direct-convolution tile: `rows` (≤ 16) output channels × 16 consecutive output
// positions, one zmm accumulator per channel; per reduction step one load of the 16 inputs
// and `rows` FMAs with the weight broadcast from the packed panel (16 values per p). 16
// channels per panel fit the 32-, 64- and 128-channel layers exactly, where a 6-row panel
// left a partial one. Lines end in a masked tile instead of an overlapping one.
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_tile(const int rows, size_t kc, const float *restrict a, const int32_t *restrict off,
                                    const float *restrict x, float *restrict c, size_t ldc, const float *restrict init,
                                    __mmask16 mask) {
    __m512 acc[16];
    for (int i = 0; i < rows; i++) acc[i] = _mm512_set1_ps(init[i]);
    for (size_t p = 0; p < kc; p++) {
        const __m512 b = _mm512_loadu_ps(x + off[p]);
        const float *ap = a + p * 16;
        for (int i = 0; i < rows; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(ap[i]), b, acc[i]);
    }
    for (int i = 0; i < rows; i++) _mm512_mask_storeu_ps(c + i * ldc, mask, acc[i]);
}

// Whole lines of `width` outputs. Per line, tiles of 16 end in a masked one. When lines are
// short, the tiles run instead over the flat slab positions q = l·x_line_stride + j (line l
// reads x + q + off[p] in both cases) and skip only the x_line_stride − width junk positions
// between lines, storing each tile's lanes to the one to three output lines they belong to
// with masks: 28-wide lines of a 3 × 3 layer (30 in the slab) fill 92 % of the lanes
// instead of 28 / 32, 56-wide ones 97 % instead of 56 / 64.
__attribute__((target("avx512f"), always_inline))
static inline void conv_avx512_lines(const int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                                     size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc,
                                     size_t c_line_stride, const float *init) {
    const size_t per_line = lines * ((width + 15) / 16);
    const size_t flat = lines * x_line_stride - (x_line_stride - width);
    if ((flat + 15) / 16 < per_line) {
        for (size_t q0 = 0; q0 < flat; q0 += 16) {
            __m512 acc[16];
            for (int i = 0; i < rows; i++) acc[i] = _mm512_set1_ps(init[i]);
            for (size_t p = 0; p < kc; p++) {
                const __m512 b = _mm512_loadu_ps(x + q0 + off[p]);
                const float *ap = a + p * 16;
                for (int i = 0; i < rows; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(ap[i]), b, acc[i]);
            }
            // Lanes of line l are q in [l·xls, l·xls + width) ∩ [q0, q0 + 16); lane i of such a
            // q goes to c + l·c_line_stride + (q0 + i − l·xls).
            const size_t q1 = q0 + 16 < flat ? q0 + 16 : flat;
            for (size_t l = q0 / x_line_stride; l * x_line_stride < q1; l++) {
                const size_t lo = l * x_line_stride > q0 ? l * x_line_stride : q0;
                const size_t hi = l * x_line_stride + width < q1 ? l * x_line_stride + width : q1;
                if (lo >= hi) continue;
                const __mmask16 mask = (__mmask16)(((1u << (hi - lo)) - 1) << (lo - q0));
                float *base = c + l * c_line_stride + q0 - l * x_line_stride;
                for (int i = 0; i < rows; i++) _mm512_mask_storeu_ps(base + i * ldc, mask, acc[i]);
            }
        }
        return;
    }
    const __mmask16 tail = (__mmask16)((1u << (width % 16)) - 1);
    for (size_t l = 0; l < lines; l++) {
        const float *xl = x + l * x_line_stride;
        float *cl = c + l * c_line_stride;
        size_t j = 0;
        for (; j + 16 <= width; j += 16) conv_avx512_tile(rows, kc, a, off, xl + j, cl + j, ldc, init, 0xFFFF);
        if (j < width) conv_avx512_tile(rows, kc, a, off, xl + j, cl + j, ldc, init, tail);
    }
}

#define CK_CONV512_CASE(R) case R: conv_avx512_lines(R, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
__attribute__((target("avx512f")))
static void conv_avx512(int rows, size_t kc, const float *a, const int32_t *off, const float *x, size_t x_line_stride,
                        size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride, const float *init) {
    switch (rows) {
    CK_CONV512_CASE(1) CK_CONV512_CASE(2) CK_CONV512_CASE(3) CK_CONV512_CASE(4) CK_CONV512_CASE(5) CK_CONV512_CASE(6)
    CK_CONV512_CASE(7) CK_CONV512_CASE(8) CK_CONV512_CASE(9) CK_CONV512_CASE(10) CK_CONV512_CASE(11) CK_CONV512_CASE(12)
    CK_CONV512_CASE(13) CK_CONV512_CASE(14) CK_CONV512_CASE(15)
    default: conv_avx512_lines(16, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init); break;
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

#define CK_GRAD512_CASE(R) case R: grad_avx512_tile(R, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
__attribute__((target("avx512f")))
static void grad_avx512(int rows, size_t width, size_t lines, const float *x, const int32_t *off, size_t x_line,
                        const float *dyt, size_t ldt, float *c, size_t ldc) {
    switch (rows) {
    CK_GRAD512_CASE(1) CK_GRAD512_CASE(2) CK_GRAD512_CASE(3) CK_GRAD512_CASE(4) CK_GRAD512_CASE(5) CK_GRAD512_CASE(6)
    CK_GRAD512_CASE(7) CK_GRAD512_CASE(8) CK_GRAD512_CASE(9) CK_GRAD512_CASE(10) CK_GRAD512_CASE(11)
    default: grad_avx512_tile(12, width, lines, x, off, x_line, dyt, ldt, c, ldc); break;
    }
}
#undef CK_GRAD512_CASE

// AVX2 + FMA dot-product tile for C = A·Bᵀ with A (rows × k) and B (cols × k) both
// contiguous along k: 3 × 4 dot products accumulated 8 lanes at a time in 12 ymm registers
// (3 A rows + 1 B row loaded per step: 7 loads per 12 FMAs), reduced once at the end.
// Rows or columns past `rows`/`cols` repeat the last one and are not stored.
__attribute__((target("avx2,fma")))
static void dot_avx2(int rows, int cols, size_t k, float alpha, const float *a, size_t lda,
                     const float *b, size_t ldb, float *c, size_t ldc, int accumulate) {
    const float *a0 = a, *a1 = a + (rows > 1 ? lda : 0), *a2 = a + (rows > 2 ? 2 * lda : (rows > 1 ? lda : 0));
    const float *b0 = b, *b1 = b + (cols > 1 ? ldb : 0), *b2 = b + (cols > 2 ? 2 * ldb : (cols > 1 ? ldb : 0));
    const float *b3 = b + (cols > 3 ? 3 * ldb : (size_t)(cols - 1) * ldb);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00;
#define CK_DOT_STEP(LOAD_A, LOAD_B) do { \
        const __m256 x0 = LOAD_A(a0), x1 = LOAD_A(a1), x2 = LOAD_A(a2); \
        __m256 y = LOAD_B(b0); \
        c00 = _mm256_fmadd_ps(x0, y, c00); c10 = _mm256_fmadd_ps(x1, y, c10); c20 = _mm256_fmadd_ps(x2, y, c20); \
        y = LOAD_B(b1); \
        c01 = _mm256_fmadd_ps(x0, y, c01); c11 = _mm256_fmadd_ps(x1, y, c11); c21 = _mm256_fmadd_ps(x2, y, c21); \
        y = LOAD_B(b2); \
        c02 = _mm256_fmadd_ps(x0, y, c02); c12 = _mm256_fmadd_ps(x1, y, c12); c22 = _mm256_fmadd_ps(x2, y, c22); \
        y = LOAD_B(b3); \
        c03 = _mm256_fmadd_ps(x0, y, c03); c13 = _mm256_fmadd_ps(x1, y, c13); c23 = _mm256_fmadd_ps(x2, y, c23); \
    } while (0)
    size_t p = 0;
#define CK_LOAD(ptr) _mm256_loadu_ps((ptr) + p)
    for (; p + 8 <= k; p += 8) CK_DOT_STEP(CK_LOAD, CK_LOAD);
#undef CK_LOAD
    if (p < k) {
        // The last k % 8 values: masked loads read nothing past the end of a row.
        static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        const __m256i mask = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (k - p)));
#define CK_MLOAD(ptr) _mm256_maskload_ps((ptr) + p, mask)
        CK_DOT_STEP(CK_MLOAD, CK_MLOAD);
#undef CK_MLOAD
    }
#undef CK_DOT_STEP
    // Row i's four sums: two rounds of horizontal adds, then the two 128-bit halves.
    const __m256 r0 = _mm256_hadd_ps(_mm256_hadd_ps(c00, c01), _mm256_hadd_ps(c02, c03));
    const __m256 r1 = _mm256_hadd_ps(_mm256_hadd_ps(c10, c11), _mm256_hadd_ps(c12, c13));
    const __m256 r2 = _mm256_hadd_ps(_mm256_hadd_ps(c20, c21), _mm256_hadd_ps(c22, c23));
    const __m128 scale = _mm_set1_ps(alpha);
    __m128 sums[3];
    sums[0] = _mm_mul_ps(scale, _mm_add_ps(_mm256_castps256_ps128(r0), _mm256_extractf128_ps(r0, 1)));
    sums[1] = _mm_mul_ps(scale, _mm_add_ps(_mm256_castps256_ps128(r1), _mm256_extractf128_ps(r1, 1)));
    sums[2] = _mm_mul_ps(scale, _mm_add_ps(_mm256_castps256_ps128(r2), _mm256_extractf128_ps(r2, 1)));
    for (int i = 0; i < rows; i++) {
        float s[4];
        _mm_storeu_ps(s, sums[i]);
        float *ci = c + i * ldc;
        for (int j = 0; j < cols; j++) ci[j] = accumulate ? ci[j] + s[j] : s[j];
    }
}

// Ten independent accumulator chains hide the FMA latency (4 cycles × 2 ports).
__attribute__((target("avx512f,fma")))
static double peak_avx512(size_t iterations, float *sink) {
    __m512 acc[10];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 10; j++) acc[j] = _mm512_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++)
        for (int j = 0; j < 10; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    __m512 s = acc[0];
    for (int j = 1; j < 10; j++) s = _mm512_add_ps(s, acc[j]);
    *sink = _mm512_reduce_add_ps(s);
    return (double)iterations * 10 * 16 * 2;
}

__attribute__((target("avx2,fma")))
static double peak_avx2(size_t iterations, float *sink) {
    __m256 acc[10];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 10; j++) acc[j] = _mm256_set1_ps((float)j);
    for (size_t i = 0; i < iterations; i++)
        for (int j = 0; j < 10; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    __m256 s = acc[0];
    for (int j = 1; j < 10; j++) s = _mm256_add_ps(s, acc[j]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[7];
    return (double)iterations * 10 * 8 * 2;
}

static int detect_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}
#else
static int detect_level(void) { return 0; }
#endif

// CONVKIT_KERNELS=avx2 or =portable caps the level (tests and benchmarks of the other paths
// on a CPU that has more); it never raises it above what the CPU supports.
static int capped_level(void) {
    int level = detect_level();
    const char *cap = getenv("CONVKIT_KERNELS");
    if (cap && strcmp(cap, "avx2") == 0 && level > 1) level = 1;
    if (cap && strcmp(cap, "portable") == 0) level = 0;
    return level;
}

int ck_gemm_level(void) {
    static int level = -1;  // benign race: every thread computes the same value
    if (level < 0) level = capped_level();
    return level;
}

int ck_gemm_mr(int level) { return level == 2 ? 12 : (level == 1 ? 6 : 0); }
int ck_gemm_nr(int level) { return level == 2 ? 32 : (level == 1 ? 16 : 0); }

double ck_fma_peak_loop(int level, size_t iterations, float *sink) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) return peak_avx512(iterations, sink);
    if (level == 1) return peak_avx2(iterations, sink);
#endif
    // Scalar fallback: a few independent chains.
    float a = 0, b = 1, c = 2, d = 3;
    for (size_t i = 0; i < iterations; i++) {
        a = a * 0.999999f + 1e-7f; b = b * 0.999999f + 1e-7f; c = c * 0.999999f + 1e-7f; d = d * 0.999999f + 1e-7f;
    }
    *sink = a + b + c + d;
    (void)level;
    return (double)iterations * 4 * 2;
}

int ck_gemm_stores_tiles(int level) { return level == 1; }

void ck_gemm_micro(int level, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc, const float *init) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2) { micro_avx512(kc, a, b, ldb, c, ldc); return; }
    if (level == 1) { micro_avx2(kc, a, b, ldb, c, ldc, init); return; }
#endif
    (void)level; (void)kc; (void)a; (void)b; (void)ldb; (void)c; (void)ldc; (void)init;
}

int ck_dot_tile(int level, int rows, int cols, size_t k, float alpha, const float *a, size_t lda,
                const float *b, size_t ldb, float *c, size_t ldc, int accumulate) {
#if defined(__x86_64__) || defined(__i386__)
    // AVX-512 CPUs run the AVX2 tile (every one of them has AVX2 and FMA).
    if (level >= 1 && rows >= 1 && rows <= 3 && cols >= 1 && cols <= 4) {
        dot_avx2(rows, cols, k, alpha, a, lda, b, ldb, c, ldc, accumulate);
        return 1;
    }
#endif
    (void)level; (void)rows; (void)cols; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    return 0;
}

int ck_conv_mr(int level) { return level == 2 ? 16 : (level == 1 ? 6 : 0); }

int ck_conv_lines(int level, int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                  size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride,
                  const float *init) {
#if defined(__x86_64__) || defined(__i386__)
    if (rows < 1 || rows > ck_conv_mr(level)) return 0;
    if (level == 2) {
        conv_avx512(rows, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init);
        return 1;
    }
    if (level == 1) {
        conv_avx2(rows, kc, a, off, x, x_line_stride, lines, width, c, ldc, c_line_stride, init);
        return 1;
    }
#endif
    (void)level; (void)rows; (void)kc; (void)a; (void)off; (void)x; (void)x_line_stride; (void)lines; (void)width;
    (void)c; (void)ldc; (void)c_line_stride; (void)init;
    return 0;
}

int ck_conv_grad_rows(int level) { return level == 2 ? 12 : (level == 1 ? 6 : 0); }

int ck_conv_grad_lines(int level, int rows, size_t width, size_t lines, const float *x, const int32_t *off,
                       size_t x_line, const float *dyt, size_t ldt, float *c, size_t ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (rows < 1 || rows > ck_conv_grad_rows(level)) return 0;
    if (level == 2) {
        grad_avx512(rows, width, lines, x, off, x_line, dyt, ldt, c, ldc);
        return 1;
    }
    if (level == 1) {
        grad_avx2(rows, width, lines, x, off, x_line, dyt, ldt, c, ldc);
        return 1;
    }
#endif
    (void)level; (void)rows; (void)width; (void)lines; (void)x; (void)off; (void)x_line; (void)dyt; (void)ldt; (void)c;
    (void)ldc;
    return 0;
}

int ck_gemm_micro_rows(int level, int rows, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                       const float *init) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == 1) return micro_avx2_partial(rows, kc, a, b, ldb, c, ldc, init);
#endif
    (void)level; (void)rows; (void)kc; (void)a; (void)b; (void)ldb; (void)c; (void)ldc; (void)init;
    return 0;
}
