// The transform matrices of Winograd F(4×4, 3×3) along one axis, on vectors of the including
// file's VEC (Winograd.c, WinogradRowGroups.c).
#ifndef CONVKIT_WINOGRAD_MATH_H
#define CONVKIT_WINOGRAD_MATH_H

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

/// A·e along one axis: four values in, six out (A = (Aᵀ)ᵀ, 6 × 4).
#define WINO_A(e, o) do { \
    const VEC p_ = e[0] + e[2], q_ = e[1] + e[3], r_ = e[0] + 4.0f * e[2], s_ = 2.0f * e[1] + 8.0f * e[3]; \
    o[0] = e[0]; o[1] = p_ + q_; o[2] = p_ - q_; o[3] = r_ + s_; o[4] = r_ - s_; o[5] = e[3]; \
} while (0)

#endif
