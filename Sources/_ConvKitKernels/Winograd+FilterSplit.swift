import _ConvKitMicroKernels

/// Winograd's forward pass for a batch with few tiles (a single small image), split between the
/// workers by output channels instead of by tiles.
///
/// Split by tiles (`forward`), each worker multiplies its few tiles by every transformed filter,
/// so with 49 tiles (a 14 × 14 image in F(2×2)) the filters U, read from memory at batch 1, were
/// read once per worker for 28 or 21 tiles each, each padded to a 32-wide panel: a 512-channel
/// layer ran at 12.6 GB/s of filter reads and barely beat the direct tiles. Here the tiles of the
/// whole batch are transformed once (channels split between the workers), then each worker takes
/// a share of U's row panels over all tiles, each panel read once, prefetched while the one
/// before it is multiplied, and transforms its own output channels back.
extension WinogradKernel {
    /// Whether `forward` splits `g` by filters: at most 64 tiles in the batch (two 32-wide panels)
    /// and transformed filters of at least 4 MiB (twice a core's L2; measured at batch 1, split by
    /// filters / by tiles: F(2×2) 256 channels at 14² 0.48–0.53 / 0.57 ms, 512 at 14² 1.67 / 2.66 ms,
    /// F(4×4) 512 at 28² 4.3 / 6.1 ms, 256 at 28² equal; 128 at 28² (2.4 MiB) 0.39 / 0.33 ms).
    static func splitsFilters(_ g: ConvGeometry, _ f: Tile) -> Bool {
        let t = tiles(g, f)
        return g.batch * t.rows * t.columns <= 64 && filtersCount(g, f) >= 1 << 20
    }

    /// Whether `forwardSplittingFilters` without prepared filters transforms each worker's
    /// filters panel by panel as it multiplies them (split by filters, on a CPU with micro-kernels).
    /// F(4×4) layers then keep no prepared copy in inference; F(2×2) ones do
    /// (`preparedWeightLayout`).
    static func transformsPanels(_ g: ConvGeometry, _ f: Tile) -> Bool {
        MicroKernel.isAvailable && splitsFilters(g, f)
    }

