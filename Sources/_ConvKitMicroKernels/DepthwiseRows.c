#include "ConvKitMicroKernels.h"

// Depthwise convolution rows per instruction set, and their dispatch. The loops over channels,
// batch items and output rows, and the edges where a tap falls outside the input, are Swift
// (_ConvKitKernels/Depthwise.swift). Loads stay inside [src[t], src[t] + (count−1)·step]: vector
// blocks at step 2 run while a whole block of 2·width inputs ends before the last one used.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static void accumulate_avx512(size_t taps, const float *const *src, const float *w, size_t step, float *out, size_t count) {
    size_t i = 0;
    if (step == 1) {
        for (; i < count; i += 16) {
            const __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
            __m512 acc = _mm512_maskz_loadu_ps(m, out + i);
            for (size_t t = 0; t < taps; t++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), _mm512_maskz_loadu_ps(m, src[t] + i), acc);
            _mm512_mask_storeu_ps(out + i, m, acc);
        }
        return;
    }
    if (step == 2) {
        const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        for (; i + 16 < count; i += 16) {
            __m512 acc = _mm512_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++) {
                const float *p = src[t] + 2 * i;
                const __m512 x = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), x, acc);
            }
            _mm512_storeu_ps(out + i, acc);
        }
    }
    for (; i < count; i++) {
        float s = out[i];
        for (size_t t = 0; t < taps; t++) s += w[t] * src[t][i * step];
        out[i] = s;
    }
}

__attribute__((target("avx2,fma")))
static void accumulate_avx2(size_t taps, const float *const *src, const float *w, size_t step, float *out, size_t count) {
    size_t i = 0;
    if (step == 1) {
        for (; i + 8 <= count; i += 8) {
            __m256 acc = _mm256_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++)
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), _mm256_loadu_ps(src[t] + i), acc);
            _mm256_storeu_ps(out + i, acc);
        }
    } else if (step == 2) {
        for (; i + 8 < count; i += 8) {
            __m256 acc = _mm256_loadu_ps(out + i);
            for (size_t t = 0; t < taps; t++) {
                const float *p = src[t] + 2 * i;
                // [a0 a2 b0 b2 | a4 a6 b4 b6] → [a0 a2 a4 a6 b0 b2 b4 b6]
                const __m256 mixed = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                const __m256 x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), x, acc);
            }
            _mm256_storeu_ps(out + i, acc);
        }
    }
    for (; i < count; i++) {
        float s = out[i];
        for (size_t t = 0; t < taps; t++) s += w[t] * src[t][i * step];
        out[i] = s;
    }
}

__attribute__((target("avx512f")))
static void dots_avx512(size_t taps, const float *const *src, const float *a, size_t step, size_t count, float *dots) {
    for (size_t t = 0; t < taps; t++) {
        __m512 acc = _mm512_setzero_ps();
        size_t i = 0;
        if (step == 1) {
            for (; i < count; i += 16) {
                const __mmask16 m = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, src[t] + i), acc);
            }
        } else if (step == 2) {
            const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
            for (; i + 16 < count; i += 16) {
                const float *p = src[t] + 2 * i;
                const __m512 x = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), x, acc);
            }
        }
        float s = _mm512_reduce_add_ps(acc);
        for (; i < count; i++) s += a[i] * src[t][i * step];
        dots[t] += s;
    }
}

__attribute__((target("avx2,fma")))
static void dots_avx2(size_t taps, const float *const *src, const float *a, size_t step, size_t count, float *dots) {
    for (size_t t = 0; t < taps; t++) {
        __m256 acc = _mm256_setzero_ps();
        size_t i = 0;
        if (step == 1) {
            for (; i + 8 <= count; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(src[t] + i), acc);
        } else if (step == 2) {
            for (; i + 8 < count; i += 8) {
                const float *p = src[t] + 2 * i;
                const __m256 mixed = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                const __m256 x = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), x, acc);
            }
        }
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
        float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
        for (; i < count; i++) s += a[i] * src[t][i * step];
        dots[t] += s;
    }
}
#endif

typedef void (*accumulate_fn)(size_t, const float *const *, const float *, size_t, float *, size_t);
typedef void (*dots_fn)(size_t, const float *const *, const float *, size_t, size_t, float *);

enum { MAX_TAPS = 64 };

// Whether every output row's taps (its kernel rows × kw_count) fit the scratch arrays.
__attribute__((unused)) static int taps_fit(size_t out_rows, const int32_t *start, size_t kw_count) {
    for (size_t r = 0; r < out_rows; r++) {
        if ((size_t)(start[r + 1] - start[r]) * kw_count > MAX_TAPS) return 0;
    }
    return 1;
}

int ck_dw_forward_plane(int level, const float *x, const float *w, float *y, size_t out_rows, const int32_t *start,
                        const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                        const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step) {
#if defined(__x86_64__) || defined(__i386__)
    if (level != 1 && level != 2) return 0;
    const accumulate_fn accumulate = level == 2 ? accumulate_avx512 : accumulate_avx2;
    const float *src[MAX_TAPS];
    float weights[MAX_TAPS];
    if (!taps_fit(out_rows, start, kw_count)) return 0;
    for (size_t r = 0; r < out_rows; r++) {
        float *dst = y + out[r];
        size_t taps = 0;
        for (int32_t j = start[r]; j < start[r + 1]; j++) {
            const float *row = x + in[j];
            for (size_t kw = 0; kw < kw_count; kw++) {
                const float v = w[tap[j] + kw];
                const int32_t *cols = columns + kw * ow_count;
                for (size_t ow = 0; ow < lo; ow++) if (cols[ow] >= 0) dst[ow] += v * row[cols[ow]];
                for (size_t ow = hi; ow < ow_count; ow++) if (cols[ow] >= 0) dst[ow] += v * row[cols[ow]];
                if (lo < hi) { src[taps] = row + lo * step + offset[kw]; weights[taps] = v; taps++; }
            }
        }
        if (lo < hi) accumulate(taps, src, weights, step, dst + lo, hi - lo);
    }
    return 1;
#else
    (void)level; (void)x; (void)w; (void)y; (void)out_rows; (void)start; (void)out; (void)in; (void)tap; (void)kw_count;
    (void)ow_count; (void)columns; (void)offset; (void)lo; (void)hi; (void)step;
    return 0;
#endif
}

