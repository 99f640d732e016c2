import _ConvKitMicroKernels

/// Winograd F(4×4, 3×3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
/// Networks", 2016): each 4 × 4 output tile is Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A from its 6 × 6 input
/// patch d, so a tile costs 36 multiplies per (input, output) channel pair instead of 144.
///
/// Over a block of tiles the element-wise products become 36 GEMMs, one per transform point ξ:
///   U_ξ (K, C) = (G·g·Gᵀ)_ξ of every filter (computed in double, once per call),
///   V_ξ (C, T) = (Bᵀ·d·B)_ξ of every tile (C micro-kernels, Winograd.c),
///   M_ξ (K, T) = U_ξ · V_ξ (the packed GEMM), then Aᵀ·M·A + bias into the output.
/// Shapes: input (N, C, H, W), weight (K, C, 3, 3), output (N, K, H_out, W_out); a block is a
/// run of tile rows of one image, sized so that V and M stay near the caches, and blocks are
/// split across worker threads, each with its own slab of the workspace.
enum WinogradKernel {
    /// Transform points per tile (6 × 6).
    static let points = 36

    /// Whether F(4×4, 3×3) computes `g`: 2-D, 3 × 3, stride 1, dilation 1, one group, zero
    /// padding, at least 8 input channels (the GEMM's reduction).
    static func applies(_ g: ConvGeometry) -> Bool {
        g.rank == 2 && g.kernelSize == [3, 3] && g.stride == [1, 1] && g.dilation == [1, 1] && g.groups == 1
            && g.paddingMode == .zeros && g.inChannels >= 8 && g.batch > 0 && g.outputPlane > 0
    }

    /// Where `.automatic` takes Winograd: enough channels for the GEMMs to dominate the
    /// transforms (per tile the GEMMs cost ∝ C·K and the transforms ∝ C + K; measured, C = K = 32
    /// ran at 0.8–1.0× the direct tiles and C = K = 64 at 1.6–2.3×, so C·K/(C + K) ≥ 24), outputs
    /// of at least 8 × 8, where partial tiles waste little, and at least 48 tiles in the batch:
    /// a single 28 × 28 image's 49 (blocks of 28 tiles, 87 % of a 32-wide panel) ran ResNet-18,
    /// ResNet-50 and VGG-16 at batch 1 1.07×, 1.03× and 1.17× faster than direct tiles (A/B,
    /// 2026-12-04); a 14 × 14 image's 16 (blocks of 8) ran its layers 1.8× slower.
    static func pays(_ g: ConvGeometry) -> Bool {
        applies(g) && g.inChannels * g.outChannels >= 24 * (g.inChannels + g.outChannels)
            && g.outputSize[0] >= 8 && g.outputSize[1] >= 8 && g.batch * tiles(g).rows * tiles(g).columns >= 48
    }

    /// Tile rows and columns of an output plane.
    static func tiles(_ g: ConvGeometry) -> (rows: Int, columns: Int) {
        ((g.outputSize[0] + 3) / 4, (g.outputSize[1] + 3) / 4)
    }

    /// Tile rows per block, counted over the whole batch (a block may span images, so small
    /// planes still give the GEMMs wide products): V and M of a block (36 · (C + K) floats per
    /// tile) as below, at least one tile row.
    static func blockRows(_ g: ConvGeometry) -> Int {
        let perTile = points * (g.inChannels + g.outChannels), t = tiles(g), allRows = g.batch * t.rows
        // About 128 tiles (four 32-wide micro-kernel panels) and V + M within 4 MiB (L2 for each
        // point's product, L3 for the block), then no more than an equal share of every worker.
        let target = max(1, min((128 + t.columns - 1) / t.columns, (1 << 20) / (perTile * t.columns)))
        return min(target, (allRows + MicroKernel.threads - 1) / MicroKernel.threads)
    }