    /// Columns of V and M: the batch's tiles rounded up to whole micro-kernel panels.
    static func allTilesPadded(_ g: ConvGeometry, _ f: Tile) -> Int {
        let t = tiles(g, f), count = g.batch * t.rows * t.columns
        return MicroKernel.isAvailable ? (count + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : count
    }

    /// Floats of workspace `forwardSplittingFilters` needs: the transformed filters (all of them,
    /// or each worker's panel of them, whichever is larger), then V and M of the whole batch.
    static func filterSplitWorkspaceCount(_ g: ConvGeometry, _ f: Tile) -> Int {
        max(filtersCount(g, f), MicroKernel.threads * filterPanelCount(g, f))
            + f.points * (pointStride(g.inChannels, allTilesPadded(g, f)) + pointStride(paddedChannels(g), allTilesPadded(g, f)))
    }

    /// Floats of one worker's panel of transformed filters: mr filters' U_ξ (mr × C, packed as
    /// `transformFilters` packs a row panel) for every point, a cache line apart (`pointStride`).
    static func filterPanelCount(_ g: ConvGeometry, _ f: Tile) -> Int { f.points * pointStride(MicroKernel.mr, g.inChannels) }

    /// output = conv(input, weight) + bias by F(m×m, 3×3), as `forward` computes it (same
    /// arguments, same results), with the work split by output channels.
    ///
    /// Without `prepared` weights on a CPU with micro-kernels, each worker transforms its mr
    /// filters of a row panel just before multiplying them, into its own panel of the workspace
    /// (36 · mr · C floats, in L2), then transforms those output channels back while M's rows are
    /// in cache: the whole of U (36 · K · C floats, 38 MB for 512 channels) never goes to memory.
    /// Written whole and read back it took 40 % of a 16 × 512 × 7² pass (its 36 point matrices a
    /// MiB apart, all in one cache set), 2026-12-05.
    static func forwardSplittingFilters(
        _ g: ConvGeometry, _ f: Tile, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil
    ) {
        let (c, k, kp, tm, points) = (g.inChannels, g.outChannels, paddedChannels(g), f.rawValue, f.points)
        let panels = prepared == nil && transformsPanels(g, f)  // filters transformed panel by panel
        if prepared == nil && !panels { transformFilters(g, f, weight: weight, into: workspace) }
        let t = tiles(g, f), tp = allTilesPadded(g, f), count = g.batch * t.rows * t.columns
        let (oh, ow) = (g.outputSize[0], g.outputSize[1]), level = Int32(MicroKernel.level)
        let u = SharedPointer(prepared ?? UnsafePointer(workspace)), filters = SharedPointer(weight)
        let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
        let v = SharedPointer(workspace + max(filtersCount(g, f), MicroKernel.threads * filterPanelCount(g, f)))
        let m = SharedPointer(v.base + points * vps)
        let (x, y, b) = (SharedPointer(input), SharedPointer(output), bias.map { SharedPointer($0) })
        let res = residual.map { SharedPointer($0) }
        let outputTransform = f.outputTransform
        // V[ξ][c][tile], tile = (n · rows + tile row) · columns + tile column, zero past the batch's tiles.
        Parallel.forEachChunk(c, workers: Parallel.memoryPassWorkers(points * vps)) { channels, _ in
            for ci in channels {
                transformRows(g, f, 0..<(g.batch * t.rows), input: x.base, channel: ci, into: v.base + ci * tp, pointStride: vps)
                if tp > count {
                    for xi in 0..<points { (v.base + xi * vps + ci * tp + count).update(repeating: 0, count: tp - count) }
                }
            }
        }
        // The output channels `rows` transformed back from M: four tile rows a call where
        // `quadsTileRows`, else one; each tile row's lines then clamped (with the residual added).
        let quads = quadsTileRows(g, f), allRows = g.batch * t.rows
        @Sendable func transformBack(_ rows: Range<Int>) {
            for ki in rows.lowerBound..<min(rows.upperBound, k) {
                let bk = b.map { $0.base[ki] } ?? 0
                func out(_ r: Int) -> (UnsafeMutablePointer<Float>, Int) {
                    let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                    return (y.base + ((n * k + ki) * oh + tm * ty) * ow, min(tm, oh - tm * ty))
                }
                func finish(_ dst: UnsafeMutablePointer<Float>, _ lines: Int) {
                    ClampKernel.apply(dst, count: lines * ow, clamp, adding: res.map { UnsafePointer($0.base + (dst - y.base)) })
                }
                var r = 0
                while r < allRows {
                    let src = m.base + ki * tp + r * t.columns, (dst, lines) = out(r)
                    if quads, r + 3 < allRows {
                        let (d1, n1) = out(r + 1), (d2, n2) = out(r + 2), (d3, n3) = out(r + 3)
                        if ck_wino_output_quad(level, src, mps, t.columns, bk, dst, lines, d1, n1, d2, n2, d3, n3, ow, ow) != 0 {
                            finish(dst, lines)
                            finish(d1, n1)
                            finish(d2, n2)
                            finish(d3, n3)
                            r += 4
                            continue
                        }
                    }
                    outputTransform(level, src, mps, t.columns, bk, dst, ow, lines, ow)
                    finish(dst, lines)
                    r += 1
                }
            }
        }
        // M_ξ (K′, tp) = U_ξ (K′, C) · V_ξ (C, tp) over each worker's row panels, then its channels' outputs.
        let panelRows = MicroKernel.isAvailable ? MicroKernel.mr : kp
        Parallel.forEachChunk(kp / panelRows) { share, worker in
            guard panels else {
                let rows = (share.lowerBound * panelRows)..<(share.upperBound * panelRows)
                multiply(g, f, u: u.base, v: v.base, m: m.base, rows: rows, paddedTiles: tp)
                return transformBack(rows)
            }
            let panel = u.base + worker * filterPanelCount(g, f), ups = pointStride(panelRows, c)
            for p in share {
                let rows = (p * panelRows)..<((p + 1) * panelRows), filled = min(k, rows.upperBound) - rows.lowerBound
                if filled < panelRows { panel.update(repeating: 0, count: filterPanelCount(g, f)) }
                (f == .four ? ck_wino_filters : ck_wino2_filters)(filters.base + rows.lowerBound * c * 9, 0, filled, c, ups, panelRows, panel)
                multiplyPanel(g, f, panel: panel, pointStride: ups, v: v.base, m: m.base, rows: rows, paddedTiles: tp)
                transformBack(rows)
            }
        }
    }

    /// Rows `rows` (one micro-kernel row panel) of M_ξ (K′, tp) = U_ξ · V_ξ for every point, from
    /// that panel of each U_ξ at `panel + ξ · pointStride` (in cache: `forwardSplittingFilters`).
    private static func multiplyPanel(
        _ g: ConvGeometry, _ f: Tile, panel: UnsafePointer<Float>, pointStride ups: Int, v: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, rows: Range<Int>, paddedTiles tp: Int
    ) {
        let (c, kp) = (g.inChannels, paddedChannels(g))
        let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
        let (nr, level) = (MicroKernel.nr, Int32(MicroKernel.level))
        let stores = ck_gemm_stores_tiles(level) != 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows.count) { zeros in
            zeros.initialize(repeating: 0)
            let initial = stores ? UnsafePointer(zeros.baseAddress!) : nil
            for xi in 0..<f.points {
                let cc = m + xi * mps + rows.lowerBound * tp
                if !stores { cc.update(repeating: 0, count: rows.count * tp) }
                for j in stride(from: 0, to: tp, by: nr) {
                    ck_gemm_micro(level, c, panel + xi * ups, v + xi * vps + j, tp, cc + j, tp, initial)
                }
            }
        }
    }

