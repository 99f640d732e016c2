// The 16-lane (AVX-512F) vector type and lane shuffles of the F(4×4) transforms: W, VEC, the
// column split of loaded rows (DEINTERLEAVE) and its inverse for stores (INTERLEAVE), masked
// loads and stores. Included where those kernels are defined (Winograd.c, which #undefs them
// for the narrower levels after, and WinogradRowGroups.c).
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