int ck_dw_weight_plane(int level, const float *x, const float *dy, float *dw, size_t out_rows, const int32_t *start,
                       const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                       const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step) {
#if defined(__x86_64__) || defined(__i386__)
    if (level != 1 && level != 2) return 0;
    const dots_fn dots = level == 2 ? dots_avx512 : dots_avx2;
    const float *src[MAX_TAPS];
    float sums[MAX_TAPS];
    if (!taps_fit(out_rows, start, kw_count)) return 0;
    for (size_t r = 0; r < out_rows; r++) {
        const float *d = dy + out[r];
        size_t taps = 0;
        for (int32_t j = start[r]; j < start[r + 1]; j++) {
            const float *row = x + in[j];
            for (size_t kw = 0; kw < kw_count; kw++) {
                const int32_t *cols = columns + kw * ow_count;
                float s = 0;
                for (size_t ow = 0; ow < lo; ow++) if (cols[ow] >= 0) s += d[ow] * row[cols[ow]];
                for (size_t ow = hi; ow < ow_count; ow++) if (cols[ow] >= 0) s += d[ow] * row[cols[ow]];
                dw[tap[j] + kw] += s;
                if (lo < hi) { src[taps] = row + lo * step + offset[kw]; sums[taps] = 0; taps++; }
            }
        }
        if (lo < hi) {
            dots(taps, src, d + lo, step, hi - lo, sums);
            size_t t = 0;
            for (int32_t j = start[r]; j < start[r + 1]; j++)
                for (size_t kw = 0; kw < kw_count; kw++) dw[tap[j] + kw] += sums[t++];
        }
    }
    return 1;
#else
    (void)level; (void)x; (void)dy; (void)dw; (void)out_rows; (void)start; (void)out; (void)in; (void)tap; (void)kw_count;
    (void)ow_count; (void)columns; (void)offset; (void)lo; (void)hi; (void)step;
    return 0;
#endif
}

// ---------------------------------------------------------------------------------------------
// Whole 2-D planes read straight from the unpadded input, zero padding by masked loads (which
// never touch the lanes they leave out). The output is computed in tiles of R rows × B vectors
// (R·B = 6…8 independent sums: one sum per vector would wait on its own FMA latency at every
// tap), and a tile's load masks depend only on its columns, so they are computed once per
// kernel column for all its rows.

#if defined(__x86_64__) || defined(__i386__)
#define CK_TILE_INLINE static inline __attribute__((always_inline))
// Loops over a tile's constant rows, vectors and taps, unrolled whole (SwiftPM builds C at -O2,
// which otherwise keeps them as loops and the tile's sums in memory).
#define CK_UNROLL _Pragma("clang loop unroll(full)")

// Lanes lo..<hi of `lanes` as a bit mask (both clamped to 0…lanes).
CK_TILE_INLINE uint32_t lane_bits(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t lanes) {
    lo = lo < 0 ? 0 : (lo > lanes ? lanes : lo);
    hi = hi < 0 ? 0 : (hi > lanes ? lanes : hi);
    return hi <= lo ? 0 : (((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1);
}

// The lanes of the (one or two) loads that read input columns c0 + step·t, t < n, inside 0..<w.
typedef struct { uint32_t a, b; } dw_masks;

CK_TILE_INLINE dw_masks dw_load_masks(ptrdiff_t c0, ptrdiff_t n, ptrdiff_t step, ptrdiff_t w, ptrdiff_t lanes) {
    const ptrdiff_t span = n > 0 ? step * (n - 1) + 1 : 0, hi = w - c0 < span ? w - c0 : span;
    return (dw_masks){lane_bits(-c0, hi, lanes), lane_bits(-c0 - lanes, hi - lanes, lanes)};
}

__attribute__((target("avx512f")))
CK_TILE_INLINE __m512 dw_load_avx512(const float *p, dw_masks m, ptrdiff_t step) {
    if (step == 1) return _mm512_maskz_loadu_ps((__mmask16)m.a, p);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)m.a, p), even, _mm512_maskz_loadu_ps((__mmask16)m.b, p + 16));
}

// The next call's planes, fetched a few cache lines per tile so that their misses overlap this
// plane's work: its input for reading and its output for writing (a store that misses waits for
// the line's read; with the output's lines already owned the stores no longer hold up the tiles:
// one core, 32×128×56² 3 × 3, 1.1 → 0.6 µs a plane).
struct dw_prefetch { const char *in; char *out; size_t in_lines, out_lines, per, done; };

CK_TILE_INLINE struct dw_prefetch dw_prefetch_plan(const struct ck_dw_plane_geometry *p, const float *next, float *next_out, size_t tiles) {
    const size_t in_lines = next ? (p->height * p->width * sizeof(float) + 63) / 64 : 0;
    const size_t out_lines = next_out ? (p->out_height * p->out_width * sizeof(float) + 63) / 64 : 0;
    const size_t most = in_lines > out_lines ? in_lines : out_lines;
    return (struct dw_prefetch){(const char *)next, (char *)next_out, in_lines, out_lines, tiles ? (most + tiles - 1) / tiles : 0, 0};
}

CK_TILE_INLINE void dw_prefetch_step(struct dw_prefetch *f) {
    for (size_t e = f->done + f->per; f->done < e; f->done++) {
        if (f->done < f->in_lines) _mm_prefetch(f->in + 64 * f->done, _MM_HINT_T0);
        // PREFETCHW (every AVX-512 CPU has it; older CPUs run it as a NOP), spelled out: the
        // compiler emits it from __builtin_prefetch only for targets that name the feature.
        if (f->done < f->out_lines) __asm__ volatile("prefetchw %0" : : "m"(*(f->out + 64 * f->done)));
    }
}

