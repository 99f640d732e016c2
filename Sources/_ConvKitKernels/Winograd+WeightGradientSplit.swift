import _ConvKitMicroKernels

/// Winograd's weight gradient for a batch with few tiles and many filters, split between the
/// workers by output channels instead of by tiles.
///
/// Split by tiles (`backwardWeight`), each worker sums its own S_ξ = Ŷ_ξ · V_ξᵀ over all K × C
/// filters (36 · K · C floats, 38 MB for 512 channels), zeroed, added across workers and read
/// back for Gᵀ·S·G: with 64 tiles the products are short (32 tiles a worker) and those passes
/// over memory made the 16 × 512 × 7² weight gradient slower than the direct tiles'. Here the
/// batch's tiles are transformed once (channels split between the workers), V transposed to
/// tiles × channels, and each worker takes micro-kernel row panels of K over all tiles: a
/// panel's sums (36 · mr · C floats) stay in its cache until Gᵀ·S·G turns them into its
/// filters' gradients.
extension WinogradKernel {
    /// Whether `backwardWeight` splits `g` by filters: as `splitsFilters` (at most 64 F(4×4)
    /// tiles, transformed filters of at least 4 MiB), on CPUs with micro-kernels.
    static func splitsWeightGradient(_ g: ConvGeometry) -> Bool {
        MicroKernel.isAvailable && splitsFilters(g, .four)
    }

    /// The layout of `backwardWeightSplittingFilters`'s workspace (floats): V and Ŷ of the whole
    /// batch (points × channels × padded tiles), V transposed (points × tiles × C′, C rounded up to
    /// whole nr-wide panels), then per worker an A panel (tiles × mr) and its sums (points × mr × C′).
    private struct SplitWeightLayout {
        let tiles, paddedTiles, paddedChannels: Int
        let v, yhat, transposed, panel, sums: Int  // distances between points' matrices
        var perWorker: Int { panel + Tile.four.points * sums }
        var shared: Int { Tile.four.points * (v + yhat + transposed) }

        init(_ g: ConvGeometry) {
            let t = WinogradKernel.tiles(g, .four), nr = MicroKernel.nr, mr = MicroKernel.mr
            tiles = g.batch * t.rows * t.columns
            paddedTiles = WinogradKernel.allTilesPadded(g, .four)
            paddedChannels = (g.inChannels + nr - 1) / nr * nr
            v = WinogradKernel.pointStride(g.inChannels, paddedTiles)
            yhat = WinogradKernel.pointStride(g.outChannels, paddedTiles)
            transposed = WinogradKernel.pointStride(tiles, paddedChannels)
            panel = tiles * mr
            sums = WinogradKernel.pointStride(mr, paddedChannels)
        }
    }

    /// Floats of workspace `backwardWeightSplittingFilters` needs.
    static func splitWeightWorkspaceCount(_ g: ConvGeometry) -> Int {
        let layout = SplitWeightLayout(g)
        return layout.shared + MicroKernel.threads * layout.perWorker
    }

    /// gradWeight as `backwardWeight` computes it (Gᵀ·S_k,c·G with S_ξ = Σ_tiles Ŷ_ξ · V_ξᵀ), the
    /// work split by output channels. Overwrites `gradWeight`.
    /// - Precondition: `splitsWeightGradient(g)`.
    static func backwardWeightSplittingFilters(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let (c, k, points, layout) = (g.inChannels, g.outChannels, Tile.four.points, SplitWeightLayout(g))
        let (mr, nr, level) = (MicroKernel.mr, MicroKernel.nr, Int32(MicroKernel.level))
        let (tp, cp, count) = (layout.paddedTiles, layout.paddedChannels, layout.tiles)
        let allRows = g.batch * tiles(g, .four).rows
        let (x, dy, dw) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(gradWeight))
        let v = SharedPointer(workspace), yhat = SharedPointer(v.base + points * layout.v)
        let vt = SharedPointer(yhat.base + points * layout.yhat), own = SharedPointer(vt.base + points * layout.transposed)
        // V[ξ][c][tile] and Ŷ[ξ][k][tile] of every tile of the batch, channels split between the workers.
        Parallel.forEachChunk(c + k, workers: Parallel.memoryPassWorkers(points * (layout.v + layout.yhat))) { channels, _ in
            for i in channels {
                if i < c {
                    transformRows(g, .four, 0..<allRows, input: x.base, channel: i, into: v.base + i * tp, pointStride: layout.v)
                } else {
                    transformGradientRows(g, 0..<allRows, gradOutput: dy.base, channel: i - c,
                                          into: yhat.base + (i - c) * tp, pointStride: layout.yhat)
                }
            }
        }
        // Vᵀ_ξ (tiles, C′), zero in the columns past C: the B operand read in place by the micro-kernel.
        Parallel.forEachChunk(points, workers: Parallel.memoryPassWorkers(points * layout.transposed)) { share, _ in
            for xi in share {
                let dst = vt.base + xi * layout.transposed
                transposeCopy(rows: c, cols: count, src: v.base + xi * layout.v, srcStride: tp, dst: dst, dstStride: cp)
                if cp > c { for t in 0..<count { (dst + t * cp + c).update(repeating: 0, count: cp - c) } }
            }
        }
        // Each row panel of K: S_ξ (mr, C′) = Ŷ_ξ (mr, tiles) · Vᵀ_ξ (tiles, C′), then Gᵀ·S·G.
        Parallel.forEachChunk((k + mr - 1) / mr) { share, worker in
            let panel = own.base + worker * layout.perWorker, sums = panel + layout.panel
            let stores = ck_gemm_stores_tiles(level) != 0
            withUnsafeTemporaryAllocation(of: Float.self, capacity: mr) { zeros in
                zeros.initialize(repeating: 0)
                let initial = stores ? UnsafePointer(zeros.baseAddress!) : nil
                for p in share {
                    let k0 = p * mr, filled = min(mr, k - k0)
                    for xi in 0..<points {
                        // A: rows k0 ..< k0 + mr of Ŷ_ξ packed tile by tile (zero rows past K).
                        if filled < mr { panel.update(repeating: 0, count: layout.panel) }
                        transposeCopy(rows: filled, cols: count, src: yhat.base + xi * layout.yhat + k0 * tp, srcStride: tp,
                                      dst: panel, dstStride: mr)
                        let s = sums + xi * layout.sums
                        if !stores { s.update(repeating: 0, count: mr * cp) }
                        for j in stride(from: 0, to: cp, by: nr) {
                            ck_gemm_micro(level, count, panel, vt.base + xi * layout.transposed + j, cp, s + j, cp, initial)
                        }
                    }
                    ck_wino_filter_gradient(level, sums, layout.sums, cp, k0, k0 + filled, c, dw.base)
                }
            }
        }
    }
}
