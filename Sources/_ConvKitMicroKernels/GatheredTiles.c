#include "ConvKitMicroKernels.h"

// Gathered direct-convolution tiles: output channels on the vector lanes, output positions
// broadcast one at a time from wherever they are in the padded input of the whole batch. The
// loops over panels, groups and batch items are Swift (_ConvKitKernels/Convolution+Gathered.swift).

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// Bias of a panel, zero past `cols` (and everywhere without one).
static inline void gather_init(int cols, int width, const float *init, float *out) {
    for (int o = 0; o < width; o++) out[o] = init && o < cols ? init[o] : 0.0f;
}

// Scatters a tile of `rn` positions × `cols` channels (`tile` rows `width` floats apart) to
// NCHW, clamped to [clamp[0], clamp[1]] when `clamp` is not NULL (NaN fails both comparisons and
// passes, as it does through ClampKernel): position q of the pass is item q / plane, offset
// q % plane; channel o is a plane further.
static inline void gather_store(const float *tile, int width, size_t t, size_t rn, int cols, float *y, size_t plane,
                                size_t y_item, const float *clamp) {
    for (size_t r = 0; r < rn; r++) {
        const size_t q = t + r;
        float *yq = y + (q / plane) * y_item + q % plane;
        for (int o = 0; o < cols; o++) {
            float v = tile[r * (size_t)width + (size_t)o];
            if (clamp) v = v < clamp[0] ? clamp[0] : (v > clamp[1] ? clamp[1] : v);
            yq[(size_t)o * plane] = v;
        }
    }
}

// One tile's reduction: `rows` positions (window starts pr) × `width` channels into `tile`.
typedef void (*gather_tile_fn)(size_t kc, const float *w, const int32_t *off, const float *x, const int32_t *pr,
                               const float *bias, float *tile);

// Positions first..<end in tiles of `rows` (AVX-512: 8 × 32 channels, AVX2: 6 × 16), stored as they complete.
static void gather_tiles(gather_tile_fn tile_fn, int rows, int width, int cols, size_t kc, const float *w,
                         const int32_t *off, const float *x, const int32_t *xpos, size_t first, size_t end, float *y,
                         size_t plane, size_t y_item, const float *init, const float *clamp) {
    float bias[32] __attribute__((aligned(64))), tile[8 * 32] __attribute__((aligned(64)));
    gather_init(cols, width, init, bias);
    for (size_t t = first; t < end; t += (size_t)rows) {
        // A last, partial tile repeats its last position in the lanes past the end (computed, not stored).
        int32_t pr[8];
        for (int r = 0; r < rows; r++) pr[r] = xpos[t + (size_t)r < end ? t + (size_t)r : end - 1];
        tile_fn(kc, w, off, x, pr, bias, tile);
        gather_store(tile, width, t, end - t < (size_t)rows ? end - t : (size_t)rows, cols, y, plane, y_item, clamp);
    }
}

// AVX-512F: 8 positions × 32 channels, 16 zmm accumulators; per reduction step two loads of
// weights and 8 broadcasts for 16 FMAs (the 16-position line tiles needed 17 loads for 16 FMAs,
// and a 7-wide line filled 7 or 14 of their lanes). With 12 positions the 12 offsets no longer
// fit in registers and the compiler reloads them per step (C harness, 16 × 512 × 7² → 512 3 × 3:
// 98 GFLOP/s per core with 12, 112–119 with 8; the peak of the FMA loop there was 142). The
// reduction is a function of its own so that nothing else competes for the general registers:
// inlined into the loop over tiles, 5 of the 8 offsets were reloaded from the stack every step.
//
// The tiles compute tile[r][j] = init[j] + Σ_i v[i·width + j] · x[pr[r] + off[i]], i < kc: the
// forward pass with pr the positions' window starts, off the (channel, tap) offsets and v the
// packed weights; the weight gradient with the roles of the offsets swapped (pr the rows'
// (channel, tap) offsets, off the positions' window starts, v the transposed output gradient,
// init zero): x + pr[r] + off[i] is the same address either way.
__attribute__((target("avx512f"), noinline))
static void gather_avx512_tile(size_t kc, const float *restrict w, const int32_t *restrict off, const float *restrict x,
                               const int32_t *restrict pr, const float *restrict bias, float *restrict tile) {
    const float *x0 = x + pr[0], *x1 = x + pr[1], *x2 = x + pr[2], *x3 = x + pr[3];
    const float *x4 = x + pr[4], *x5 = x + pr[5], *x6 = x + pr[6], *x7 = x + pr[7];
    __m512 acc[8][2];
    const __m512 b0 = _mm512_load_ps(bias), b1 = _mm512_load_ps(bias + 16);
    for (int r = 0; r < 8; r++) { acc[r][0] = b0; acc[r][1] = b1; }
    for (const int32_t *o = off, *end = off + kc; o < end; o++, w += 32) {
        const ptrdiff_t d = *o;
        const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
#define CK_GATHER512_ROW(R, XR) { const __m512 a = _mm512_set1_ps(XR[d]); \
        acc[R][0] = _mm512_fmadd_ps(a, w0, acc[R][0]); acc[R][1] = _mm512_fmadd_ps(a, w1, acc[R][1]); }
        CK_GATHER512_ROW(0, x0) CK_GATHER512_ROW(1, x1) CK_GATHER512_ROW(2, x2) CK_GATHER512_ROW(3, x3)
        CK_GATHER512_ROW(4, x4) CK_GATHER512_ROW(5, x5) CK_GATHER512_ROW(6, x6) CK_GATHER512_ROW(7, x7)
#undef CK_GATHER512_ROW
    }
    for (int r = 0; r < 8; r++) {
        _mm512_store_ps(tile + r * 32, acc[r][0]);
        _mm512_store_ps(tile + r * 32 + 16, acc[r][1]);
    }
}