// Output rows r0..<r0+rows (rows ≤ R) × columns c..<c+16·B of one plane.
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_tile_avx512(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                   const float *clamp, float *y, size_t r0, size_t rows, size_t c, const int R, const int B,
                                   const ptrdiff_t step, const dw_masks *masks) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    __m512 acc[8][4];
    ptrdiff_t n[4], left[4];
    for (int b = 0; b < B; b++) {
        const ptrdiff_t rest = ow - (ptrdiff_t)c - 16 * b;
        n[b] = rest < 16 ? rest : 16;
        left[b] = ((ptrdiff_t)c + 16 * b) * step - p->pad[1];
        for (int rr = 0; rr < R; rr++) acc[rr][b] = _mm512_set1_ps(bias);
    }
    for (size_t j = 0; j < p->kernel[1]; j++) {
        const ptrdiff_t dj = (ptrdiff_t)(j * p->dilation[1]);
        dw_masks m[4];
        for (int b = 0; b < B; b++) m[b] = masks ? masks[(size_t)b * p->kernel[1] + j] : dw_load_masks(left[b] + dj, n[b], step, w, 16);
        for (int rr = 0; rr < R; rr++) {
            if ((size_t)rr >= rows) break;
            const ptrdiff_t top = (ptrdiff_t)((r0 + (size_t)rr) * p->stride[0]) - p->pad[0];
            for (size_t i = 0; i < p->kernel[0]; i++) {
                const ptrdiff_t ih = top + (ptrdiff_t)(i * p->dilation[0]);
                if (ih < 0 || ih >= h) continue;
                const __m512 v = _mm512_set1_ps(k[i * p->kernel[1] + j]);
                const float *row = x + ih * w + dj;
                for (int b = 0; b < B; b++) acc[rr][b] = _mm512_fmadd_ps(v, dw_load_avx512(row + left[b], m[b], step), acc[rr][b]);
            }
        }
    }
    const __m512 lower = _mm512_set1_ps(clamp ? clamp[0] : 0), upper = _mm512_set1_ps(clamp ? clamp[1] : 0);
    for (int rr = 0; rr < R; rr++) {
        if ((size_t)rr >= rows) break;
        for (int b = 0; b < B; b++) {
            __m512 v = acc[rr][b];
            if (clamp) v = _mm512_min_ps(upper, _mm512_max_ps(lower, v));  // NaN is the second operand: kept
            _mm512_mask_storeu_ps(y + (r0 + (size_t)rr) * (size_t)ow + c + 16 * (size_t)b, (__mmask16)lane_bits(0, n[b], 16), v);
        }
    }
}

// K × K kernels (K = 3 or 5) at dilation 1 and row stride S (1 or 2): rows r0..<r0+R × columns
// c..<c+16·B, the K² weights held in registers, and each input row's load shared by every output
// row of the tile that reads it ((R−1)·S + K input rows × K columns × B loads for K²·R·B FMAs,
// against K²·R·B loads when each output row loads its own). Rows past the plane's end are
// computed and not stored.
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_tileK_avx512(const struct ck_dw_plane_geometry *p, const float *x, const __m512 *kv,
                                    const float *clamp, float *y, size_t r0, size_t rows, size_t c, const int K, const int R, const int B,
                                    const int S, const ptrdiff_t step, const dw_masks *masks, const __m512 bias) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    __m512 acc[8][4];
    ptrdiff_t left[4];
    CK_UNROLL for (int b = 0; b < B; b++) {
        left[b] = ((ptrdiff_t)c + 16 * b) * step - p->pad[1];
        CK_UNROLL for (int rr = 0; rr < R; rr++) acc[rr][b] = bias;
    }
    const ptrdiff_t top = (ptrdiff_t)(r0 * (size_t)S) - p->pad[0];
    CK_UNROLL for (int q = 0; q < (R - 1) * S + K; q++) {
        const ptrdiff_t ih = top + q;
        if (ih < 0 || ih >= h) continue;
        const float *row = x + ih * w;
        CK_UNROLL for (int j = 0; j < K; j++) {
            CK_UNROLL for (int b = 0; b < B; b++) {
                const __m512 v = dw_load_avx512(row + left[b] + j, masks[b * K + j], step);
                CK_UNROLL for (int rr = 0; rr < R; rr++) {
                    const int i = q - rr * S;
                    if (i >= 0 && i < K) acc[rr][b] = _mm512_fmadd_ps(kv[i * K + j], v, acc[rr][b]);
                }
            }
        }
    }
    const __m512 lower = _mm512_set1_ps(clamp ? clamp[0] : 0), upper = _mm512_set1_ps(clamp ? clamp[1] : 0);
    CK_UNROLL for (int rr = 0; rr < R; rr++) {
        if ((size_t)rr >= rows) break;
        CK_UNROLL for (int b = 0; b < B; b++) {
            const ptrdiff_t rest = ow - (ptrdiff_t)c - 16 * b;
            __m512 v = acc[rr][b];
            if (clamp) v = _mm512_min_ps(upper, _mm512_max_ps(lower, v));  // NaN is the second operand: kept
            _mm512_mask_storeu_ps(y + (r0 + (size_t)rr) * (size_t)ow + c + 16 * (size_t)b, (__mmask16)lane_bits(0, rest, 16), v);
        }
    }
}