    /// Rows `rows` of M_ξ (K′, tp) = U_ξ (K′, C) · V_ξ (C, tp) for every point: each row panel of
    /// U_ξ times every column panel of V_ξ while the next panel is prefetched (the panels come
    /// from memory once; V stays in L2), or the GEMM where there is no micro-kernel.
    private static func multiply(
        _ g: ConvGeometry, _ f: Tile, u: UnsafePointer<Float>, v: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        rows: Range<Int>, paddedTiles tp: Int
    ) {
        let (c, kp, points) = (g.inChannels, paddedChannels(g), f.points)
        let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
        guard MicroKernel.isAvailable else {
            for xi in 0..<points {
                gemm(transposeA: false, transposeB: false, m: rows.count, n: tp, k: c, a: u + (xi * kp + rows.lowerBound) * c, lda: c,
                     b: v + xi * vps, ldb: tp, beta: 0, c: m + xi * mps + rows.lowerBound * tp, ldc: tp, threaded: false)
            }
            return
        }
        let (mr, nr, level) = (MicroKernel.mr, MicroKernel.nr, Int32(MicroKernel.level))
        let stores = ck_gemm_stores_tiles(level) != 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr) { zeros in
            zeros.initialize(repeating: 0)
            let initial = stores ? UnsafePointer(zeros.baseAddress!) : nil
            for xi in 0..<points {
                let (a, bb, cc) = (u + xi * kp * c, v + xi * vps, m + xi * mps)
                for i in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                    // The next panel: this point's next rows, or the next point's first.
                    let next = i + mr < rows.upperBound ? a + (i + mr) * c : xi + 1 < points ? a + kp * c + rows.lowerBound * c : nil
                    if let next { ck_prefetch(next, mr * c * MemoryLayout<Float>.size) }
                    if !stores { (cc + i * tp).update(repeating: 0, count: mr * tp) }
                    for j in stride(from: 0, to: tp, by: nr) {
                        ck_gemm_micro(level, c, a + i * c, bb + j, tp, cc + i * tp + j, tp, initial)
                    }
                }
            }
        }
    }
}
