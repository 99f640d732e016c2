#ifndef CONVKIT_MICRO_KERNELS_H
#define CONVKIT_MICRO_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// The only C in ConvKit's kernels: register-blocked GEMM micro-kernels and dot-product tiles
// (MicroKernels.c), direct-convolution tiles (ConvolutionTiles.c), depthwise rows
// (DepthwiseRows.c), Winograd transforms (Winograd.c), the CPU count (CPUs.c) and JPEG sample
// reconstruction (JPEGKernels.c), compiled per instruction set with target attributes and
// chosen once at run time. Packing, blocking and threading are
// Swift (_ConvKitKernels/PackedGEMM.swift, DotGEMM.swift, Convolution+Direct.swift).

/// The best micro-kernel this CPU runs: 2 = AVX-512F, 1 = AVX2 + FMA, 0 = none (use the
/// portable Swift path). The environment variable CONVKIT_KERNELS=avx2 or =portable caps it,
/// so that a CPU with AVX-512 can test and time the other paths too. Cached after the first call.
int ck_gemm_level(void);

/// Tile rows (mr) and columns (nr) of the micro-kernel at `level` (0 for level 0).
int ck_gemm_mr(int level);
int ck_gemm_nr(int level);

/// C[0..<mr][0..<nr] += Σ_p a[p·mr + i] · b[p·ldb + j] for p in 0..<kc, where `a` is an A
/// micro-panel packed column by column (mr values per p) and `b` holds nr values per p with
/// row stride `ldb` (nr for a packed panel, the matrix's stride when read in place); C has
/// row stride `ldc`. When `init` is not NULL and `ck_gemm_stores_tiles(level)`, the tile is
/// stored instead of added: C[i][j] = init[i] + Σ_p … (C's old contents are not read), which
/// saves a pass over C for a product's first k block and folds in a bias per row. Levels
/// without stores ignore `init` (the caller then fills C first).
void ck_gemm_micro(int level, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc, const float *init);

/// Whether the kernels at `level` honour `init` (AVX2 and AVX-512: yes).
int ck_gemm_stores_tiles(int level);

/// As `ck_gemm_micro` for the first `rows` (< mr) rows of a tile only, when `level` has such
/// a kernel (AVX2: rows 1…5); returns 1 when it ran and 0 when the caller must compute the
/// tile into a scratch tile instead.
int ck_gemm_micro_rows(int level, int rows, size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                       const float *init);

/// C[i][j] = (accumulate ? C[i][j] : 0) + alpha · Σ_p a[i·lda + p] · b[j·ldb + p] for the
/// `rows` (1…3) × `cols` (1…4) tile, p in 0..<k: dot products of rows that are contiguous
/// along k (C = A·Bᵀ without packing). Returns 1 when it ran, 0 when `level` has no such
/// tile (the caller computes it otherwise).
int ck_dot_tile(int level, int rows, int cols, size_t k, float alpha, const float *a, size_t lda,
                const float *b, size_t ldb, float *c, size_t ldc, int accumulate);

/// Output channels per direct-convolution tile at `level` (AVX-512: 16, AVX2: 6, else 0):
/// `ck_conv_lines` reads A packed this many values per reduction step.
int ck_conv_mr(int level);

/// Direct convolution of `lines` output lines of `width` positions for `rows` (1…mr) output
/// channels, mr = `ck_conv_mr(level)`: C[i][l·c_line_stride + j] = init[i] + Σ_p a[p·mr + i] · x[l·x_line_stride + off[p] + j]
/// for p in 0..<kc, C's rows `ldc` apart. `a` is a weight panel packed mr values per p (an
/// input channel and kernel tap), `off[p]` where that row of the implicit column matrix starts
/// in `x`, a padded input read in place (up to 16 floats may be read past the last one used
/// when `width` is not a multiple of 16). The epilogue, in the registers before each store: with
/// `residual` (not NULL; laid out as C, same `ldc` and `c_line_stride`) its value is added, then
/// with `bounds` (not NULL) the value is clamped to [bounds[0], bounds[1]] (NaN kept): the values
/// `ck_clamp` gives after the stores. Returns 1 when it ran, 0 when `level` has no such kernel.
int ck_conv_lines(int level, int rows, size_t kc, const float *a, const int32_t *off, const float *x,
                  size_t x_line_stride, size_t lines, size_t width, float *c, size_t ldc, size_t c_line_stride,
                  const float *init, const float *residual, const float *bounds);