// A whole plane of a K × K, dilation-1 kernel in `dw_tileK_avx512` tiles: 3 × 3 in 2 vectors × 6 rows
// (4 at row stride 2) and the row's last vector × 8 rows; 5 × 5 (25 weights in registers) in
// 2 vectors × 2 rows and the last vector × 4 rows.
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_planeK_avx512_step(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                          const float *clamp, float *y, const int K, const int S, const ptrdiff_t step,
                                          const float *next, float *next_out) {
    const size_t blocks = (p->out_width + 15) / 16;
    __m512 kv[25];
    CK_UNROLL for (int t = 0; t < K * K; t++) kv[t] = _mm512_set1_ps(k[t]);
    const __m512 b = _mm512_set1_ps(bias);
    const int R2 = K == 5 ? 2 : S == 1 ? 6 : 4, R1 = K == 5 ? 4 : 8;
    const size_t tiles = ((blocks + 1) / 2) * ((p->out_height + (size_t)R2 - 1) / (size_t)R2);
    struct dw_prefetch fetch = dw_prefetch_plan(p, next, next_out, tiles);
    for (size_t b0 = 0; b0 < blocks; b0 += 2) {
        const size_t nb = blocks - b0 < 2 ? blocks - b0 : 2, rows = nb == 2 ? (size_t)R2 : (size_t)R1;
        dw_masks masks[2 * 5];
        for (size_t bb = 0; bb < nb; bb++) {
            const ptrdiff_t c = (ptrdiff_t)(16 * (b0 + bb)), rest = (ptrdiff_t)p->out_width - c;
            for (int j = 0; j < K; j++)
                masks[bb * (size_t)K + (size_t)j] = dw_load_masks(c * step - p->pad[1] + j, rest < 16 ? rest : 16, step, (ptrdiff_t)p->width, 16);
        }
        for (size_t r = 0; r < p->out_height; r += rows) {
            const size_t count = p->out_height - r < rows ? p->out_height - r : rows;
            dw_prefetch_step(&fetch);
            if (nb == 2) {
                if (K == 5) dw_tileK_avx512(p, x, kv, clamp, y, r, count, 16 * b0, 5, 2, 2, S, step, masks, b);
                else if (S == 1) dw_tileK_avx512(p, x, kv, clamp, y, r, count, 16 * b0, 3, 6, 2, 1, step, masks, b);
                else dw_tileK_avx512(p, x, kv, clamp, y, r, count, 16 * b0, 3, 4, 2, 2, step, masks, b);
            } else {
                if (K == 5) dw_tileK_avx512(p, x, kv, clamp, y, r, count, 16 * b0, 5, 4, 1, S, step, masks, b);
                else dw_tileK_avx512(p, x, kv, clamp, y, r, count, 16 * b0, 3, 8, 1, S, step, masks, b);
            }
        }
    }
}

// The whole plane in tiles: 4 vectors × 2 rows, the row's last 1–3 vectors × 2, 4 or 8 rows.
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_plane_avx512_step(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                         const float *clamp, float *y, const ptrdiff_t step, const float *next, float *next_out) {
    const size_t blocks = (p->out_width + 15) / 16;
    struct dw_prefetch fetch = dw_prefetch_plan(p, next, next_out, ((blocks + 3) / 4) * ((p->out_height + 1) / 2));
    for (size_t b0 = 0; b0 < blocks; b0 += 4) {
        const size_t nb = blocks - b0 < 4 ? blocks - b0 : 4, rows = nb == 1 ? 8 : nb == 2 ? 4 : 2;
        // The group's load masks, once for all its rows (kernels up to 16 wide; wider ones per tile).
        dw_masks group[4 * 16];
        const dw_masks *masks = p->kernel[1] <= 16 ? group : NULL;
        for (size_t b = 0; masks && b < nb; b++) {
            const ptrdiff_t c = (ptrdiff_t)(16 * (b0 + b)), rest = (ptrdiff_t)p->out_width - c;
            for (size_t j = 0; j < p->kernel[1]; j++)
                group[b * p->kernel[1] + j] = dw_load_masks(c * step - p->pad[1] + (ptrdiff_t)(j * p->dilation[1]),
                                                            rest < 16 ? rest : 16, step, (ptrdiff_t)p->width, 16);
        }
        for (size_t r = 0; r < p->out_height; r += rows) {
            const size_t count = p->out_height - r < rows ? p->out_height - r : rows;
            dw_prefetch_step(&fetch);
            switch (nb) {
            case 4: dw_tile_avx512(p, x, k, bias, clamp, y, r, count, 16 * b0, 2, 4, step, masks); break;
            case 3: dw_tile_avx512(p, x, k, bias, clamp, y, r, count, 16 * b0, 2, 3, step, masks); break;
            case 2: dw_tile_avx512(p, x, k, bias, clamp, y, r, count, 16 * b0, 4, 2, step, masks); break;
            default: dw_tile_avx512(p, x, k, bias, clamp, y, r, count, 16 * b0, 8, 1, step, masks); break;
            }
        }
    }
}

__attribute__((target("avx512f")))
static void dw_plane_avx512(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                            const float *clamp, float *y, const float *next, float *next_out) {
    const size_t kk = p->kernel[0];
    if ((kk == 3 || kk == 5) && p->kernel[1] == kk && p->dilation[0] == 1 && p->dilation[1] == 1 && p->stride[0] <= 2) {
        const int row = (int)p->stride[0];
        if (kk == 3) {
            if (p->stride[1] == 1) { if (row == 1) dw_planeK_avx512_step(p, x, k, bias, clamp, y, 3, 1, 1, next, next_out); else dw_planeK_avx512_step(p, x, k, bias, clamp, y, 3, 2, 1, next, next_out); }
            else { if (row == 1) dw_planeK_avx512_step(p, x, k, bias, clamp, y, 3, 1, 2, next, next_out); else dw_planeK_avx512_step(p, x, k, bias, clamp, y, 3, 2, 2, next, next_out); }
        } else {
            if (p->stride[1] == 1) { if (row == 1) dw_planeK_avx512_step(p, x, k, bias, clamp, y, 5, 1, 1, next, next_out); else dw_planeK_avx512_step(p, x, k, bias, clamp, y, 5, 2, 1, next, next_out); }
            else { if (row == 1) dw_planeK_avx512_step(p, x, k, bias, clamp, y, 5, 1, 2, next, next_out); else dw_planeK_avx512_step(p, x, k, bias, clamp, y, 5, 2, 2, next, next_out); }
        }
        return;
    }
    if (p->stride[1] == 1) dw_plane_avx512_step(p, x, k, bias, clamp, y, 1, next, next_out);
    else dw_plane_avx512_step(p, x, k, bias, clamp, y, 2, next, next_out);
}

