/// Single-precision general matrix multiply on row-major buffers:
/// `C = alpha · op(A) · op(B) + beta · C`, where `op(X)` is `X` or `Xᵀ`.
///
/// - Parameters:
///   - transposeA: whether `A` is stored as (k, m) and used transposed.
///   - transposeB: whether `B` is stored as (n, k) and used transposed.
///   - m: rows of `op(A)` and `C`.
///   - n: columns of `op(B)` and `C`.
///   - k: columns of `op(A)`, rows of `op(B)`.
///   - a: `A`, with leading dimension `lda` (row stride).
///   - b: `B`, with leading dimension `ldb`.
///   - c: `C` (m, n), with leading dimension `ldc`.
///   - beta: 0 overwrites `C` (its old contents may be garbage), 1 accumulates.
///   - rowBias: m values, one added to every element of each row of `C` (a convolution's
///     bias over its output positions), or nil.
///
/// Uses dot-product tiles (`dotGEMM`) for A · Bᵀ with a long k, the packed path with a SIMD
/// micro-kernel (`packedGEMM`) when the CPU has one and the product is large enough to repay
/// packing, and the portable `referenceGEMM` otherwise.
/// Tests check each path against a naive product, and the packed and reference paths
/// against each other.
/// `threaded: false` keeps the product on the calling thread.
public func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>? = nil, threaded: Bool = true,
    packedA: PackedA? = nil
) {
    // Thin products (a row or two of A, or a handful of k: depthwise convolution) waste
    // most of an mr × nr tile and the packing, so they take the streaming reference path.
    // The packed path folds the bias into its tiles; the others get it added up front.
    let packed = MicroKernel.isAvailable && m * n * k >= 4096 && m >= MicroKernel.mr / 2 && k >= 8
    let dot = !transposeA && transposeB && dotGEMMApplies(m: m, n: n, k: k)
    var beta = beta
    if let rowBias, !packed || dot {
        scaleRows(m: m, n: n, beta: beta, c: c, ldc: ldc)
        addRowBias(m: m, n: n, bias: rowBias, c: c, ldc: ldc)
        beta = 1
    }
    // A · Bᵀ with both operands contiguous along k: dot products, no packing.
    if dot {
        return dotGEMM(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc, threaded: threaded)
    }
    if packed {
        packedGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, rowBias: rowBias, threaded: threaded,
                   packedA: packedA)
    } else {
        referenceGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// `C = beta · C` (beta 0 overwrites, so C's old contents may be garbage).
@inline(__always)
func scaleRows(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: n)
        } else if beta != 1 {
            for j in 0..<n { row[j] *= beta }
        }
    }
}

/// `C[i][j] += bias[i]` for every row i of C (m × n, row stride `ldc`).
@inline(__always)
func addRowBias(m: Int, n: Int, bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        let (row, v) = (c + i * ldc, bias[i])
        for j in 0..<n { row[j] += v }
    }
}

/// The portable blocked GEMM (same contract as `gemm`): transposed operands are packed into
/// row-major panels, then a 4-row register-blocked loop streams contiguous rows of `B` and
/// `C`, which the compiler vectorises at the baseline target.
public func referenceGEMM(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    scaleRows(m: m, n: n, beta: beta, c: c, ldc: ldc)
    guard k > 0, alpha != 0 else { return }

    // Panel sizes keep a kc×nc block of B (256 KiB) in L2 while rows of A stream through.
    let kc = 256, nc = 256
    let packA = transposeA || alpha != 1
    let packB = transposeB
    let panelA = UnsafeMutablePointer<Float>.allocate(capacity: packA ? m * min(k, kc) : 0)
    let panelB = UnsafeMutablePointer<Float>.allocate(capacity: packB ? min(k, kc) * min(n, nc) : 0)
    let blockSums = k > kc ? UnsafeMutablePointer<Float>.allocate(capacity: m * min(n, nc)) : nil
    defer {
        panelA.deallocate()
        panelB.deallocate()
        blockSums?.deallocate()
    }

    var p0 = 0
    while p0 < k {
        let pb = min(kc, k - p0)
        // A block (m, pb), row-major, alpha folded in.
        let aBlock: UnsafePointer<Float>
        let aStride: Int
        if packA {
            for i in 0..<m {
                for p in 0..<pb {
                    let v = transposeA ? a[(p0 + p) * lda + i] : a[i * lda + p0 + p]
                    panelA[i * pb + p] = alpha * v
                }
            }
            aBlock = UnsafePointer(panelA)
            aStride = pb
        } else {
            aBlock = a + p0
            aStride = lda
        }
        var j0 = 0
        while j0 < n {
            let jb = min(nc, n - j0)
            let bBlock: UnsafePointer<Float>
            let bStride: Int
            if packB {
                for p in 0..<pb {
                    for j in 0..<jb { panelB[p * jb + j] = b[(j0 + j) * ldb + p0 + p] }
                }
                bBlock = UnsafePointer(panelB)
                bStride = jb
            } else {
                bBlock = b + p0 * ldb + j0
                bStride = ldb
            }
            if let blockSums {
                // Each k block is summed on its own, then added: the rounding error of a long
                // reduction (a weight gradient over 20,000 positions) grows with kc + k / kc
                // additions instead of k.
                blockSums.update(repeating: 0, count: m * jb)
                gemmKernelNN(m: m, n: jb, k: pb, a: aBlock, lda: aStride, b: bBlock, ldb: bStride, c: blockSums, ldc: jb)
                for i in 0..<m {
                    let (row, sums) = (c + i * ldc + j0, blockSums + i * jb)
                    for j in 0..<jb { row[j] += sums[j] }
                }
            } else {
                gemmKernelNN(m: m, n: jb, k: pb, a: aBlock, lda: aStride, b: bBlock, ldb: bStride,
                             c: c + j0, ldc: ldc)
            }
            j0 += jb
        }
        p0 += pb
    }
}

/// `C += A · B` for row-major A (m, k), B (k, n), C (m, n).
@inline(__always)
private func gemmKernelNN(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    var i = 0
    while i + 4 <= m {
        let c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc
        let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
        for p in 0..<k {
            let x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p]
            let bp = b + p * ldb
            for j in 0..<n {
                let v = bp[j]
                c0[j] += x0 * v
                c1[j] += x1 * v
                c2[j] += x2 * v
                c3[j] += x3 * v
            }
        }
        i += 4
    }
    while i < m {
        let ci = c + i * ldc
        let ai = a + i * lda
        for p in 0..<k {
            let x = ai[p]
            let bp = b + p * ldb
            for j in 0..<n { ci[j] += x * bp[j] }
        }
        i += 1
    }
}
