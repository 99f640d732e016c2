import _ConvKitMicroKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SIMD micro-kernel chosen for this CPU (see `ConvKitMicroKernels.h`).
public enum MicroKernel {
    /// 2 = AVX-512F, 1 = AVX2 + FMA, 0 = none.
    public static let level = Int(ck_gemm_level())
    /// Tile rows and columns of the micro-kernel.
    static let mr = Int(ck_gemm_mr(Int32(level)))
    static let nr = Int(ck_gemm_nr(Int32(level)))
    /// Output channels per direct-convolution tile (`ck_conv_mr`).
    static let convChannels = Int(ck_conv_mr(Int32(level)))
    /// Column-matrix rows per direct weight-gradient tile (`ck_conv_grad_rows`).
    static let convGradientRows = Int(ck_conv_grad_rows(Int32(level)))
    /// Output positions and output channels per gathered direct tile (`ck_conv_gather_rows`, `ck_conv_gather_cols`).
    static let gatherPositions = Int(ck_conv_gather_rows(Int32(level)))
    static let gatherChannels = Int(ck_conv_gather_cols(Int32(level)))
    /// Column-matrix rows per gathered weight-gradient tile (`ck_conv_gather_grad_rows`).
    static let gatherGradientRows = Int(ck_conv_gather_grad_rows(Int32(level)))
    /// Whether `packedGEMM` can run here.
    public static var isAvailable: Bool { level > 0 }
    /// A human-readable name of the instruction set in use.
    public static var name: String { ["portable Swift", "AVX2+FMA", "AVX-512F"][level] }
}