// Weight gradient taps (i0 + i, j0 + j), i < KH, j < KW, summed over the plane: column block by
// column block (the loads' masks depend on the block and the kernel column only), every row of
// the block, one sum per tap (KH·KW independent FMA chains; with one tap, two sums alternating rows).
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_weight_taps_avx512(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                                          size_t i0, size_t j0, const int KH, const int KW, const ptrdiff_t step) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    const int pairs = KH * KW == 1 ? 2 : 1;
    __m512 acc[9][2];
    for (int t = 0; t < KH * KW; t++) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    for (ptrdiff_t c = 0; c < ow; c += 16) {
        const ptrdiff_t n = ow - c < 16 ? ow - c : 16, left = c * step - p->pad[1];
        const __mmask16 valid = (__mmask16)lane_bits(0, n, 16);
        dw_masks m[7];
        for (int j = 0; j < KW; j++) m[j] = dw_load_masks(left + (ptrdiff_t)((j0 + (size_t)j) * p->dilation[1]), n, step, w, 16);
        for (size_t r = 0; r < p->out_height; r++) {
            const __m512 g = _mm512_maskz_loadu_ps(valid, dy + r * (size_t)ow + c);
            const ptrdiff_t top = (ptrdiff_t)(r * p->stride[0]) - p->pad[0];
            for (int i = 0; i < KH; i++) {
                const ptrdiff_t ih = top + (ptrdiff_t)((i0 + (size_t)i) * p->dilation[0]);
                if (ih < 0 || ih >= h) continue;
                const float *row = x + ih * w + left;
                for (int j = 0; j < KW; j++) {
                    const float *q = row + (ptrdiff_t)((j0 + (size_t)j) * p->dilation[1]);
                    __m512 *a = &acc[i * KW + j][pairs == 2 ? (r & 1) : 0];
                    *a = _mm512_fmadd_ps(g, dw_load_avx512(q, m[j], step), *a);
                }
            }
        }
    }
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
            dk[(i0 + (size_t)i) * p->kernel[1] + j0 + (size_t)j] +=
                _mm512_reduce_add_ps(_mm512_add_ps(acc[i * KW + j][0], acc[i * KW + j][1]));
}