/// Output positions and output channels per gathered tile at `level` (`ck_conv_gather`;
/// AVX-512: 8 × 32, AVX2: 6 × 16, else 0).
int ck_conv_gather_rows(int level);
int ck_conv_gather_cols(int level);

/// Direct convolution with output channels on the vector lanes, for `cols` (1…`ck_conv_gather_cols(level)`)
/// output channels o and output positions q in first..<first + count: Y[q][o] = init[o] + Σ_p w[p·cols_max + o] · x[xpos[q] + off[p]]
/// for p in 0..<kc, clamped to [clamp[0], clamp[1]] when `clamp` is not NULL (NaN passes through);
/// `init` NULL means no bias. `w` is a weight panel packed `ck_conv_gather_cols(level)` values per
/// p (zero past `cols`), `off[p]` where that row of the implicit column matrix starts and
/// `xpos[q]` where position q's window starts in the padded input `x`. Position q is stored at
/// y + (q / plane)·y_item + q % plane, channel o `plane` floats further (NCHW items of a batch).
/// Returns 1 when it ran, 0 when `level` has no such kernel.
int ck_conv_gather(int level, int cols, size_t kc, const float *w, const int32_t *off, const float *x,
                   const int32_t *xpos, size_t first, size_t count, float *y, size_t plane, size_t y_item,
                   const float *init, const float *clamp);

/// Column-matrix rows per gathered weight-gradient tile at `level` (`ck_conv_gather_grad`; AVX-512: 8, AVX2: 6, else 0).
int ck_conv_gather_grad_rows(int level);

/// The weight gradient of gathered tiles for `rows` column-matrix rows r (input channel, tap)
/// and `cols` (1…`ck_conv_gather_cols(level)`) output channels o, summed over positions q in
/// first..<first + count: dw[o·ldw + r] = (accumulate ? dw[o·ldw + r] : 0) + Σ_q dyt[q·cols_max + o] · x[xpos[q] + off[r]],
/// cols_max = `ck_conv_gather_cols(level)`. `x`, `xpos` and `off` are as `ck_conv_gather` reads
/// them, `dyt` the panel's output gradient transposed to positions × cols_max channels. Returns 1
/// when it ran, 0 when `level` has no such kernel.
int ck_conv_gather_grad(int level, size_t rows, int cols, const float *x, const int32_t *xpos, size_t first, size_t count,
                        const int32_t *off, const float *dyt, float *dw, size_t ldw, int accumulate);

/// Rows of the implicit column matrix per weight-gradient tile at `level` (`ck_conv_grad_lines`;
/// AVX-512: 12, AVX2: 6, else 0).
int ck_conv_grad_rows(int level);

/// The weight gradient of a direct convolution for `rows` (1…`ck_conv_grad_rows(level)`) rows of the implicit column
/// matrix (input channel, tap) × 16·`panels` (1 or 2) output channels, accumulated into C (row stride `ldc`):
/// C[i][j] += Σ_l Σ_q x[off[i] + l·x_line + q] · dyt[(l·width + q)·ldt + j] over `lines`
/// output lines l of `width` positions q. `x` is the padded input as read by `ck_conv_lines`,
/// `dyt` the output gradient transposed to positions × channels (row stride `ldt`). Returns 1
/// when it ran, 0 when `level` has no such kernel.
int ck_conv_grad_lines(int level, int rows, int panels, size_t width, size_t lines, const float *x, const int32_t *off,
                       size_t x_line, const float *dyt, size_t ldt, float *c, size_t ldc);