/// GEMM with the same contract as `gemm`, in the BLIS arrangement: B is packed into
/// kc × nr micro-panels (kept in L2/L3; when A fits one row block, full panels of an
/// untransposed B are read in place instead), A into mr × kc micro-panels (alpha folded in,
/// kept in L2), and the micro-kernel computes each mr × nr tile of C in registers. Tiles at
/// the right edge (and at the bottom edge where no row-count kernel exists) are computed
/// into a scratch tile and added back. Large products are split into one slice of C per
/// thread (columns, or rows when C is taller than wide), each an independent product with
/// its own packing, unless `threaded` is false (callers that already run on several threads,
/// such as convolution over batch items, pass false). Splitting the tile loop of one shared
/// packing instead scaled to only about 1.5× on two cores: the packing was serial.
/// `rowBias` (m values), when given, is added to every element of its row of C. With beta 0
/// the first k block's tiles are stored rather than added (`ck_gemm_stores_tiles`), bias
/// included, so C is written once instead of zeroed, biased and then accumulated into.
///
/// - Precondition: `MicroKernel.isAvailable`.
public func packedGEMM(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, rowBias: UnsafePointer<Float>? = nil, threaded: Bool = true,
    packedA prepacked: PackedA? = nil
) {
    guard m > 0, n > 0 else { return }
    precondition(prepacked.map { $0.m == m && $0.k == k } ?? true, "packedGEMM: packedA is not this product's A")
    let (mr, nr, level) = (MicroKernel.mr, MicroKernel.nr, Int32(MicroKernel.level))
    if threaded && MicroKernel.threads > 1 && m * n * k >= 1 << 21 {
        // Each worker computes its own slice of C (columns, or rows when C is taller than
        // wide) as an independent single-threaded product with its own packing: one
        // parallel region per product and no serial packing while other cores wait.
        let byColumns = n >= m
        let units = byColumns ? (n + nr - 1) / nr : (m + mr - 1) / mr
        let (sa, sb, sc) = (SharedPointer(a), SharedPointer(b), SharedPointer(c))
        let bias = rowBias.map { SharedPointer($0) }
        Parallel.forEachChunk(units) { chunk, _ in
            if byColumns {
                let j0 = chunk.lowerBound * nr, j1 = min(n, chunk.upperBound * nr)
                packedGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: j1 - j0, k: k, alpha: alpha,
                           a: sa.base, lda: lda, b: sb.base + (transposeB ? j0 * ldb : j0), ldb: ldb,
                           beta: beta, c: sc.base + j0, ldc: ldc, rowBias: bias.map { UnsafePointer($0.base) }, threaded: false,
                           packedA: prepacked)
            } else {
                let i0 = chunk.lowerBound * mr, i1 = min(m, chunk.upperBound * mr)
                packedGEMM(transposeA: transposeA, transposeB: transposeB, m: i1 - i0, n: n, k: k, alpha: alpha,
                           a: sa.base + (transposeA ? i0 : i0 * lda), lda: lda, b: sb.base, ldb: ldb,
                           beta: beta, c: sc.base + i0 * ldc, ldc: ldc, rowBias: bias.map { UnsafePointer($0.base + i0) },
                           threaded: false)
            }
        }
        return
    }
    // Stored tiles overwrite C in the first k block; otherwise C is scaled (and biased) first.
    let stores = beta == 0 && k > 0 && alpha != 0 && ck_gemm_stores_tiles(level) != 0
    if !stores {
        scaleRows(m: m, n: n, beta: beta, c: c, ldc: ldc)
        if let rowBias { addRowBias(m: m, n: n, bias: rowBias, c: c, ldc: ldc) }
    }
    guard k > 0, alpha != 0 else { return }
    // Block sizes: an A block (mc × kc) fits L2, a B micro-panel (kc × nr) fits L1.
    // k is split into equal blocks of at most 384 so that no block is a thin remainder.
    let kc = PackedA.kBlock(k), mc = mr * 16, nc = nr * 128
    // Sized for this product's blocks (a Winograd weight gradient's 64 × 32 products packed into
    // 2 MB blocks B allocated for every point).
    let packedA = UnsafeMutablePointer<Float>.allocate(capacity: prepacked == nil ? min(mc, (m + mr - 1) / mr * mr) * kc : 0)
    let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * min(nc, (n + nr - 1) / nr * nr))
    defer {
        packedA.deallocate()
        packedB.deallocate()
    }
    // Full panels of an untransposed B are read in place when A fits one row block (each
    // panel is then read once, as in convolution); otherwise packed panels stay in cache.
    let readBInPlace = !transposeB && m <= mc

    for jc in stride(from: 0, to: n, by: nc) {
        let nb = min(nc, n - jc)
        let panelsB = (nb + nr - 1) / nr
        for pc in stride(from: 0, to: k, by: kc) {
            let kb = min(kc, k - pc)
            // B micro-panel jp, row p: packedB[(jp·kb + p)·nr + j] = op(B)[pc + p, jc + jp·nr + j], zero past n.
            for jp in 0..<panelsB {
                let dst = packedB + jp * kb * nr
                let col0 = jc + jp * nr, cols = min(nr, n - col0)
                if readBInPlace && cols == nr { continue }
                if cols < nr { dst.update(repeating: 0, count: kb * nr) }
                if transposeB {
                    // Bᵀ is stored (n, k): columns of op(B) are contiguous rows.
                    transposeCopy(rows: cols, cols: kb, src: b + col0 * ldb + pc, srcStride: ldb, dst: dst, dstStride: nr)
                } else {
                    for p in 0..<kb { (dst + p * nr).update(from: b + (pc + p) * ldb + col0, count: cols) }
                }
            }
            for ic in stride(from: 0, to: m, by: mc) {
                let mb = min(mc, m - ic)
                let panelsA = (mb + mr - 1) / mr
                if prepacked == nil {
                    packAPanels(transposeA: transposeA, a: a, lda: lda, alpha: alpha, m: m, rowStart: ic, panels: panelsA,
                                pc: pc, kb: kb, into: packedA)
                }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr + mr) { scratch in
                    let tile = scratch.baseAddress!, zeros = tile + mr * nr
                    zeros.update(repeating: 0, count: mr)
                    for jp in 0..<panelsB {
                        let col0 = jc + jp * nr, cols = min(nr, n - col0)
                        for ip in 0..<panelsA {
                            let row0 = ic + ip * mr, rows = min(mr, m - row0)
                            let ap = prepacked?.panels(pc: pc, kb: kb, rowStart: row0) ?? UnsafePointer(packedA + ip * kb * mr)
                            let inPlace = readBInPlace && cols == nr
                            let bp = inPlace ? b + pc * ldb + col0 : UnsafePointer(packedB + jp * kb * nr)
                            let bStride = inPlace ? ldb : nr
                            let target = c + row0 * ldc + col0
                            // The first k block of stored tiles starts from the bias (or 0).
                            let initial = stores && pc == 0 ? (rowBias.map { $0 + row0 } ?? UnsafePointer(zeros)) : nil
                            if rows == mr && cols == nr {
                                ck_gemm_micro(level, kb, ap, bp, bStride, target, ldc, initial)
                            } else if cols == nr && ck_gemm_micro_rows(level, Int32(rows), kb, ap, bp, bStride, target, ldc, initial) != 0 {
                                // The last row panel, computed directly (AVX2).
                            } else {
                                tile.update(repeating: 0, count: mr * nr)
                                ck_gemm_micro(level, kb, ap, bp, bStride, tile, nr, nil)
                                for i in 0..<rows {
                                    let base = initial.map { $0[i] }
                                    for j in 0..<cols { target[i * ldc + j] = (base ?? target[i * ldc + j]) + tile[i * nr + j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Packs `panels` micro-panels of op(A)'s rows from `rowStart` for k block `pc..<pc + kb`:
/// `dst[(ip·kb + p)·mr + i] = alpha·op(A)[rowStart + ip·mr + i, pc + p]`, zero past row m.
private func packAPanels(
    transposeA: Bool, a: UnsafePointer<Float>, lda: Int, alpha: Float, m: Int, rowStart: Int, panels: Int,
    pc: Int, kb: Int, into packed: UnsafeMutablePointer<Float>
) {
    let mr = MicroKernel.mr
    for ip in 0..<panels {
        let dst = packed + ip * kb * mr
        let row0 = rowStart + ip * mr, rows = min(mr, m - row0)
        if rows < mr { dst.update(repeating: 0, count: kb * mr) }
        if transposeA {
            // Aᵀ is stored (k, m): each p reads `rows` contiguous values.
            for p in 0..<kb {
                let src = a + (pc + p) * lda + row0, col = dst + p * mr
                for i in 0..<rows { col[i] = alpha * src[i] }
            }
        } else {
            transposeCopy(rows: rows, cols: kb, src: a + row0 * lda + pc, srcStride: lda, dst: dst, dstStride: mr, scale: alpha)
        }
    }
}

/// op(A)·alpha packed once into the micro-kernel's panels for every k block, for products that
/// multiply one A by many B: a convolution's weights against each batch item's (and chunk's)
/// column matrix were packed again for every one of them (3.1 % of a ResNet-18 training step's
/// profile, in its strided layers' im2col path). Pass it to `packedGEMM` (or `gemm`) with the
/// same m and k; it replaces a, lda, alpha and transposeA there. Deallocate when done.
public struct PackedA: @unchecked Sendable {  // read-only after init; shared by the workers of one call
    let base: UnsafeMutablePointer<Float>
    let m: Int, k: Int, paddedRows: Int

    /// k block size of the packed GEMM: k split into equal blocks of at most 384.
    static func kBlock(_ k: Int) -> Int {
        let blocks = (k + 383) / 384
        return (k + blocks - 1) / max(blocks, 1)
    }

    /// Packs op(A) (m × k); `nil` without a micro-kernel or for an empty A.
    public init?(transposeA: Bool, m: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int) {
        guard MicroKernel.isAvailable, m > 0, k > 0 else { return nil }
        let mr = MicroKernel.mr, kc = Self.kBlock(k)
        (self.m, self.k, paddedRows) = (m, k, (m + mr - 1) / mr * mr)
        base = .allocate(capacity: paddedRows * k)
        for pc in stride(from: 0, to: k, by: kc) {
            packAPanels(transposeA: transposeA, a: a, lda: lda, alpha: alpha, m: m, rowStart: 0, panels: paddedRows / mr,
                        pc: pc, kb: min(kc, k - pc), into: base + pc * paddedRows)
        }
    }

    /// The panel of rows `rowStart..<rowStart + mr` (rowStart a multiple of mr) in k block `pc..<pc + kb`.
    func panels(pc: Int, kb: Int, rowStart: Int) -> UnsafePointer<Float> {
        UnsafePointer(base + pc * paddedRows + rowStart / MicroKernel.mr * kb * MicroKernel.mr)
    }

    /// Frees the panels.
    public func deallocate() { base.deallocate() }
}