// The 3 × 3, dilation-1 weight gradient at row stride S: column block by column block, R output
// gradient rows at a time, each input row's 3 loads shared by every row of the R that reads it
// (((R−1)·S + 3) · 3 + R loads for 9·R FMAs, against 10·R when each row loads its own taps).
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_weight3_avx512(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                                      const int R, const int S, const ptrdiff_t step, const float *next) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width, oh = (ptrdiff_t)p->out_height;
    __m512 acc[9];
    for (int t = 0; t < 9; t++) acc[t] = _mm512_setzero_ps();
    // The next plane's output gradient, a few lines per tile (its planes are not adjacent in memory).
    const size_t lines = next ? ((size_t)(oh * ow) * sizeof(float) + 63) / 64 : 0;
    const size_t tiles = (size_t)((ow + 15) / 16) * (size_t)((oh + R - 1) / R), per = tiles ? (lines + tiles - 1) / tiles : 0;
    size_t fetched = 0;
    for (ptrdiff_t c = 0; c < ow; c += 16) {
        const ptrdiff_t n = ow - c < 16 ? ow - c : 16, left = c * step - p->pad[1];
        const __mmask16 valid = (__mmask16)lane_bits(0, n, 16);
        dw_masks m[3];
        for (int j = 0; j < 3; j++) m[j] = dw_load_masks(left + j, n, step, w, 16);
        for (ptrdiff_t r0 = 0; r0 < oh; r0 += R) {
            for (size_t e = fetched + per; fetched < e && fetched < lines; fetched++)
                _mm_prefetch((const char *)next + 64 * fetched, _MM_HINT_T0);
            __m512 g[8];
            CK_UNROLL for (int rr = 0; rr < R; rr++)
                g[rr] = r0 + rr < oh ? _mm512_maskz_loadu_ps(valid, dy + (r0 + rr) * ow + c) : _mm512_setzero_ps();
            const ptrdiff_t top = r0 * S - p->pad[0];
            CK_UNROLL for (int q = 0; q < (R - 1) * S + 3; q++) {
                const ptrdiff_t ih = top + q;
                if (ih < 0 || ih >= h) continue;
                const float *row = x + ih * w + left;
                CK_UNROLL for (int j = 0; j < 3; j++) {
                    const __m512 v = dw_load_avx512(row + j, m[j], step);
                    CK_UNROLL for (int rr = 0; rr < R; rr++) {
                        const int i = q - rr * S;
                        if (i >= 0 && i < 3) acc[i * 3 + j] = _mm512_fmadd_ps(g[rr], v, acc[i * 3 + j]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < 9; t++) dk[t] += _mm512_reduce_add_ps(acc[t]);
}

// 3 × 3 kernels in one pass over the plane; kernel rows of 3, 5 or 7 taps a pass each; else a tap a pass.
__attribute__((target("avx512f")))
CK_TILE_INLINE void dw_weight_plane_avx512_step(const struct ck_dw_plane_geometry *p, const float *x, const float *dy,
                                                float *dk, const ptrdiff_t step, const float *next) {
    const size_t kh = p->kernel[0], kw = p->kernel[1];
    if (kh == 3 && kw == 3 && p->dilation[0] == 1 && p->dilation[1] == 1 && p->stride[0] <= 2)
        return p->stride[0] == 1 ? dw_weight3_avx512(p, x, dy, dk, 8, 1, step, next) : dw_weight3_avx512(p, x, dy, dk, 4, 2, step, next);
    if (kh == 3 && kw == 3) return dw_weight_taps_avx512(p, x, dy, dk, 0, 0, 3, 3, step);
    for (size_t i = 0; i < kh; i++) {
        if (kw == 3) dw_weight_taps_avx512(p, x, dy, dk, i, 0, 1, 3, step);
        else if (kw == 5) dw_weight_taps_avx512(p, x, dy, dk, i, 0, 1, 5, step);
        else if (kw == 7) dw_weight_taps_avx512(p, x, dy, dk, i, 0, 1, 7, step);
        else for (size_t j = 0; j < kw; j++) dw_weight_taps_avx512(p, x, dy, dk, i, j, 1, 1, step);
    }
}

__attribute__((target("avx512f")))
static void dw_weight_plane_avx512(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                                   const float *next) {
    if (p->stride[1] == 1) dw_weight_plane_avx512_step(p, x, dy, dk, 1, next);
    else dw_weight_plane_avx512_step(p, x, dy, dk, 2, next);
}

// AVX2: the same tiles with 8 lanes; vmaskmovps takes lanes whose sign bit is set.
__attribute__((target("avx2,fma")))
CK_TILE_INLINE __m256i lane_vector8(uint32_t bits) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lane), lane);
}

__attribute__((target("avx2,fma")))
CK_TILE_INLINE __m256 dw_load_avx2(const float *p, dw_masks m, ptrdiff_t step) {
    if (step == 1) return _mm256_maskload_ps(p, lane_vector8(m.a));
    const __m256 a = _mm256_maskload_ps(p, lane_vector8(m.a)), b = _mm256_maskload_ps(p + 8, lane_vector8(m.b));
    // [a0 a2 b0 b2 | a4 a6 b4 b6] → [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 mixed = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
}

__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_tile_avx2(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                 const float *clamp, float *y, size_t r0, size_t rows, size_t c, const int R, const int B,
                                 const ptrdiff_t step, const dw_masks *masks) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    __m256 acc[8][4];
    ptrdiff_t n[4], left[4];
    for (int b = 0; b < B; b++) {
        const ptrdiff_t rest = ow - (ptrdiff_t)c - 8 * b;
        n[b] = rest < 8 ? rest : 8;
        left[b] = ((ptrdiff_t)c + 8 * b) * step - p->pad[1];
        for (int rr = 0; rr < R; rr++) acc[rr][b] = _mm256_set1_ps(bias);
    }
    for (size_t j = 0; j < p->kernel[1]; j++) {
        const ptrdiff_t dj = (ptrdiff_t)(j * p->dilation[1]);
        dw_masks m[4];
        for (int b = 0; b < B; b++) m[b] = masks ? masks[(size_t)b * p->kernel[1] + j] : dw_load_masks(left[b] + dj, n[b], step, w, 8);
        for (int rr = 0; rr < R; rr++) {
            if ((size_t)rr >= rows) break;
            const ptrdiff_t top = (ptrdiff_t)((r0 + (size_t)rr) * p->stride[0]) - p->pad[0];
            for (size_t i = 0; i < p->kernel[0]; i++) {
                const ptrdiff_t ih = top + (ptrdiff_t)(i * p->dilation[0]);
                if (ih < 0 || ih >= h) continue;
                const __m256 v = _mm256_broadcast_ss(k + i * p->kernel[1] + j);
                const float *row = x + ih * w + dj;
                for (int b = 0; b < B; b++) acc[rr][b] = _mm256_fmadd_ps(v, dw_load_avx2(row + left[b], m[b], step), acc[rr][b]);
            }
        }
    }
    const __m256 lower = _mm256_set1_ps(clamp ? clamp[0] : 0), upper = _mm256_set1_ps(clamp ? clamp[1] : 0);
    for (int rr = 0; rr < R; rr++) {
        if ((size_t)rr >= rows) break;
        for (int b = 0; b < B; b++) {
            __m256 v = acc[rr][b];
            if (clamp) v = _mm256_min_ps(upper, _mm256_max_ps(lower, v));
            _mm256_maskstore_ps(y + (r0 + (size_t)rr) * (size_t)ow + c + 8 * (size_t)b, lane_vector8(lane_bits(0, n[b], 8)), v);
        }
    }
}

// AVX2 3 × 3 at dilation 1 and row stride S: rows r0..<r0+R of one 8-lane vector, the 9 weights in
// registers and each input row's 3 loads shared by the R rows that read it (AVX2's 16 registers
// hold the 9 weights, 4 sums, a load and its mask).
__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_tile3_avx2(const struct ck_dw_plane_geometry *p, const float *x, const __m256 *kv, const float *clamp,
                                  float *y, size_t r0, size_t rows, size_t c, const int R, const int S, const ptrdiff_t step,
                                  const dw_masks *masks, const __m256 bias) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    __m256 acc[4];
    CK_UNROLL for (int rr = 0; rr < R; rr++) acc[rr] = bias;
    const ptrdiff_t left = (ptrdiff_t)c * step - p->pad[1], top = (ptrdiff_t)(r0 * (size_t)S) - p->pad[0];
    CK_UNROLL for (int q = 0; q < (R - 1) * S + 3; q++) {
        const ptrdiff_t ih = top + q;
        if (ih < 0 || ih >= h) continue;
        const float *row = x + ih * w + left;
        CK_UNROLL for (int j = 0; j < 3; j++) {
            const __m256 v = dw_load_avx2(row + j, masks[j], step);
            CK_UNROLL for (int rr = 0; rr < R; rr++) {
                const int i = q - rr * S;
                if (i >= 0 && i < 3) acc[rr] = _mm256_fmadd_ps(kv[i * 3 + j], v, acc[rr]);
            }
        }
    }
    const __m256 lower = _mm256_set1_ps(clamp ? clamp[0] : 0), upper = _mm256_set1_ps(clamp ? clamp[1] : 0);
    const __m256i valid = lane_vector8(lane_bits(0, ow - (ptrdiff_t)c, 8));
    CK_UNROLL for (int rr = 0; rr < R; rr++) {
        if ((size_t)rr >= rows) break;
        __m256 v = acc[rr];
        if (clamp) v = _mm256_min_ps(upper, _mm256_max_ps(lower, v));
        _mm256_maskstore_ps(y + (r0 + (size_t)rr) * (size_t)ow + c, valid, v);
    }
}