/// One channel plane of a depthwise convolution's forward pass, added into `y` (which holds the
/// bias): output row r (0..<out_rows) starts at y + out[r] and reads kernel rows j in
/// start[r]..<start[r+1], each an input row at x + in[j] with taps w[tap[j] + kw], kw < kw_count.
/// Output columns lo..<hi read row[ow·step + offset[kw]] (all inside the input: all of a row's
/// taps in one SIMD pass, steps 1 and 2 vectorised, reading only row[0 … (hi−1)·step + offset]);
/// the others row[columns[kw·ow_count + ow]] when that is ≥ 0. Returns 0 (and does nothing)
/// when `level` has no such kernel or a row has more than 64 taps; the caller loops itself.
int ck_dw_forward_plane(int level, const float *x, const float *w, float *y, size_t out_rows, const int32_t *start,
                        const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                        const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step);

/// The weight gradient of one plane, as `ck_dw_forward_plane` reads it (`dy` the output
/// gradient plane): dw[tap[j] + kw] += Σ_ow dy[out[r] + ow] · row[column of ow]. Returns 0
/// when `level` has no such kernel or a row has more than 64 taps.
int ck_dw_weight_plane(int level, const float *x, const float *dy, float *dw, size_t out_rows, const int32_t *start,
                       const int32_t *out, const int32_t *in, const int32_t *tap, size_t kw_count, size_t ow_count,
                       const int32_t *columns, const int32_t *offset, size_t lo, size_t hi, size_t step);

/// Advises the kernel to back the whole 2 MiB pages inside [p, p + bytes) with transparent huge
/// pages (Linux `madvise(MADV_HUGEPAGE)`; nothing elsewhere). Call it before the memory is first
/// written: faults then map 2 MiB at a time. Failures are ignored.
void ck_advise_huge_pages(void *p, size_t bytes);

/// Prefetches [p, p + bytes) into the caches, one request per 64-byte line (never faults).
void ck_prefetch(const void *p, size_t bytes);

/// dst[i] = src[i · step] for i < count (vector shuffles for step 2 at `level` 2).
void ck_gather_every(int level, const float *src, size_t step, float *dst, size_t count);

/// One 2-D channel plane of a depthwise convolution with zero padding, as `ck_dw_plane` reads it:
/// an input plane of height × width, an output plane of out_height × out_width, a kernel of
/// kernel[0] × kernel[1] taps at `dilation`, `stride` (the column stride 1 or 2), and `pad`
/// elements of zeros before the first row and column (the ones after follow from the sizes).
struct ck_dw_plane_geometry {
    size_t height, width, out_height, out_width;
    size_t kernel[2], stride[2], dilation[2];
    ptrdiff_t pad[2];
};

/// y[r][c] = bias + Σ k[i][j] · x[r·stride0 − pad0 + i·dil0][c·stride1 − pad1 + j·dil1], taps
/// outside the input reading zero (masked loads, which never touch the lanes they leave out),
/// clamped to [clamp[0], clamp[1]] when `clamp` is not NULL (NaN passes); overwrites the plane
/// `y` (row stride out_width). `next` and `next_out`, when not NULL, are the input and output
/// planes of the call that follows, prefetched a few lines per tile (AVX-512; the output for
/// writing). Returns 0 (and does nothing) when `level` has no such kernel or the column stride
/// is not 1 or 2.
int ck_dw_plane(int level, const struct ck_dw_plane_geometry *p, const float *x, const float *k, float bias,
                const float *clamp, float *y, const float *next, float *next_out);

/// The weight gradient of one such plane: dk[i][j] += Σ_r Σ_c dy[r][c] · x[tap (i, j) of (r, c)],
/// with `ck_dw_plane`'s conditions. `next`, when not NULL, is the output gradient plane of the
/// call that follows (out_height × out_width), prefetched meanwhile (AVX-512, 3 × 3 kernels).
int ck_dw_weight_plane2d(int level, const struct ck_dw_plane_geometry *p, const float *x, const float *dy, float *dk,
                         const float *next);

/// Tiles per vector in the Winograd F(4×4, 3×3) transforms at `level`: 16, 8, or 4 (any CPU).
size_t ck_wino_lanes(int level);

