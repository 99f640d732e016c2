// Shared by the Winograd transforms (Winograd.c, Winograd2x2.c, WinogradRowGroups.c): the row
// loads, expanded inside their per-level bodies, where W, VEC and LOADRANGE are the level's and
// `plane`, `height` and `width` the channel plane being read; and the prefetch of later planes.
#ifndef CONVKIT_WINOGRAD_ROWS_H
#define CONVKIT_WINOGRAD_ROWS_H

/// z[0 … N) = N vectors of W floats of plane row `yy` from column `col0` on: zeros for a row
/// outside the plane, masked loads (zeros past the edges) where a vector crosses a side of it.
#define WINO_LOAD_ROW(z, N, yy, col0) do { \
    if ((yy) < 0 || (yy) >= (ptrdiff_t)height) { \
        for (int j = 0; j < (N); j++) z[j] = (VEC){0}; \
    } else { \
        const float *row = plane + (yy) * (ptrdiff_t)width; \
        for (int j = 0; j < (N); j++) { \
            const ptrdiff_t col = (col0) + j * W; \
            if (col >= 0 && col + W <= (ptrdiff_t)width) memcpy(&z[j], row + col, sizeof z[j]); \
            else { \
                const ptrdiff_t lo_ = col < 0 ? -col : 0, hi_ = (ptrdiff_t)width - col; \
                if (hi_ <= lo_ || lo_ >= W) z[j] = (VEC){0}; \
                else LOADRANGE(z[j], row + col, lo_, hi_ < W ? hi_ : W); \
            } \
        } \
    } \
} while (0)

/// The second half of an N × N transform: each of the N columns of the row-transformed tiles
/// (`ROWS` rows of `rows`) through `TRANSFORM` (ROWS values in, N out), the N² results of tiles
/// [t0, t0 + W) stored to v[ξ·vplane + t], ξ = N·row + column (masked for a partial last vector).
#define WINO_COLUMNS(ROWS, N, TRANSFORM) do { \
    const size_t count = tiles - t0 < W ? tiles - t0 : W; \
    for (int x = 0; x < (N); x++) { \
        VEC col[ROWS], u[N]; \
        for (int i = 0; i < (ROWS); i++) col[i] = rows[i][x]; \
        TRANSFORM(col, u); \
        for (int y = 0; y < (N); y++) { \
            float *dst = v + (size_t)(y * (N) + x) * vplane + t0; \
            if (count == W) memcpy(dst, &u[y], sizeof u[y]); else STOREN(dst, u[y], count); \
        } \
    } \
} while (0)

/// mm[0 … N) = point (y, x) of tiles [t0, t0 + W) for y < N, from m[ξ·plane + t], ξ = N·y + x
/// (the first `count` lanes of a partial last vector).
#define WINO_LOAD_COLUMN(mm, N, x) do { \
    for (int y = 0; y < (N); y++) { \
        const float *src = m + (size_t)(y * (N) + (x)) * plane + t0; \
        if (count == W) memcpy(&mm[y], src, sizeof mm[y]); else LOADN(mm[y], src, count); \
    } \
} while (0)

// Asks for rows top … top + count − 1 of the plane `ahead` planes further on (the same tile row
// of a later channel, which the callers transform once they have done this channel's rows of
// the block), one prefetch per cache line. The rows of one call are too short for the hardware
// prefetcher to follow (6 streams of a few lines), so its loads waited on memory: 40 % of the
// input transform's samples in a ResNet-18 training step. Two planes ahead, the 32×64×56² → 64
// forward, input and weight gradient passes ran 7-9 % faster (benchmark --breakdown, A/B
// 2026-12-04); without it the two-row transform ran 32×128×28² → 128 8 % slower than the
// single-row one with it (A/B, 2026-12-05). Prefetches never fault, so planes past the last one
// are harmless.
static inline void wino_prefetch_rows(const float *plane, size_t height, size_t width, ptrdiff_t top, int count, size_t ahead) {
    const float *next = plane + ahead * height * width;
    for (int i = 0; i < count; i++) {
        const ptrdiff_t yy = top + i;
        if (yy < 0 || yy >= (ptrdiff_t)height) continue;
        const char *row = (const char *)(next + yy * (ptrdiff_t)width);
        for (size_t b = 0; b < width * sizeof(float); b += 64) __builtin_prefetch(row + b, 0, 3);
        __builtin_prefetch(row + width * sizeof(float) - 1, 0, 3);
    }
}

#endif