__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_plane3_avx2_step(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                        const float *clamp, float *y, const int S, const ptrdiff_t step) {
    __m256 kv[9];
    CK_UNROLL for (int t = 0; t < 9; t++) kv[t] = _mm256_set1_ps(k[t]);
    const __m256 b = _mm256_set1_ps(bias);
    for (size_t c = 0; c < p->out_width; c += 8) {
        const ptrdiff_t rest = (ptrdiff_t)(p->out_width - c);
        dw_masks masks[3];
        for (int j = 0; j < 3; j++)
            masks[j] = dw_load_masks((ptrdiff_t)c * step - p->pad[1] + j, rest < 8 ? rest : 8, step, (ptrdiff_t)p->width, 8);
        for (size_t r = 0; r < p->out_height; r += 4) {
            const size_t count = p->out_height - r < 4 ? p->out_height - r : 4;
            if (S == 1) dw_tile3_avx2(p, x, kv, clamp, y, r, count, c, 4, 1, step, masks, b);
            else dw_tile3_avx2(p, x, kv, clamp, y, r, count, c, 4, 2, step, masks, b);
        }
    }
}

__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_plane_avx2_step(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                                       const float *clamp, float *y, const ptrdiff_t step) {
    const size_t blocks = (p->out_width + 7) / 8;
    for (size_t b0 = 0; b0 < blocks; b0 += 4) {
        const size_t nb = blocks - b0 < 4 ? blocks - b0 : 4, rows = nb == 1 ? 8 : nb == 2 ? 4 : 2;
        // The group's load masks, once for all its rows (kernels up to 16 wide; wider ones per tile).
        dw_masks group[4 * 16];
        const dw_masks *masks = p->kernel[1] <= 16 ? group : NULL;
        for (size_t b = 0; masks && b < nb; b++) {
            const ptrdiff_t c = (ptrdiff_t)(8 * (b0 + b)), rest = (ptrdiff_t)p->out_width - c;
            for (size_t j = 0; j < p->kernel[1]; j++)
                group[b * p->kernel[1] + j] = dw_load_masks(c * step - p->pad[1] + (ptrdiff_t)(j * p->dilation[1]),
                                                            rest < 8 ? rest : 8, step, (ptrdiff_t)p->width, 8);
        }
        for (size_t r = 0; r < p->out_height; r += rows) {
            const size_t count = p->out_height - r < rows ? p->out_height - r : rows;
            switch (nb) {
            case 4: dw_tile_avx2(p, x, k, bias, clamp, y, r, count, 8 * b0, 2, 4, step, masks); break;
            case 3: dw_tile_avx2(p, x, k, bias, clamp, y, r, count, 8 * b0, 2, 3, step, masks); break;
            case 2: dw_tile_avx2(p, x, k, bias, clamp, y, r, count, 8 * b0, 4, 2, step, masks); break;
            default: dw_tile_avx2(p, x, k, bias, clamp, y, r, count, 8 * b0, 8, 1, step, masks); break;
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void dw_plane_avx2(const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                          const float *clamp, float *y) {
    if (p->kernel[0] == 3 && p->kernel[1] == 3 && p->dilation[0] == 1 && p->dilation[1] == 1 && p->stride[0] <= 2) {
        const int row = (int)p->stride[0];
        if (p->stride[1] == 1) { if (row == 1) dw_plane3_avx2_step(p, x, k, bias, clamp, y, 1, 1); else dw_plane3_avx2_step(p, x, k, bias, clamp, y, 2, 1); }
        else { if (row == 1) dw_plane3_avx2_step(p, x, k, bias, clamp, y, 1, 2); else dw_plane3_avx2_step(p, x, k, bias, clamp, y, 2, 2); }
        return;
    }
    if (p->stride[1] == 1) dw_plane_avx2_step(p, x, k, bias, clamp, y, 1);
    else dw_plane_avx2_step(p, x, k, bias, clamp, y, 2);
}

__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_weight_taps_avx2(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                                        size_t i0, size_t j0, const int KH, const int KW, const ptrdiff_t step) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width;
    const int pairs = KH * KW == 1 ? 2 : 1;
    __m256 acc[9][2];
    for (int t = 0; t < KH * KW; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (ptrdiff_t c = 0; c < ow; c += 8) {
        const ptrdiff_t n = ow - c < 8 ? ow - c : 8, left = c * step - p->pad[1];
        const __m256i valid = lane_vector8(lane_bits(0, n, 8));
        dw_masks m[7];
        for (int j = 0; j < KW; j++) m[j] = dw_load_masks(left + (ptrdiff_t)((j0 + (size_t)j) * p->dilation[1]), n, step, w, 8);
        for (size_t r = 0; r < p->out_height; r++) {
            const __m256 g = _mm256_maskload_ps(dy + r * (size_t)ow + c, valid);
            const ptrdiff_t top = (ptrdiff_t)(r * p->stride[0]) - p->pad[0];
            for (int i = 0; i < KH; i++) {
                const ptrdiff_t ih = top + (ptrdiff_t)((i0 + (size_t)i) * p->dilation[0]);
                if (ih < 0 || ih >= h) continue;
                const float *row = x + ih * w + left;
                for (int j = 0; j < KW; j++) {
                    const float *q = row + (ptrdiff_t)((j0 + (size_t)j) * p->dilation[1]);
                    __m256 *a = &acc[i * KW + j][pairs == 2 ? (r & 1) : 0];
                    *a = _mm256_fmadd_ps(g, dw_load_avx2(q, m[j], step), *a);
                }
            }
        }
    }
    for (int i = 0; i < KH; i++) {
        for (int j = 0; j < KW; j++) {
            const __m256 s = _mm256_add_ps(acc[i * KW + j][0], acc[i * KW + j][1]);
            const __m128 h2 = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
            const __m128 q = _mm_add_ps(h2, _mm_movehl_ps(h2, h2));
            dk[(i0 + (size_t)i) * p->kernel[1] + j0 + (size_t)j] += _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
        }
    }
}

// The AVX2 3 × 3, dilation-1 weight gradient at row stride S: `dw_weight3_avx512` with 8 lanes and
// 4 output-gradient rows at a time (9 sums, 4 gradient vectors, a load and its mask).
__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_weight3_avx2(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                                    const int S, const ptrdiff_t step) {
    const ptrdiff_t h = (ptrdiff_t)p->height, w = (ptrdiff_t)p->width, ow = (ptrdiff_t)p->out_width, oh = (ptrdiff_t)p->out_height;
    enum { R = 4 };
    __m256 acc[9];
    CK_UNROLL for (int t = 0; t < 9; t++) acc[t] = _mm256_setzero_ps();
    for (ptrdiff_t c = 0; c < ow; c += 8) {
        const ptrdiff_t n = ow - c < 8 ? ow - c : 8, left = c * step - p->pad[1];
        const __m256i valid = lane_vector8(lane_bits(0, n, 8));
        dw_masks m[3];
        for (int j = 0; j < 3; j++) m[j] = dw_load_masks(left + j, n, step, w, 8);
        for (ptrdiff_t r0 = 0; r0 < oh; r0 += R) {
            __m256 g[R];
            CK_UNROLL for (int rr = 0; rr < R; rr++)
                g[rr] = r0 + rr < oh ? _mm256_maskload_ps(dy + (r0 + rr) * ow + c, valid) : _mm256_setzero_ps();
            const ptrdiff_t top = r0 * S - p->pad[0];
            CK_UNROLL for (int q = 0; q < (R - 1) * S + 3; q++) {
                const ptrdiff_t ih = top + q;
                if (ih < 0 || ih >= h) continue;
                const float *row = x + ih * w + left;
                CK_UNROLL for (int j = 0; j < 3; j++) {
                    const __m256 v = dw_load_avx2(row + j, m[j], step);
                    CK_UNROLL for (int rr = 0; rr < R; rr++) {
                        const int i = q - rr * S;
                        if (i >= 0 && i < 3) acc[i * 3 + j] = _mm256_fmadd_ps(g[rr], v, acc[i * 3 + j]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < 9; t++) {
        const __m128 h2 = _mm_add_ps(_mm256_castps256_ps128(acc[t]), _mm256_extractf128_ps(acc[t], 1));
        const __m128 q = _mm_add_ps(h2, _mm_movehl_ps(h2, h2));
        dk[t] += _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
    }
}

// 3 × 3 kernels in one pass; other kernels a tap a pass (9 sums, a load and a mask fill AVX2's 16 registers).
__attribute__((target("avx2,fma")))
CK_TILE_INLINE void dw_weight_plane_avx2_step(const struct ck_dw_plane_geometry *p, const float *x, const float *dy,
                                              float *dk, const ptrdiff_t step) {
    if (p->kernel[0] == 3 && p->kernel[1] == 3 && p->dilation[0] == 1 && p->dilation[1] == 1 && p->stride[0] <= 2)
        return p->stride[0] == 1 ? dw_weight3_avx2(p, x, dy, dk, 1, step) : dw_weight3_avx2(p, x, dy, dk, 2, step);
    if (p->kernel[0] == 3 && p->kernel[1] == 3) return dw_weight_taps_avx2(p, x, dy, dk, 0, 0, 3, 3, step);
    for (size_t i = 0; i < p->kernel[0]; i++)
        for (size_t j = 0; j < p->kernel[1]; j++) dw_weight_taps_avx2(p, x, dy, dk, i, j, 1, 1, step);
}

__attribute__((target("avx2,fma")))
static void dw_weight_plane_avx2(const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk) {
    if (p->stride[1] == 1) dw_weight_plane_avx2_step(p, x, dy, dk, 1);
    else dw_weight_plane_avx2_step(p, x, dy, dk, 2);
}

#endif

int ck_dw_plane(int level, const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                const float *clamp, float *y, const float *next, float *next_out) {
#if defined(__x86_64__) || defined(__i386__)
    if ((level != 1 && level != 2) || p->stride[1] < 1 || p->stride[1] > 2) return 0;
    if (level == 2) dw_plane_avx512(p, x, k, bias, clamp, y, next, next_out); else dw_plane_avx2(p, x, k, bias, clamp, y);
    return 1;
#else
    (void)level; (void)p; (void)x; (void)k; (void)bias; (void)clamp; (void)y; (void)next; (void)next_out;
    return 0;
#endif
}

int ck_dw_weight_plane2d(int level, const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                         const float *next) {
#if defined(__x86_64__) || defined(__i386__)
    if ((level != 1 && level != 2) || p->stride[1] < 1 || p->stride[1] > 2) return 0;
    if (level == 2) dw_weight_plane_avx512(p, x, dy, dk, next); else dw_weight_plane_avx2(p, x, dy, dk);
    return 1;
#else
    (void)level; (void)p; (void)x; (void)dy; (void)dk; (void)next;
    return 0;
#endif
}