// AVX2 + FMA: 6 positions × 16 channels, 12 ymm accumulators, 2 weight loads and 6 broadcasts
// for 12 FMAs.
__attribute__((target("avx2,fma"), noinline))
static void gather_avx2_tile(size_t kc, const float *restrict w, const int32_t *restrict off, const float *restrict x,
                             const int32_t *restrict pr, const float *restrict bias, float *restrict tile) {
    const float *x0 = x + pr[0], *x1 = x + pr[1], *x2 = x + pr[2], *x3 = x + pr[3], *x4 = x + pr[4], *x5 = x + pr[5];
    __m256 acc[6][2];
    const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
    for (int r = 0; r < 6; r++) { acc[r][0] = b0; acc[r][1] = b1; }
    for (const int32_t *o = off, *end = off + kc; o < end; o++, w += 16) {
        const ptrdiff_t d = *o;
        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#define CK_GATHER256_ROW(R, XR) { const __m256 a = _mm256_broadcast_ss(XR + d); \
        acc[R][0] = _mm256_fmadd_ps(a, w0, acc[R][0]); acc[R][1] = _mm256_fmadd_ps(a, w1, acc[R][1]); }
        CK_GATHER256_ROW(0, x0) CK_GATHER256_ROW(1, x1) CK_GATHER256_ROW(2, x2)
        CK_GATHER256_ROW(3, x3) CK_GATHER256_ROW(4, x4) CK_GATHER256_ROW(5, x5)
#undef CK_GATHER256_ROW
    }
    for (int r = 0; r < 6; r++) {
        _mm256_store_ps(tile + r * 16, acc[r][0]);
        _mm256_store_ps(tile + r * 16 + 8, acc[r][1]);
    }
}

#endif

int ck_conv_gather_rows(int level) { return level == 2 ? 8 : (level == 1 ? 6 : 0); }

int ck_conv_gather_cols(int level) { return level == 2 ? 32 : (level == 1 ? 16 : 0); }

int ck_conv_gather(int level, int cols, size_t kc, const float *w, const int32_t *off, const float *x,
                   const int32_t *xpos, size_t first, size_t count, float *y, size_t plane, size_t y_item, const float *init,
                   const float *clamp) {
#if defined(__x86_64__) || defined(__i386__)
    if (cols < 1 || cols > ck_conv_gather_cols(level) || plane == 0) return 0;
    const size_t end = first + count;
    if (level == 2) {
        gather_tiles(gather_avx512_tile, 8, 32, cols, kc, w, off, x, xpos, first, end, y, plane, y_item, init, clamp);
        return 1;
    }
    if (level == 1) {
        gather_tiles(gather_avx2_tile, 6, 16, cols, kc, w, off, x, xpos, first, end, y, plane, y_item, init, clamp);
        return 1;
    }
#endif
    (void)level; (void)cols; (void)kc; (void)w; (void)off; (void)x; (void)xpos; (void)first; (void)count; (void)y; (void)plane;
    (void)y_item; (void)init; (void)clamp;
    return 0;
}

int ck_conv_gather_grad_rows(int level) { return level == 2 ? 8 : (level == 1 ? 6 : 0); }

int ck_conv_gather_grad(int level, size_t rows, int cols, const float *x, const int32_t *xpos, size_t first, size_t count,
                        const int32_t *off, const float *dyt, float *dw, size_t ldw, int accumulate) {
#if defined(__x86_64__) || defined(__i386__)
    const int width = ck_conv_gather_cols(level), tr = ck_conv_gather_grad_rows(level);
    if (cols < 1 || cols > width || tr == 0) return 0;
    float tile[8 * 32] __attribute__((aligned(64))), zeros[32] __attribute__((aligned(64))) = {0};
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)tr) {
        // A last, partial tile repeats its last row in the accumulators past the end (computed, not stored).
        const size_t rn = rows - r0 < (size_t)tr ? rows - r0 : (size_t)tr;
        int32_t o[8];
        for (int r = 0; r < tr; r++) o[r] = off[r0 + ((size_t)r < rn ? (size_t)r : rn - 1)];
        // The forward tiles with the roles of the offsets swapped: rows are (channel, tap) offsets, the
        // reduction runs over the positions' window starts and their transposed output gradients.
        if (level == 2) gather_avx512_tile(count, dyt + first * 32, xpos + first, x, o, zeros, tile);
        else gather_avx2_tile(count, dyt + first * 16, xpos + first, x, o, zeros, tile);
        for (int c = 0; c < cols; c++) {
            float *d = dw + (size_t)c * ldw + r0;
            for (size_t r = 0; r < rn; r++) d[r] = (accumulate ? d[r] : 0.0f) + tile[r * (size_t)width + (size_t)c];
        }
    }
    return 1;
#else
    (void)level; (void)rows; (void)cols; (void)x; (void)xpos; (void)first; (void)count; (void)off; (void)dyt; (void)dw;
    (void)ldw; (void)accumulate;
    return 0;
#endif
}
