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

    /// Columns of V and M: the batch's tiles rounded up to whole micro-kernel panels.
    static func allTilesPadded(_ g: ConvGeometry, _ f: Tile) -> Int {
        let t = tiles(g, f), count = g.batch * t.rows * t.columns
        return MicroKernel.isAvailable ? (count + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : count
    }

    /// Floats of workspace `forwardSplittingFilters` needs: the transformed filters, then V and M
    /// of the whole batch.
    static func filterSplitWorkspaceCount(_ g: ConvGeometry, _ f: Tile) -> Int {
        filtersCount(g, f) + f.points * (pointStride(g.inChannels, allTilesPadded(g, f)) + pointStride(paddedChannels(g), allTilesPadded(g, f)))
    }

    /// output = conv(input, weight) + bias by F(m×m, 3×3), as `forward` computes it (same
    /// arguments, same results), with the work split by output channels.
    static func forwardSplittingFilters(
        _ g: ConvGeometry, _ f: Tile, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil
    ) {
        let (c, k, kp, tm, points) = (g.inChannels, g.outChannels, paddedChannels(g), f.rawValue, f.points)
        if prepared == nil { transformFilters(g, f, weight: weight, into: workspace) }
        let t = tiles(g, f), tp = allTilesPadded(g, f), count = g.batch * t.rows * t.columns
        let (h, w) = (g.inputSize[0], g.inputSize[1]), (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let (top, left) = (g.padBefore[0], g.padBefore[1]), level = Int32(MicroKernel.level)
        let u = SharedPointer(prepared ?? UnsafePointer(workspace))
        let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
        let v = SharedPointer(workspace + points * kp * c), m = SharedPointer(v.base + points * vps)
        let (x, y, b) = (SharedPointer(input), SharedPointer(output), bias.map { SharedPointer($0) })
        let res = residual.map { SharedPointer($0) }
        let (inputTransform, outputTransform) = (f.inputTransform, f.outputTransform)
        // V[ξ][c][tile], tile = (n · rows + tile row) · columns + tile column, zero past the batch's tiles.
        Parallel.forEachChunk(c, workers: Parallel.memoryPassWorkers(points * vps)) { channels, _ in
            for ci in channels {
                for r in 0..<(g.batch * t.rows) {
                    let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                    inputTransform(level, x.base + (n * c + ci) * h * w, h, w, tm * ty - top, left, t.columns,
                                   v.base + ci * tp + r * t.columns, vps)
                }
                if tp > count {
                    for xi in 0..<points { (v.base + xi * vps + ci * tp + count).update(repeating: 0, count: tp - count) }
                }
            }
        }
        // M_ξ (K′, tp) = U_ξ (K′, C) · V_ξ (C, tp) over each worker's row panels, then its channels' outputs.
        let panelRows = MicroKernel.isAvailable ? MicroKernel.mr : kp
        Parallel.forEachChunk(kp / panelRows) { panels, _ in
            let rows = (panels.lowerBound * panelRows)..<(panels.upperBound * panelRows)
            multiply(g, f, u: u.base, v: v.base, m: m.base, rows: rows, paddedTiles: tp)
            for ki in rows.lowerBound..<min(rows.upperBound, k) {
                for r in 0..<(g.batch * t.rows) {
                    let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                    let lines = min(tm, oh - tm * ty), dst = y.base + ((n * k + ki) * oh + tm * ty) * ow
                    outputTransform(level, m.base + ki * tp + r * t.columns, mps, t.columns,
                                    b.map { $0.base[ki] } ?? 0, dst, ow, lines, ow)
                    ClampKernel.apply(dst, count: lines * ow, clamp, adding: res.map { UnsafePointer($0.base + (dst - y.base)) })
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