/// Winograd F(4×4, 3×3) filter transform U = G·g·Gᵀ (in double, rounded once) of filters
/// k0 ..< k1 of `w` (K, c, 3, 3): value ξ of (k, ci) goes to u[ξ·point + (k / mr · c + ci)·mr + k % mr]
/// (row panels of `mr` filters; mr = 1 gives plain (kp, c) matrices; `point`, the distance between
/// two points' matrices, is kp·c for all K′ rows, or more for one panel padded off 4 KiB sets).
void ck_wino_filters(const float *w, size_t k0, size_t k1, size_t c, size_t point, size_t mr, float *u);

/// Winograd F(4×4, 3×3) input transform Bᵀ·d·B of one channel's tile row: tile t's patch d is
/// rows top … top+5 and columns 4t − left … 4t − left + 5 of the (height × width) `plane`, zero
/// outside it (the padding); its 36 values go to v[ξ·vplane + t], ξ = 6·row + column.
void ck_wino_input(int level, const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left,
                   size_t tiles, float *v, size_t vplane);

/// The most tiles a tile row may have for the two-row transforms below at `level` (7 on AVX-512,
/// where two rows share the 16 lanes; 0 elsewhere).
size_t ck_wino_pair_tiles(int level);

/// `ck_wino_input` of two tile rows of `tiles` (≤ ck_wino_pair_tiles) tiles each in one pass:
/// rows top0 … of plane0 and top1 … of plane1 (the same height × width, padding `left`), their
/// tiles' values to v[ξ·vplane + t] for t < tiles (the first row) and tiles + t (the second).
/// Returns 0, writing nothing, where `level` has no such kernel.
int ck_wino_input_pair(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                       size_t width, ptrdiff_t left, size_t tiles, float *v, size_t vplane);

/// `ck_wino_gradient` of two tile rows of `tiles` (≤ ck_wino_pair_tiles) tiles each in one pass:
/// rows top0 … of plane0 and top1 … of plane1, their tiles' values to v[ξ·vplane + t] (the first
/// row) and v[ξ·vplane + tiles + t] (the second). Returns 0, writing nothing, where `level` has no
/// such kernel.
int ck_wino_gradient_pair(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1, size_t height,
                          size_t width, size_t tiles, float *v, size_t vplane);

/// `ck_wino_output` of two tile rows of `tiles` (≤ ck_wino_pair_tiles) tiles each, whose products
/// are m[ξ·plane + t] (the first row) and m[ξ·plane + tiles + t] (the second): rows r < rows0 of y0
/// and r < rows1 of y1 (each ≤ 4, row stride ldy), columns 4t + c < cols. Returns 0, writing
/// nothing, where `level` has no such kernel.
int ck_wino_output_pair(int level, const float *m, size_t plane, size_t tiles, float bias, float *y0, size_t rows0,
                        float *y1, size_t rows1, size_t ldy, size_t cols);

/// `ck_wino_output_pair` followed by the 2 × 2, stride-2 max pooling of its outputs (each clamped
/// first to bounds[0] … bounds[1] when `bounds` is not NULL; NaN kept), in registers: pooled rows
/// p < pairs0 (≤ 2) of the first tile row to p0[p·ldp + j] and of the second to p1, j < ⌊width/2⌋
/// (width: the output planes' width), each window's first largest value (the first NaN wins) and,
/// where i0 / i1 are not NULL, its flat position in the plane: origin (the tile row's first line ·
/// width) + row · width + column. Returns 0, writing nothing, where `level` has no such kernel or
/// a position would not fit 31 bits.
int ck_wino_output_pair_pooled(int level, const float *m, size_t plane, size_t tiles, float bias, const float *bounds,
                               float *p0, long *i0, long origin0, size_t pairs0, float *p1, long *i1, long origin1,
                               size_t pairs1, size_t ldp, size_t width);

