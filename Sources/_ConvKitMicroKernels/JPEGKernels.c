#include "ConvKitMicroKernels.h"

#include <string.h>

// JPEG sample reconstruction as libjpeg-turbo's defaults compute it (jidctint.c, jdsample.c,
// jdcolor.c), on GCC vector types: eight 32-bit lanes for the inverse DCT, sixteen for the
// colour conversion. Each body is compiled twice, for the baseline instruction set and with
// AVX2, and chosen by `level` (ck_gemm_level). Arithmetic that corrupt data could overflow is
// done in unsigned lanes (wrapping, defined), so any coefficients give some output and never
// undefined behaviour; valid data never comes near the limits, so results equal libjpeg's.

typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint8_t u8x8 __attribute__((vector_size(8)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef uint8_t u8x48 __attribute__((vector_size(64)));  // 48 bytes used of 64

#define CK_INLINE static inline __attribute__((always_inline))

// Every function that takes or returns a vector is CK_INLINE: inlined into its AVX2 or
// baseline caller, so no vector crosses a call boundary and the ABI note does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// MARK: Inverse DCT (jpeg_idct_islow: CONST_BITS 13, PASS1_BITS 2)

/// One 8-point pass on eight lanes at once, before descaling (Loeffler–Ligtenberg–Moschytz).
CK_INLINE void islow_pass(const u32x8 x[8], u32x8 o[8]) {
    const uint32_t f0298 = 2446, f0390 = 3196, f0541 = 4433, f0765 = 6270, f0899 = 7373, f1175 = 9633;
    const uint32_t f1501 = 12299, f1847 = 15137, f1961 = 16069, f2053 = 16819, f2562 = 20995, f3072 = 25172;
    u32x8 z1 = (x[2] + x[6]) * f0541;
    u32x8 tmp2 = z1 - x[6] * f1847;
    u32x8 tmp3 = z1 + x[2] * f0765;
    u32x8 tmp0 = (x[0] + x[4]) << 13;
    u32x8 tmp1 = (x[0] - x[4]) << 13;
    u32x8 tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    tmp0 = x[7]; tmp1 = x[5]; tmp2 = x[3]; tmp3 = x[1];
    z1 = tmp0 + tmp3;
    u32x8 z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
    u32x8 z5 = (z3 + z4) * f1175;
    tmp0 *= f0298; tmp1 *= f2053; tmp2 *= f3072; tmp3 *= f1501;
    z1 *= -f0899; z2 *= -f2562; z3 *= -f1961; z4 *= -f0390;
    z3 += z5; z4 += z5;
    tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
    o[0] = tmp10 + tmp3; o[7] = tmp10 - tmp3;
    o[1] = tmp11 + tmp2; o[6] = tmp11 - tmp2;
    o[2] = tmp12 + tmp1; o[5] = tmp12 - tmp1;
    o[3] = tmp13 + tmp0; o[4] = tmp13 - tmp0;
}

/// (x + 2^(n−1)) >> n, arithmetic.
CK_INLINE u32x8 descale(u32x8 x, int n) { return (u32x8)((i32x8)(x + (1u << (n - 1))) >> n); }

/// Rows become columns: r[i][j] ↔ r[j][i].
CK_INLINE void transpose8(u32x8 r[8]) {
    u32x8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// libjpeg's post-IDCT range limit: x & 1023 read as −512…511, plus 128, clamped to 0…255.
CK_INLINE u32x8 range_limit(u32x8 x) {
    i32x8 v = (i32x8)((x + 512) & 1023) - 512 + 128;
    return (u32x8)__builtin_elementwise_min(__builtin_elementwise_max(v, (i32x8){0}), (i32x8){0} + 255);
}

CK_INLINE void idct_islow_body(const int16_t *coef, size_t blocks, const uint16_t *quant, uint8_t *out, size_t stride) {
    u32x8 q[8];
    for (int r = 0; r < 8; r++) {
        u16x8 row;
        memcpy(&row, quant + r * 8, sizeof row);
        q[r] = __builtin_convertvector(row, u32x8);
    }
    for (size_t b = 0; b < blocks; b++, coef += 64, out += 8) {
        // Columns: lane j is column j, x[r] row r, dequantised.
        u32x8 x[8], o[8];
        for (int r = 0; r < 8; r++) {
            i16x8 row;
            memcpy(&row, coef + r * 8, sizeof row);
            x[r] = (u32x8)__builtin_convertvector(row, i32x8) * q[r];
        }
        islow_pass(x, o);
        for (int r = 0; r < 8; r++) x[r] = descale(o[r], 11);  // CONST_BITS − PASS1_BITS
        // Rows: transpose so that lane i is row i and x[k] column k.
        transpose8(x);
        islow_pass(x, o);
        for (int k = 0; k < 8; k++) o[k] = range_limit(descale(o[k], 18));  // CONST_BITS + PASS1_BITS + 3
        transpose8(o);
        for (int r = 0; r < 8; r++) {
            u8x8 bytes = __builtin_convertvector(o[r], u8x8);
            memcpy(out + r * stride, &bytes, sizeof bytes);
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static void idct_islow_avx2(const int16_t *coef, size_t blocks, const uint16_t *quant, uint8_t *out, size_t stride) {
    idct_islow_body(coef, blocks, quant, out, stride);
}
#endif

static void idct_islow_base(const int16_t *coef, size_t blocks, const uint16_t *quant, uint8_t *out, size_t stride) {
    idct_islow_body(coef, blocks, quant, out, stride);
}

void ck_jpeg_idct_islow(int level, const int16_t *coef, size_t blocks, const uint16_t *quant, uint8_t *out, size_t stride) {
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 1) { idct_islow_avx2(coef, blocks, quant, out, stride); return; }
#endif
    idct_islow_base(coef, blocks, quant, out, stride);
}

// MARK: YCbCr → RGB (jdcolor.c, SCALEBITS 16)

CK_INLINE u8x16 clamp_bytes(i32x16 v) {
    v = __builtin_elementwise_min(__builtin_elementwise_max(v, (i32x16){0}), (i32x16){0} + 255);
    return __builtin_convertvector(v, u8x16);
}

/// R = Y + 1.402·Cr′, G = Y − 0.34414·Cb′ − 0.71414·Cr′, B = Y + 1.772·Cb′ (Cb′ = Cb − 128),
/// each product in fixed point rounded as libjpeg's tables round it: FIX(x) = ⌊x·2^16 + ½⌋.
CK_INLINE void ycc_rgb_16(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb) {
    u8x16 y8, b8, r8;
    memcpy(&y8, y, 16); memcpy(&b8, cb, 16); memcpy(&r8, cr, 16);
    i32x16 Y = __builtin_convertvector(y8, i32x16);
    i32x16 b = __builtin_convertvector(b8, i32x16) - 128, r = __builtin_convertvector(r8, i32x16) - 128;
    u8x16 R = clamp_bytes(Y + ((91881 * r + 32768) >> 16));
    u8x16 G = clamp_bytes(Y + ((-22554 * b - 46802 * r + 32768) >> 16));
    u8x16 B = clamp_bytes(Y + ((116130 * b + 32768) >> 16));
    u8x32 rg = __builtin_shufflevector(R, G, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                       16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    u8x32 bb = __builtin_shufflevector(B, B, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                       0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    u8x48 px = __builtin_shufflevector(rg, bb, 0, 16, 32, 1, 17, 33, 2, 18, 34, 3, 19, 35, 4, 20, 36, 5, 21, 37,
                                       6, 22, 38, 7, 23, 39, 8, 24, 40, 9, 25, 41, 10, 26, 42, 11, 27, 43,
                                       12, 28, 44, 13, 29, 45, 14, 30, 46, 15, 31, 47,
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    memcpy(rgb, &px, 48);
}

CK_INLINE void ycc_rgb_body(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) ycc_rgb_16(y + i, cb + i, cr + i, rgb + 3 * i);
    if (i < count) {  // the last 1…15 pixels through padded copies
        uint8_t ty[16] = {0}, tb[16] = {0}, tr[16] = {0}, trgb[48];
        memcpy(ty, y + i, count - i); memcpy(tb, cb + i, count - i); memcpy(tr, cr + i, count - i);
        ycc_rgb_16(ty, tb, tr, trgb);
        memcpy(rgb + 3 * i, trgb, 3 * (count - i));
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static void ycc_rgb_avx2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb, size_t count) {
    ycc_rgb_body(y, cb, cr, rgb, count);
}
#endif

static void ycc_rgb_base(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb, size_t count) {
    ycc_rgb_body(y, cb, cr, rgb, count);
}

void ck_jpeg_ycc_rgb(int level, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb, size_t count) {
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 1) { ycc_rgb_avx2(y, cb, cr, rgb, count); return; }
#endif
    ycc_rgb_base(y, cb, cr, rgb, count);
}

// MARK: Fancy upsampling (jdsample.c: h2v1_fancy_upsample, h2v2_fancy_upsample)

/// Each output sample from `sum` = 3·nearer + farther input sums (scale `scale`: 4 for h2v1,
/// 16 for h2v2), with libjpeg's alternating rounding biases. Interior columns in vectors of 16.
CK_INLINE void upsample_h2_body(const uint8_t *row, const uint8_t *neighbour, size_t width, uint8_t *out) {
    // h2v1 when neighbour == NULL: out[2x] = (3·i[x] + i[x−1] + 1) >> 2, out[2x+1] = (3·i[x] + i[x+1] + 2) >> 2.
    // h2v2: c[x] = 3·i[x] + n[x]; out[2x] = (3·c[x] + c[x−1] + 8) >> 4, out[2x+1] = (3·c[x] + c[x+1] + 7) >> 4.
#define CK_SUM(x) (neighbour ? 3 * (int32_t)row[x] + (int32_t)neighbour[x] : (int32_t)row[x])
    const int32_t shift = neighbour ? 4 : 2, even_bias = neighbour ? 8 : 1, odd_bias = neighbour ? 7 : 2;
    if (width == 1) {  // one sample: replicated
        int32_t c = CK_SUM(0);
        out[0] = out[1] = (uint8_t)(neighbour ? (c * 4 + 8) >> 4 : c);
        return;
    }
    out[0] = (uint8_t)(neighbour ? (CK_SUM(0) * 4 + 8) >> 4 : row[0]);
    out[1] = (uint8_t)((3 * CK_SUM(0) + CK_SUM(1) + odd_bias) >> shift);
    size_t x = 1;
    for (; x + 17 <= width; x += 16) {
        u8x16 l8, m8, r8;
        memcpy(&l8, row + x - 1, 16); memcpy(&m8, row + x, 16); memcpy(&r8, row + x + 1, 16);
        i32x16 l = __builtin_convertvector(l8, i32x16), m = __builtin_convertvector(m8, i32x16), r = __builtin_convertvector(r8, i32x16);
        if (neighbour) {
            memcpy(&l8, neighbour + x - 1, 16); memcpy(&m8, neighbour + x, 16); memcpy(&r8, neighbour + x + 1, 16);
            l = 3 * l + __builtin_convertvector(l8, i32x16);
            m = 3 * m + __builtin_convertvector(m8, i32x16);
            r = 3 * r + __builtin_convertvector(r8, i32x16);
        }
        u8x16 even = __builtin_convertvector((3 * m + l + even_bias) >> shift, u8x16);
        u8x16 odd = __builtin_convertvector((3 * m + r + odd_bias) >> shift, u8x16);
        u8x32 both = __builtin_shufflevector(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                             8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        memcpy(out + 2 * x, &both, 32);
    }
    for (; x + 1 < width; x++) {
        int32_t m = CK_SUM(x);
        out[2 * x] = (uint8_t)((3 * m + CK_SUM(x - 1) + even_bias) >> shift);
        out[2 * x + 1] = (uint8_t)((3 * m + CK_SUM(x + 1) + odd_bias) >> shift);
    }
    out[2 * width - 2] = (uint8_t)((3 * CK_SUM(width - 1) + CK_SUM(width - 2) + even_bias) >> shift);
    out[2 * width - 1] = (uint8_t)(neighbour ? (CK_SUM(width - 1) * 4 + 7) >> 4 : row[width - 1]);
#undef CK_SUM
}

/// jdsample.c's h1v2_fancy_upsample for one output row: (3·i[x] + n[x] + bias) >> 2.
CK_INLINE void upsample_v2_body(const uint8_t *row, const uint8_t *neighbour, size_t width, int bias, uint8_t *out) {
    size_t x = 0;
    for (; x + 16 <= width; x += 16) {
        u8x16 m8, n8;
        memcpy(&m8, row + x, 16); memcpy(&n8, neighbour + x, 16);
        i32x16 v = (3 * __builtin_convertvector(m8, i32x16) + __builtin_convertvector(n8, i32x16) + bias) >> 2;
        u8x16 o = __builtin_convertvector(v, u8x16);
        memcpy(out + x, &o, 16);
    }
    for (; x < width; x++) out[x] = (uint8_t)((3 * row[x] + neighbour[x] + bias) >> 2);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2")))
static void upsample_h2_avx2(const uint8_t *row, const uint8_t *neighbour, size_t width, uint8_t *out) {
    upsample_h2_body(row, neighbour, width, out);
}
__attribute__((target("avx2")))
static void upsample_v2_avx2(const uint8_t *row, const uint8_t *neighbour, size_t width, int bias, uint8_t *out) {
    upsample_v2_body(row, neighbour, width, bias, out);
}
#endif

static void upsample_h2_base(const uint8_t *row, const uint8_t *neighbour, size_t width, uint8_t *out) {
    upsample_h2_body(row, neighbour, width, out);
}
static void upsample_v2_base(const uint8_t *row, const uint8_t *neighbour, size_t width, int bias, uint8_t *out) {
    upsample_v2_body(row, neighbour, width, bias, out);
}

void ck_jpeg_upsample_h2(int level, const uint8_t *row, const uint8_t *neighbour, size_t width, uint8_t *out) {
    if (width == 0) return;
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 1) { upsample_h2_avx2(row, neighbour, width, out); return; }
#endif
    upsample_h2_base(row, neighbour, width, out);
}

void ck_jpeg_upsample_v2(int level, const uint8_t *row, const uint8_t *neighbour, size_t width, int upper, uint8_t *out) {
    int bias = upper ? 1 : 2;
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 1) { upsample_v2_avx2(row, neighbour, width, bias, out); return; }
#endif
    upsample_v2_base(row, neighbour, width, bias, out);
}
