import _ConvKitMicroKernels

/// `C = alpha · A · Bᵀ + beta · C` for row-major A (m × k) and B (n × k): every element of C
/// is a dot product of two rows that are contiguous along k, so nothing is packed or
/// transposed. This is the shape of a convolution's weight gradient (dy · colᵀ, reduced over
/// output positions) and of a linear layer's forward pass (x · Wᵀ); the packed path would
/// first transpose all of B into micro-panels, as much memory traffic as the product itself
/// when k is long.
///
/// k is walked in equal blocks of at most 768 (a multiple of 8), so that the 3 + 4 rows one
/// tile reads stay in L1 while the 3 × 4 tiles of C (`ck_dot_tile`) sweep the block; each
/// block adds its dot products into C. Large products, and products that read a large B (a
/// linear layer's weights at batch 1: 128 × 3136 in the course CNN, 21 µs on one core, where
/// the reads from L3 bound it), are split into column slices (or row slices when C is taller
/// than wide), one per worker, unless `threaded` is false.
/// `beta` 0 overwrites C (its old contents may be garbage).
///
/// - Precondition: `dotGEMMApplies(m:n:k:)`.
public func dotGEMM(
    m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true
) {
    guard m > 0, n > 0 else { return }
    let (tileRows, tileColumns) = (3, 4)
    if threaded && MicroKernel.threads > 1 && (m * n * k >= 1 << 21 || n * k >= 1 << 17) {
        let byColumns = n >= m
        let step = byColumns ? tileColumns : tileRows, extent = byColumns ? n : m
        let (sa, sb, sc) = (SharedPointer(a), SharedPointer(b), SharedPointer(c))
        Parallel.forEachChunk((extent + step - 1) / step) { chunk, _ in
            let lo = chunk.lowerBound * step, hi = min(extent, chunk.upperBound * step)
            if byColumns {
                dotGEMM(m: m, n: hi - lo, k: k, alpha: alpha, a: sa.base, lda: lda, b: sb.base + lo * ldb, ldb: ldb,
                        beta: beta, c: sc.base + lo, ldc: ldc, threaded: false)
            } else {
                dotGEMM(m: hi - lo, n: n, k: k, alpha: alpha, a: sa.base + lo * lda, lda: lda, b: sb.base, ldb: ldb,
                        beta: beta, c: sc.base + lo * ldc, ldc: ldc, threaded: false)
            }
        }
        return
    }
    if beta != 1 && (beta != 0 || k == 0 || alpha == 0) { scaleRows(m: m, n: n, beta: beta, c: c, ldc: ldc) }
    guard k > 0, alpha != 0 else { return }
    let level = Int32(MicroKernel.level)
    let blocks = (k + 767) / 768
    let kc = ((k + blocks - 1) / blocks + 7) / 8 * 8
    for pc in stride(from: 0, to: k, by: kc) {
        let kb = min(kc, k - pc)
        // With beta 0 the first block overwrites C; every other block accumulates.
        let accumulate: Int32 = pc == 0 && beta == 0 ? 0 : 1
        for j in stride(from: 0, to: n, by: tileColumns) {
            let cols = Int32(min(tileColumns, n - j))
            for i in stride(from: 0, to: m, by: tileRows) {
                let ran = ck_dot_tile(level, Int32(min(tileRows, m - i)), cols, kb, alpha, a + i * lda + pc, lda,
                                      b + j * ldb + pc, ldb, c + i * ldc + j, ldc, accumulate)
                precondition(ran != 0, "dotGEMM needs a CPU with dot-product tiles (MicroKernel.isAvailable)")
            }
        }
    }
}

/// Whether `dotGEMM` runs here and repays itself: k long enough (≥ 384) that the final
/// reduction of each tile's 12 accumulators is a small share of its work. Below that the
/// packed path is as fast (measured on the course CNN's 14 × 14 weight gradient, k = 196),
/// except for products too small for it (m·n·k < 4096), which would take the portable path:
/// the course CNN's last layer at batch 1 (1 × 10 × 128) took 1.5 µs there, packing Bᵀ in Swift.
public func dotGEMMApplies(m: Int, n: Int, k: Int) -> Bool {
    MicroKernel.isAvailable && m > 0 && n > 0 && (k >= 384 || (k >= 16 && m * n * k < 4096))
}