/// The most tiles a tile row may have for the four-row transforms below at `level` (4 on
/// AVX-512, where four rows share the 16 lanes; 0 elsewhere).
size_t ck_wino_quad_tiles(int level);

/// `ck_wino_input` of four tile rows of `tiles` (≤ ck_wino_quad_tiles) tiles each in one pass:
/// rows top_r … of plane_r (the same height × width, padding `left`), row r's tiles' values to
/// v[ξ·vplane + r·tiles + t]. Returns 0, writing nothing, where `level` has no such kernel.
int ck_wino_input_quad(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1,
                       const float *plane2, ptrdiff_t top2, const float *plane3, ptrdiff_t top3, size_t height, size_t width,
                       ptrdiff_t left, size_t tiles, float *v, size_t vplane);

/// `ck_wino_gradient` of four tile rows of `tiles` (≤ ck_wino_quad_tiles) tiles each in one pass,
/// row r's tiles' values to v[ξ·vplane + r·tiles + t]. Returns 0, writing nothing, where `level`
/// has no such kernel.
int ck_wino_gradient_quad(int level, const float *plane0, ptrdiff_t top0, const float *plane1, ptrdiff_t top1,
                          const float *plane2, ptrdiff_t top2, const float *plane3, ptrdiff_t top3, size_t height, size_t width,
                          size_t tiles, float *v, size_t vplane);

/// `ck_wino_output` of four tile rows of `tiles` (≤ ck_wino_quad_tiles) tiles each, whose
/// products are m[ξ·plane + r·tiles + t]: rows j < rows_r of y_r (each ≤ 4, row stride ldy),
/// columns 4t + c < cols. Returns 0, writing nothing, where `level` has no such kernel.
int ck_wino_output_quad(int level, const float *m, size_t plane, size_t tiles, float bias, float *y0, size_t rows0,
                        float *y1, size_t rows1, float *y2, size_t rows2, float *y3, size_t rows3, size_t ldy, size_t cols);

/// Winograd F(4×4, 3×3) output transform Aᵀ·m·A of one output channel's tile row: tile t reads
/// m[ξ·plane + t] and writes y[r·ldy + 4t + c] (+ bias) for rows r < `rows` (≤ 4) and columns
/// 4t + c < `cols`.
void ck_wino_output(int level, const float *m, size_t plane, size_t tiles, float bias,
                    float *y, size_t ldy, size_t rows, size_t cols);

/// Winograd F(4×4, 3×3) output-gradient transform A·dy·Aᵀ of one output channel's tile row (for
/// the weight gradient): tile t reads rows top … top+3 and columns 4t … 4t+3 of the
/// (height × width) dy `plane`, zero outside it, and writes its 36 values to v[ξ·vplane + t].
void ck_wino_gradient(int level, const float *plane, size_t height, size_t width, ptrdiff_t top,
                      size_t tiles, float *v, size_t vplane);

/// The weight gradient from the transform-domain sums of filters k0 ..< k1, M[ξ][k − k0][ci] at
/// m[ξ·point + (k − k0)·row + ci]: dw[(k·c + ci)·9 …] = Gᵀ·M_k,ci·G (3 × 3, in double). Overwrites
/// them. The same bits at every level (eight filters on the lanes of AVX-512, no contraction).
void ck_wino_filter_gradient(int level, const float *m, size_t point, size_t row, size_t k0, size_t k1, size_t c, float *dw);

/// Winograd F(2×2, 3×3) filter transform U = G·g·Gᵀ (in double, rounded once), laid out as
/// `ck_wino_filters` lays out F(4×4)'s, with 16 points ξ = 4·row + column.
void ck_wino2_filters(const float *w, size_t k0, size_t k1, size_t c, size_t point, size_t mr, float *u);

/// Winograd F(2×2, 3×3) input transform Bᵀ·d·B of one channel's tile row: tile t's patch d is
/// rows top … top+3 and columns 2t − left … 2t − left + 3 of the (height × width) `plane`, zero
/// outside it; its 16 values go to v[ξ·vplane + t], ξ = 4·row + column.
void ck_wino2_input(int level, const float *plane, size_t height, size_t width, ptrdiff_t top, ptrdiff_t left,
                    size_t tiles, float *v, size_t vplane);