    /// Rows of each U_ξ and M_ξ: K rounded up to whole micro-kernel row panels (zero filters
    /// past K), or K where the portable GEMM runs.
    static func paddedChannels(_ g: ConvGeometry) -> Int {
        MicroKernel.isAvailable ? (g.outChannels + MicroKernel.mr - 1) / MicroKernel.mr * MicroKernel.mr : g.outChannels
    }

    /// Columns of each V_ξ and M_ξ: a block's tiles rounded up to whole micro-kernel panels.
    static func paddedTiles(_ g: ConvGeometry) -> Int {
        let tiles = blockRows(g) * tiles(g).columns
        return MicroKernel.isAvailable ? (tiles + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : tiles
    }

    /// One worker's slab: V and M of a block.
    static func slab(_ g: ConvGeometry) -> (v: Int, m: Int) {
        (points * g.inChannels * paddedTiles(g), points * paddedChannels(g) * paddedTiles(g))
    }

    /// Workers: one per core, at most one per block.
    static func workers(_ g: ConvGeometry) -> Int {
        max(1, min(MicroKernel.threads, blocks(g)))
    }

    /// Blocks of `blockRows(g)` tile rows over the batch's N · tile rows.
    static func blocks(_ g: ConvGeometry) -> Int {
        (g.batch * tiles(g).rows + blockRows(g) - 1) / blockRows(g)
    }

    /// Runs `body(tileRows, worker)` over blocks of at most `blockRows(g)` of the batch's tile
    /// rows: the rows are first split evenly between the workers (±1 row), then each share into
    /// near-equal blocks, so no worker waits for another's extra block (a static split of whole
    /// blocks gave one worker 4 blocks and the other 3 at 28², 3 and 2 at 14², 2 and 1 at 7²
    /// in ResNet-18 at batch 16: the caller spun waiting for 13 % of that forward pass's profile,
    /// 3.5 % after). `first(worker)` runs once on each worker before its blocks.
    static func forEachBlock(
        _ g: ConvGeometry, first: @Sendable (Int) -> Void = { _ in },
        _ body: @Sendable (_ tileRows: Range<Int>, _ worker: Int) -> Void
    ) {
        let rowsPerBlock = blockRows(g)
        Parallel.forEachChunk(g.batch * tiles(g).rows, workers: workers(g)) { share, worker in
            first(worker)
            let count = (share.count + rowsPerBlock - 1) / rowsPerBlock
            for i in 0..<count {
                body((share.lowerBound + share.count * i / count)..<(share.lowerBound + share.count * (i + 1) / count), worker)
            }
        }
    }

    /// Floats of the transformed filters U (36 × padded K × C), what `transformFilters` writes.
    static func filtersCount(_ g: ConvGeometry) -> Int { points * paddedChannels(g) * g.inChannels }

    /// Floats of workspace: the transformed filters, then one slab per worker.
    static func workspaceCount(_ g: ConvGeometry) -> Int {
        let s = slab(g)
        return filtersCount(g) + workers(g) * (s.v + s.m)
    }

    /// output = conv(input, weight) + bias, each block's output rows added to `residual` and
    /// clamped to `clamp` (each when given) right after the output transform writes them.
    /// Overwrites `output`. `prepared`: the filters already transformed (`transformFilters`), else
    /// they are transformed into the workspace.
    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil
    ) {
        let (c, k, kp) = (g.inChannels, g.outChannels, paddedChannels(g))
        if prepared == nil { transformFilters(g, weight: weight, into: workspace) }
        let t = tiles(g), s = slab(g)
        let (h, w) = (g.inputSize[0], g.inputSize[1]), (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let (top, left) = (g.padBefore[0], g.padBefore[1]), level = Int32(MicroKernel.level)
        let (x, y, u) = (SharedPointer(input), SharedPointer(output), SharedPointer(prepared ?? UnsafePointer(workspace)))
        let ws = SharedPointer(workspace + points * kp * c), b = bias.map { SharedPointer($0) }
        let res = residual.map { SharedPointer($0) }
        forEachBlock(g) { block, worker in
            let v = ws.base + worker * (s.v + s.m), m = v + s.v
            // Tile rows r0..<r1 of the batch: row r is tile row r % rows of image r / rows.
            let (r0, r1) = (block.lowerBound, block.upperBound)
            let blockTiles = (r1 - r0) * t.columns
            let tp = MicroKernel.isAvailable ? (blockTiles + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : blockTiles
            // V[ξ][c][tile]: the input transform of each channel's tile rows (zero past the block's tiles).
            for r in r0..<r1 {
                let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                for ci in 0..<c {
                    ck_wino_input(level, x.base + (n * c + ci) * h * w, h, w, 4 * ty - top, left, t.columns,
                                  v + ci * tp + (r - r0) * t.columns, c * tp)
                }
            }
            if tp > blockTiles {
                for row in 0..<(points * c) { (v + row * tp + blockTiles).update(repeating: 0, count: tp - blockTiles) }
            }
            multiply(g, u: u.base, v: v, m: m, tiles: blockTiles, paddedTiles: tp)
            for r in r0..<r1 {
                let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                for ki in 0..<k {
                    let dst = y.base + ((n * k + ki) * oh + 4 * ty) * ow
                    ck_wino_output(level, m + ki * tp + (r - r0) * t.columns, kp * tp, t.columns,
                                   b.map { $0.base[ki] } ?? 0, dst, ow, min(4, oh - 4 * ty), ow)
                    ClampKernel.apply(dst, count: min(4, oh - 4 * ty) * ow, clamp, adding: res.map { UnsafePointer($0.base + (dst - y.base)) })
                }
            }
        }
    }

    /// Floats of workspace `backwardWeight` needs: per worker, V and the transformed output
    /// gradient of a block and its own transform-domain sums (36 · K · C).
    static func weightWorkspaceCount(_ g: ConvGeometry) -> Int {
        let tp = paddedTiles(g), sums = points * g.outChannels * g.inChannels
        return workers(g) * (points * (g.inChannels + g.outChannels) * tp + sums)
    }

    /// gradWeight = Σ over the batch's tiles of Gᵀ·[(A·dy·Aᵀ) ⊙ (Bᵀ·d·B)]·G (the forward map's
    /// transpose in g): per point ξ, S_ξ (K, C) = Σ_tiles Ŷ_ξ (K, tiles) · V_ξᵀ (tiles, C) as GEMMs
    /// over blocks, each worker summing its own S; then Gᵀ·S·G per filter. Overwrites `gradWeight`.
    static func backwardWeight(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let (c, k) = (g.inChannels, g.outChannels)
        let t = tiles(g), tp = paddedTiles(g)
        let (h, w) = (g.inputSize[0], g.inputSize[1]), (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let (top, left) = (g.padBefore[0], g.padBefore[1]), level = Int32(MicroKernel.level)
        let sums = points * k * c, perWorker = points * (c + k) * tp + sums, workerCount = workers(g)
        let (x, dy, ws) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(workspace))
        let zeroSums: @Sendable (Int) -> Void = { worker in (ws.base + worker * perWorker + points * (c + k) * tp).update(repeating: 0, count: sums) }
        forEachBlock(g, first: zeroSums) { block, worker in
            let v = ws.base + worker * perWorker, yhat = v + points * c * tp, s = yhat + points * k * tp
            let (r0, r1) = (block.lowerBound, block.upperBound)
            let blockTiles = (r1 - r0) * t.columns
            for r in r0..<r1 {
                let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                for ci in 0..<c {
                    ck_wino_input(level, x.base + (n * c + ci) * h * w, h, w, 4 * ty - top, left, t.columns,
                                  v + ci * tp + (r - r0) * t.columns, c * tp)
                }
                for ki in 0..<k {
                    ck_wino_gradient(level, dy.base + (n * k + ki) * oh * ow, oh, ow, 4 * ty, t.columns,
                                     yhat + ki * tp + (r - r0) * t.columns, k * tp)
                }
            }
            // S_ξ (K, C) += Ŷ_ξ (K, tiles) · V_ξᵀ (tiles, C)
            for xi in 0..<points {
                gemm(transposeA: false, transposeB: true, m: k, n: c, k: blockTiles, a: yhat + xi * k * tp, lda: tp,
                     b: v + xi * c * tp, ldb: tp, beta: 1, c: s + xi * k * c, ldc: c, threaded: false)
            }
        }
        let total = ws.base + points * (c + k) * tp  // worker 0's sums
        for worker in 1..<max(1, min(workerCount, blocks(g))) {
            let partial = ws.base + worker * perWorker + points * (c + k) * tp
            for i in 0..<sums { total[i] += partial[i] }
        }
        let (sum, dw) = (SharedPointer(total), SharedPointer(gradWeight))
        Parallel.forEachChunk(k, workers: Parallel.memoryPassWorkers(sums)) { rows, _ in
            ck_wino_filter_gradient(sum.base, k, rows.lowerBound, rows.upperBound, c, dw.base)
        }
    }

    /// M_ξ (K′, tp) = U_ξ (K′, C) · V_ξ (C, tp) for the 36 points: micro-kernel tiles over U's
    /// pre-packed row panels and V read in place (tp a whole number of panels), or the GEMM
    /// where there is no micro-kernel.
    private static func multiply(
        _ g: ConvGeometry, u: UnsafePointer<Float>, v: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        tiles: Int, paddedTiles tp: Int
    ) {
        let (c, kp) = (g.inChannels, paddedChannels(g))
        guard MicroKernel.isAvailable else {
            for xi in 0..<points {
                gemm(transposeA: false, transposeB: false, m: kp, n: tiles, k: c, a: u + xi * kp * c, lda: c,
                     b: v + xi * c * tp, ldb: tp, beta: 0, c: m + xi * kp * tp, ldc: tp, threaded: false)
            }
            return
        }
        let (mr, nr, level) = (MicroKernel.mr, MicroKernel.nr, Int32(MicroKernel.level))
        let stores = ck_gemm_stores_tiles(level) != 0
        if !stores { m.update(repeating: 0, count: points * kp * tp) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr) { zeros in
            zeros.initialize(repeating: 0)
            let initial = stores ? UnsafePointer(zeros.baseAddress!) : nil
            for xi in 0..<points {
                let (a, bb, cc) = (u + xi * kp * c, v + xi * c * tp, m + xi * kp * tp)
                for j in stride(from: 0, to: tp, by: nr) {
                    for i in stride(from: 0, to: kp, by: mr) {
                        ck_gemm_micro(level, c, a + i * c, bb + j, tp, cc + i * tp + j, tp, initial)
                    }
                }
            }
        }
    }

    /// U_ξ = (G·g_kc·Gᵀ)_ξ in double, rounded once (`ck_wino_filters`), stored as row panels of the
    /// micro-kernel (U[ξ][k / mr][c][k % mr], zero rows up to K′) or as plain (K, C) matrices without one. G for the points 0, ±1, ±2, ∞:
    /// [[1/4, 0, 0], [−1/6, −1/6, −1/6], [−1/6, 1/6, −1/6], [1/24, 1/12, 1/6], [1/24, −1/12, 1/6], [0, 0, 1]].
    static func transformFilters(_ g: ConvGeometry, weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (c, k, kp) = (g.inChannels, g.outChannels, paddedChannels(g))
        let mr = MicroKernel.isAvailable ? MicroKernel.mr : 1
        let (w, out) = (SharedPointer(weight), SharedPointer(u))
        if kp > k {
            for xi in 0..<points { (u + xi * kp * c + (kp - mr) * c).update(repeating: 0, count: mr * c) }
        }
        Parallel.forEachChunk(k, workers: Parallel.memoryPassWorkers(k * c * points)) { rows, _ in
            ck_wino_filters(w.base, rows.lowerBound, rows.upperBound, c, kp, mr, out.base)
        }
    }
}