/// Winograd F(2×2, 3×3) output transform Aᵀ·m·A of one output channel's tile row: tile t reads
/// m[ξ·plane + t] and writes y[r·ldy + 2t + c] (+ bias) for rows r < `rows` (≤ 2) and columns
/// 2t + c < `cols`.
void ck_wino2_output(int level, const float *m, size_t plane, size_t tiles, float bias,
                     float *y, size_t ldy, size_t rows, size_t cols);

/// SiLU y = x / (1 + e^−x) on `n` values (PyTorch's formula: −∞ gives NaN, NaN stays NaN), and
/// when `derivative` is not NULL its local derivative σ(x)·(1 + x·(1 − σ(x))). e^v to about 1e-7
/// relative (Cephes' expf on vector lanes).
void ck_silu(int level, const float *x, float *y, float *derivative, size_t n);

/// A convolution's epilogue on n values in place: y += residual (when not NULL), then, when
/// `bounded`, y < lower → lower and y > upper → upper (NaN kept), in that order per element.
void ck_clamp(int level, float *y, const float *residual, size_t n, int bounded, float lower, float upper);
/// The same from x into y (x may be y): ReLU (lower 0, upper +∞) and clamp as memory passes.
void ck_clamp_copy(int level, const float *x, float *y, const float *residual, size_t n, int bounded, float lower, float upper);
/// A clamp's gradient from its output y: dx = dy where y > lower and, when `bounded`, y < upper;
/// 0 elsewhere (NaN included). dx may be dy.
void ck_clamp_gradient(int level, const float *y, const float *dy, float *dx, size_t n, float lower, int bounded, float upper);
/// One Adam (decoupled = 0) or AdamW (1) update of n values in place, element by element as
/// ConvKit's `Adam.step` defines it: g = grad (+ decay·w for Adam with decay; AdamW first scales w
/// by 1 − lr·decay); m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g·g; w −= step·m / (√v / root2 + eps),
/// with step = lr / (1 − β₁ᵗ) and root2 = √(1 − β₂ᵗ). The same bits at every level. w, g, m, v must
/// not overlap.
void ck_adam_step(int level, float *w, const float *g, float *m, float *v, size_t n, float beta1, float beta2, float step,
                  float root2, float eps, float lr, float decay, int decoupled);

/// One SGD update of n values in place, as `SGD.step` defines it: g = grad (+ decay·w); with a
/// momentum `buffer` (NULL: none), buffer = g on the `first` step, else momentum·buffer +
/// (1 − dampening)·g, then g = g + momentum·buffer (Nesterov) or buffer; w −= lr·g. The same bits
/// at every level. w, g and buffer must not overlap.
void ck_sgd_step(int level, float *w, const float *g, float *buffer, size_t n, float lr, float momentum, float dampening,
                 float decay, int nesterov, int first);

/// Batch norm's passes over one row of `n` values (one channel of one item), on the level's
/// vector lanes. Moments: sums[0] += Σ x, sums[1] += Σ x² (in double). Gradient sums:
/// sums[0] += Σ dy, sums[1] += Σ dy·(x − mean)·inv_std (float products, double sums). Forward:
/// y = gamma·((x − mean)·inv_std) + beta. Input gradient: dx = scale·(dy − mean_dy −
/// (x − mean)·inv_std·mean_dy_xhat) when `training`, else scale·dy (x not read unless `relu`).
/// The forward pass adds `residual` (n values, or NULL) to y before the ReLU.
/// Batch norm followed by ReLU: the forward pass with `relu` stores max(y, 0) (NaN kept); the
/// gradient passes with `relu` = {gamma, beta} use dy only where gamma·x̂ + beta > 0 (the
/// forward's y, recomputed), 0 elsewhere; NULL for plain batch norm.
void ck_bn_row_moments(int level, const float *x, size_t n, double *sums);
void ck_bn_row_gradient_sums(int level, const float *x, const float *dy, size_t n, float mean, float inv_std, double *sums,
                             const float *relu);
void ck_bn_row_forward(int level, const float *x, float *y, size_t n, float mean, float inv_std, float gamma, float beta,
                       const float *residual, int relu);
void ck_bn_row_input_gradient(int level, const float *x, const float *dy, float *dx, size_t n, float mean, float inv_std,
                              float scale, float mean_dy, float mean_dy_xhat, int training, const float *relu);

/// Σ x[i] for i < n on vector lanes at `level` (four accumulators of 16, 8 or 4 lanes; the
/// same value in every run at a level).
float ck_sum(int level, const float *x, size_t n);

/// Max pooling of one (height × width) plane into (out_height × out_width): window (oh, ow)
/// reads rows oh·stride_h − pad_h + a·dilation_h and columns ow·stride_w − pad_w + b·dilation_w,
/// skipping those outside the plane. Writes the first largest value in row-major tap order (a
/// NaN wins and stays) and, when `indices` is not NULL, its flat position in the plane (0 for a
/// window with no tap inside).
void ck_max_pool_plane(int level, const float *x, long height, long width, float *y, long *indices,
                       long out_height, long out_width, long kernel_h, long kernel_w, long stride_h, long stride_w,
                       long pad_h, long pad_w, long dilation_h, long dilation_w);

/// 2 × 2, stride-2 max pooling of `pairs` pairs of lines (`width` floats each) at `x`, which
/// are lines 2·`first_pair` … of their plane (a block of a convolution's output, or a copy of
/// it): `pairs` × ⌊width/2⌋ values to `y` and, when `indices` is not NULL, flat positions in
/// the plane (counted from its line 0), as `ck_max_pool_plane` writes them for the whole plane.
void ck_max_pool_line_pairs(int level, const float *x, long pairs, long width, long first_pair, float *y, long *indices);

/// A tight loop of independent FMAs at `level` (the benchmark's peak measurement);
/// returns the floating-point operations it performed. `sink` receives a result so the
/// loop is not optimised away.
double ck_fma_peak_loop(int level, size_t iterations, float *sink);

/// libjpeg-turbo's accurate integer inverse DCT (jidctint.c, `jpeg_idct_islow`) on `blocks`
/// consecutive blocks of 64 coefficients (natural order, not dequantised; `quant` natural
/// order too), written side by side: block b's row r at out[r·stride + 8·b …]. Any
/// coefficients give some output (corrupt files); valid ones give libjpeg's exact samples.
/// `level` ≥ 1 runs the AVX2 build (ck_gemm_level).
void ck_jpeg_idct_islow(int level, const int16_t *coef, size_t blocks, const uint16_t *quant, uint8_t *out, size_t stride);

/// libjpeg's fixed-point YCbCr → RGB (jdcolor.c) on `count` samples, interleaved into `rgb`.
void ck_jpeg_ycc_rgb(int level, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb, size_t count);

/// One output row of libjpeg's fancy upsampling by 2 across (jdsample.c): h2v1 when
/// `neighbour` is NULL, else h2v2 with `neighbour` the nearest other input row (above for
/// the upper output row, below for the lower). Writes 2·width samples; `width` ≥ 1 (libjpeg
/// uses it for widths over 2 and replicates narrower rows).
void ck_jpeg_upsample_h2(int level, const uint8_t *row, const uint8_t *neighbour, size_t width, uint8_t *out);

/// One output row of h1v2 fancy upsampling: (3·row[x] + neighbour[x] + bias) >> 2, bias 1
/// for the upper output row (`upper` ≠ 0, neighbour above) and 2 for the lower.
void ck_jpeg_upsample_v2(int level, const uint8_t *row, const uint8_t *neighbour, size_t width, int upper, uint8_t *out);

/// CPUs this process may run on (its affinity mask on Linux, else the online CPUs).
int ck_allowed_cpus(void);

/// A spin-wait hint (x86 PAUSE; nothing elsewhere), for the worker pool's idle spin.
void ck_spin_pause(void);

#endif
