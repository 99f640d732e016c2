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
/// split across worker threads, each with its own slab of the workspace (or, for batches of few
/// tiles and large filters, the filters split instead: `Winograd+FilterSplit.swift`).
/// F(2×2, 3×3) (`Tile.two`, Winograd2x2.c) is the same with 2 × 2 tiles and 16 points.
enum WinogradKernel {
    /// Which of Winograd's algorithms: F(m×m, 3×3) for output tiles of m × m = 4 × 4 (36 points
    /// per tile, 2.25 multiplies per output and channel pair) or 2 × 2 (16 points, 4 multiplies,
    /// transformed filters 16/9 of the weights instead of 36/9: for batches with few F(4×4) tiles,
    /// where reading the filters costs more than the multiplies, `ck_wino2_*`).
    enum Tile: Int, Sendable {
        case four = 4, two = 2

        /// Transform points per tile: (m + 2)².
        var points: Int { (rawValue + 2) * (rawValue + 2) }
        /// The input transform of one channel's tile row (`ck_wino_input`, `ck_wino2_input`).
        var inputTransform: @convention(c) (Int32, UnsafePointer<Float>?, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>?, Int) -> Void {
            self == .four ? ck_wino_input : ck_wino2_input
        }
        /// The output transform of one output channel's tile row (`ck_wino_output`, `ck_wino2_output`).
        var outputTransform: @convention(c) (Int32, UnsafePointer<Float>?, Int, Int, Float, UnsafeMutablePointer<Float>?, Int, Int, Int) -> Void {
            self == .four ? ck_wino_output : ck_wino2_output
        }
    }

    /// Whether F(4×4, 3×3) computes `g`: 2-D, 3 × 3, stride 1, dilation 1, one group, zero
    /// padding, at least 8 input channels (the GEMM's reduction).
    static func applies(_ g: ConvGeometry) -> Bool {
        g.rank == 2 && g.kernelSize == [3, 3] && g.stride == [1, 1] && g.dilation == [1, 1] && g.groups == 1
            && g.paddingMode == .zeros && g.inChannels >= 8 && g.batch > 0 && g.outputPlane > 0
    }

    /// Where `.automatic` takes Winograd: enough channels for the GEMMs to dominate the
    /// transforms (per tile the GEMMs cost ∝ C·K and the transforms ∝ C + K), outputs of at least
    /// 8 × 8, where partial tiles waste little, and at least 48 tiles in the batch: a single
    /// 28 × 28 image's 49 (blocks of 28 tiles, 87 % of a 32-wide panel) ran ResNet-18, ResNet-50
    /// and VGG-16 at batch 1 1.07×, 1.03× and 1.17× faster than direct tiles (A/B, 2026-12-04); a
    /// 14 × 14 image's 16 (blocks of 8) ran its layers 1.8× slower. C·K/(C + K) ≥ 24 (C = K = 64
    /// and up, 1.6–2.3× the direct tiles), or ≥ 16 (C = K = 32, C = 32 and K = 64) with outputs of
    /// at least 14 × 14: since the transforms stopped evicting their own lines (`pointStride`),
    /// 64×32×28² → 32 runs 1.30× / 1.25× the direct tiles forward / backward and 64×32×14² → 64
    /// 1.19× / 1.02× (benchmark rows, 2026-12-05; before, 0.8–1.0×); at AVX2 2.2× / 2.0× and
    /// 1.9× / 1.5×. With two tile rows a pass (`pairsTileRows`) the course CNN ran inference at
    /// batch 256 and 1 1.19× and 1.24× faster this way, its max pool on its own, than with direct
    /// tiles that pool as they store; pooling in the output transform's registers
    /// (`ck_wino_output_pair_pooled`) then took b256 another 1.07–1.25× (A/B, 3 pairs). That band
    /// only where the CPU has vector kernels (the portable path unmeasured).
    ///
    /// Smaller outputs (7 × 7, a tile and three quarters a side: 31 % of F(4×4)'s products
    /// wasted) where the batch's tiles split the work by filters (`splitsFilters`: 48 to 64
    /// tiles, filters of 4 MiB and more) on vector CPUs: each worker's filters transformed as it
    /// multiplies them and the weight gradient split by filters too. 16×512×7² → 512 (ResNet's
    /// last stage at batch 16) forward / backward: 877–989 / 498–520 effective GFLOP/s against the
    /// direct tiles' 484–487 / 305–309 and PyTorch's 527–532 / 329–333 (benchmark rows, 2026-12-05).
    static func pays(_ g: ConvGeometry) -> Bool {
        guard applies(g) else { return false }  // 2-D: the output sizes below exist
        let (c, k) = (g.inChannels, g.outChannels), (oh, ow) = (g.outputSize[0], g.outputSize[1])
        guard !fewTiles(g) && c * k >= 16 * (c + k) else { return false }
        if oh >= 8 && ow >= 8 {
            return c * k >= 24 * (c + k) || (MicroKernel.isAvailable && oh >= 14 && ow >= 14)
        }
        return MicroKernel.isAvailable && oh >= 4 && ow >= 4 && c * k >= 24 * (c + k) && splitsFilters(g, .four)
    }

    /// Fewer than 48 F(4×4) tiles in the batch, where F(2×2) serves a Winograd forward pass.
    static func fewTiles(_ g: ConvGeometry) -> Bool {
        g.batch * tiles(g, .four).rows * tiles(g, .four).columns < 48
    }

    /// Where `.automatic` takes F(2×2, 3×3): batches with few F(4×4) tiles, C·K/(C + K) ≥ 32 and
    /// at least 32 F(2×2) tiles. Measured at batch 1, 14 × 14 (49 tiles), filters from memory,
    /// F(2×2) / direct: 64 channels 42.6 / 48.6 µs, 128 0.117 / 0.172 ms, 256 0.48–0.53 / 0.68–0.70 ms,
    /// 512 1.67 / 2.70 ms; at 7 × 7 (16 tiles, half a 32-wide panel) 1.35–3.0× slower than the
    /// gathered tiles, so not taken there (2026-12-04).
    static func paysWithSmallTiles(_ g: ConvGeometry) -> Bool {
        applies(g) && fewTiles(g) && g.inChannels * g.outChannels >= 32 * (g.inChannels + g.outChannels)
            && g.batch * tiles(g, .two).rows * tiles(g, .two).columns >= 32
    }

    /// Tile rows and columns of an output plane.
    static func tiles(_ g: ConvGeometry, _ f: Tile) -> (rows: Int, columns: Int) {
        let m = f.rawValue
        return ((g.outputSize[0] + m - 1) / m, (g.outputSize[1] + m - 1) / m)
    }

    /// Tile rows per block, counted over the whole batch (a block may span images, so small
    /// planes still give the GEMMs wide products): V and M of a block (points · (C + K) floats per
    /// tile) as below, at least one tile row.
    static func blockRows(_ g: ConvGeometry, _ f: Tile) -> Int {
        let perTile = f.points * (g.inChannels + g.outChannels), t = tiles(g, f), allRows = g.batch * t.rows
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
    static func paddedTiles(_ g: ConvGeometry, _ f: Tile) -> Int {
        let tiles = blockRows(g, f) * tiles(g, f).columns
        return MicroKernel.isAvailable ? (tiles + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : tiles
    }

    /// One worker's slab: V and M of a block.
    static func slab(_ g: ConvGeometry, _ f: Tile) -> (v: Int, m: Int) {
        (f.points * pointStride(g.inChannels, paddedTiles(g, f)), f.points * pointStride(paddedChannels(g), paddedTiles(g, f)))
    }

    /// The distance in floats from one point's matrix to the next in V, M and Ŷ (each `rows` ×
    /// `columns`): the matrix and one cache line more. Without the line it is a multiple of 4 KiB
    /// wherever C or K is a multiple of 32 (the columns are whole 32-wide panels), so the 36 stores
    /// of an input transform's tile vector (and the output transform's 36 loads) all fall in one
    /// set of the L1 cache, 12 lines deep, and evict each other: a 56² input transform took 215 ns
    /// a call with 64 channels, 62 ns with the line (C harness, 2026-12-05).
    static func pointStride(_ rows: Int, _ columns: Int) -> Int { rows * columns + 16 }

    /// Workers: one per core, at most one per block.
    static func workers(_ g: ConvGeometry, _ f: Tile) -> Int {
        max(1, min(MicroKernel.threads, blocks(g, f)))
    }

    /// Blocks of `blockRows(g)` tile rows over the batch's N · tile rows.
    static func blocks(_ g: ConvGeometry, _ f: Tile) -> Int {
        (g.batch * tiles(g, f).rows + blockRows(g, f) - 1) / blockRows(g, f)
    }

    /// Runs `body(tileRows, worker)` over blocks of at most `blockRows(g)` of the batch's tile
    /// rows: the rows are first split evenly between the workers (±1 row), then each share into
    /// near-equal blocks, so no worker waits for another's extra block (a static split of whole
    /// blocks gave one worker 4 blocks and the other 3 at 28², 3 and 2 at 14², 2 and 1 at 7²
    /// in ResNet-18 at batch 16: the caller spun waiting for 13 % of that forward pass's profile,
    /// 3.5 % after). `first(worker)` runs once on each worker before its blocks.
    static func forEachBlock(
        _ g: ConvGeometry, _ f: Tile, first: @Sendable (Int) -> Void = { _ in },
        _ body: @Sendable (_ tileRows: Range<Int>, _ worker: Int) -> Void
    ) {
        let rowsPerBlock = blockRows(g, f)
        Parallel.forEachChunk(g.batch * tiles(g, f).rows, workers: workers(g, f)) { share, worker in
            first(worker)
            let count = (share.count + rowsPerBlock - 1) / rowsPerBlock
            for i in 0..<count {
                body((share.lowerBound + share.count * i / count)..<(share.lowerBound + share.count * (i + 1) / count), worker)
            }
        }
    }

    /// Floats of the transformed filters U (points × padded K × C), what `transformFilters` writes.
    static func filtersCount(_ g: ConvGeometry, _ f: Tile) -> Int { f.points * paddedChannels(g) * g.inChannels }

    /// Floats of workspace: the transformed filters, then one slab per worker, then each worker's
    /// two tile rows of output to pool from (`poolRows`) (or V and M of the whole batch where
    /// `splitsFilters`).
    static func workspaceCount(_ g: ConvGeometry, _ f: Tile) -> Int {
        if splitsFilters(g, f) { return filterSplitWorkspaceCount(g, f) }
        let s = slab(g, f)
        return filtersCount(g, f) + workers(g, f) * (s.v + s.m + poolRows(g, f))
    }

    /// Floats of one worker's copy of two tile rows of output (2 · m lines), which `forward`
    /// pools from when it pools as it stores.
    static func poolRows(_ g: ConvGeometry, _ f: Tile) -> Int { 2 * f.rawValue * g.outputSize[1] }

    /// output = conv(input, weight) + bias by F(m×m, 3×3) for `f`'s m, each block's output rows
    /// added to `residual` and clamped to `clamp` (each when given) right after the output
    /// transform writes them. Overwrites `output`. `prepared`: the filters already transformed
    /// for `f` (`transformFilters`), else they are transformed into the workspace.
    ///
    /// With `pool`, the output is pooled (2 × 2, stride 2; tile rows start at even lines) as it is
    /// transformed: two tile rows at a time in registers where `pairsTileRows`
    /// (`ck_wino_output_pair_pooled`), else each tile row written to the worker's own copy in the
    /// workspace (`poolRows`, in L1), clamped there and pooled from it. `output` is not written,
    /// and the convolution's output never reaches memory.
    /// - Precondition: without `pool`, or without `residual` and not `splitsFilters(g, f)`.
    static func forward(
        _ g: ConvGeometry, _ f: Tile, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil, pool: PooledOutput? = nil
    ) {
        precondition(pool == nil || (residual == nil && !splitsFilters(g, f)), "Winograd pools only by blocks, without a residual")
        if splitsFilters(g, f) {
            return forwardSplittingFilters(g, f, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
                                           clamp: clamp, prepared: prepared, residual: residual)
        }
        let (c, k, kp, tm, points) = (g.inChannels, g.outChannels, paddedChannels(g), f.rawValue, f.points)
        if prepared == nil { transformFilters(g, f, weight: weight, into: workspace) }
        let t = tiles(g, f), s = slab(g, f)
        let (oh, ow) = (g.outputSize[0], g.outputSize[1]), level = Int32(MicroKernel.level)
        let (x, y, u) = (SharedPointer(input), SharedPointer(output), SharedPointer(prepared ?? UnsafePointer(workspace)))
        let ws = SharedPointer(workspace + points * kp * c), b = bias.map { SharedPointer($0) }
        let res = residual.map { SharedPointer($0) }
        let outputTransform = f.outputTransform, pairs = pairsTileRows(g, f), quads = quadsTileRows(g, f)
        let copies = SharedPointer(ws.base + workers(g, f) * (s.v + s.m)), copy = poolRows(g, f) / 2
        let bounds = [clamp?.lower ?? 0, clamp?.upper ?? 0]
        forEachBlock(g, f) { block, worker in
            let v = ws.base + worker * (s.v + s.m), m = v + s.v
            // Tile rows r0..<r1 of the batch: row r is tile row r % rows of image r / rows.
            let (r0, r1) = (block.lowerBound, block.upperBound)
            let blockTiles = (r1 - r0) * t.columns
            let tp = MicroKernel.isAvailable ? (blockTiles + MicroKernel.nr - 1) / MicroKernel.nr * MicroKernel.nr : blockTiles
            let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
            // V[ξ][c][tile]: the input transform of each channel's tile rows (zero past the block's
            // tiles), a channel's rows one after another (the plane read in order, V written in order).
            for ci in 0..<c {
                transformRows(g, f, r0..<r1, input: x.base, channel: ci, into: v + ci * tp, pointStride: vps)
            }
            if tp > blockTiles {
                for xi in 0..<points {
                    for ci in 0..<c { (v + xi * vps + ci * tp + blockTiles).update(repeating: 0, count: tp - blockTiles) }
                }
            }
            multiply(g, f, u: u.base, v: v, m: m, tiles: blockTiles, paddedTiles: tp)
            for ki in 0..<k {
                // Where tile row r's output rows go (the first, or with `pool` the worker's copy
                // `slot`), and how many there are.
                func rowsOut(_ r: Int, slot: Int) -> (UnsafeMutablePointer<Float>, Int) {
                    let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows), rows = min(tm, oh - tm * ty)
                    if pool != nil { return (copies.base + (2 * worker + slot) * copy, rows) }
                    return (y.base + ((n * k + ki) * oh + tm * ty) * ow, rows)
                }
                func finish(_ r: Int, _ dst: UnsafeMutablePointer<Float>, _ rows: Int) {
                    ClampKernel.apply(dst, count: rows * ow, clamp, adding: res.map { UnsafePointer($0.base + (dst - y.base)) })
                    if let pool {
                        let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
                        pool.store(g, plane: n * k + ki, lines: (tm * ty)..<(tm * ty + rows), at: dst)
                    }
                }
                let bk = b.map { $0.base[ki] } ?? 0
                // Tile rows r and r + 1 pooled in registers (`ck_wino_output_pair_pooled`).
                func pooledPair(_ src: UnsafePointer<Float>, _ r: Int, into pool: PooledOutput) -> Bool {
                    let (n0, ty0) = r.quotientAndRemainder(dividingBy: t.rows), (n1, ty1) = (r + 1).quotientAndRemainder(dividingBy: t.rows)
                    let (line0, line1) = (tm * ty0, tm * ty1)
                    let (p0, p1) = (pool.row(g, plane: n0 * k + ki, line: line0), pool.row(g, plane: n1 * k + ki, line: line1))
                    return bounds.withUnsafeBufferPointer { limits in
                        ck_wino_output_pair_pooled(level, src, mps, t.columns, bk, clamp == nil ? nil : limits.baseAddress,
                                                   p0.values, p0.indices, line0 * ow, min(tm, oh - line0) / 2,
                                                   p1.values, p1.indices, line1 * ow, min(tm, oh - line1) / 2, ow / 2, ow)
                    } != 0
                }
                var r = r0
                while r < r1 {
                    let src = m + ki * tp + (r - r0) * t.columns, (dst, rows) = rowsOut(r, slot: 0)
                    if pairs, r + 1 < r1, let pool, pooledPair(src, r, into: pool) {
                        r += 2
                        continue
                    }
                    if quads, pool == nil, r + 3 < r1 {
                        let (d1, n1) = rowsOut(r + 1, slot: 1), (d2, n2) = rowsOut(r + 2, slot: 1), (d3, n3) = rowsOut(r + 3, slot: 1)
                        if ck_wino_output_quad(level, src, mps, t.columns, bk, dst, rows, d1, n1, d2, n2, d3, n3, ow, ow) != 0 {
                            finish(r, dst, rows)
                            finish(r + 1, d1, n1)
                            finish(r + 2, d2, n2)
                            finish(r + 3, d3, n3)
                            r += 4
                            continue
                        }
                    }
                    if pairs, r + 1 < r1 {
                        let (dst1, rows1) = rowsOut(r + 1, slot: 1)
                        if ck_wino_output_pair(level, src, mps, t.columns, bk, dst, rows, dst1, rows1, ow, ow) != 0 {
                            finish(r, dst, rows)
                            finish(r + 1, dst1, rows1)
                            r += 2
                            continue
                        }
                    }
                    outputTransform(level, src, mps, t.columns, bk, dst, ow, rows, ow)
                    finish(r, dst, rows)
                    r += 1
                }
            }
        }
    }

    /// Whether the transforms take `g`'s tile rows four at a time (`ck_wino_input_quad`,
    /// `ck_wino_gradient_quad`, `ck_wino_output_quad`: rows of at most 4 F(4×4) tiles, outputs at
    /// most 16 wide, which fill half of a 16-lane vector even in pairs): AVX-512 and F(4×4).
    static func quadsTileRows(_ g: ConvGeometry, _ f: Tile) -> Bool {
        f == .four && tiles(g, f).columns <= ck_wino_quad_tiles(Int32(MicroKernel.level))
    }

    /// Whether the transforms take `g`'s tile rows two at a time (`ck_wino_input_pair`,
    /// `ck_wino_gradient_pair`, `ck_wino_output_pair`: rows of at most 7 F(4×4) tiles, which fill
    /// under half of a 16-lane vector alone): AVX-512 and F(4×4).
    static func pairsTileRows(_ g: ConvGeometry, _ f: Tile) -> Bool {
        f == .four && tiles(g, f).columns <= ck_wino_pair_tiles(Int32(MicroKernel.level))
    }

    /// The input transform of channel `channel`'s tile rows `rows` (of the batch: row r is tile
    /// row r % rows of image r / rows) into V[ξ][tile], ξ `pointStride` apart, starting at `v`:
    /// two rows a call where `pairsTileRows`, else one.
    static func transformRows(
        _ g: ConvGeometry, _ f: Tile, _ rows: Range<Int>, input x: UnsafePointer<Float>, channel ci: Int,
        into v: UnsafeMutablePointer<Float>, pointStride vps: Int
    ) {
        let (c, tm, t, level) = (g.inChannels, f.rawValue, tiles(g, f), Int32(MicroKernel.level))
        let (h, w, top, left) = (g.inputSize[0], g.inputSize[1], g.padBefore[0], g.padBefore[1])
        let (pairs, quads) = (pairsTileRows(g, f), quadsTileRows(g, f))
        func source(_ r: Int) -> (UnsafePointer<Float>, Int) {
            let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
            return (x + (n * c + ci) * h * w, tm * ty - top)
        }
        var r = rows.lowerBound
        while r < rows.upperBound {
            let (plane, rowTop) = source(r), dst = v + (r - rows.lowerBound) * t.columns
            if quads, r + 3 < rows.upperBound {
                let (p1, t1) = source(r + 1), (p2, t2) = source(r + 2), (p3, t3) = source(r + 3)
                if ck_wino_input_quad(level, plane, rowTop, p1, t1, p2, t2, p3, t3, h, w, left, t.columns, dst, vps) != 0 {
                    r += 4
                    continue
                }
            }
            if pairs, r + 1 < rows.upperBound {
                let (plane1, top1) = source(r + 1)
                if ck_wino_input_pair(level, plane, rowTop, plane1, top1, h, w, left, t.columns, dst, vps) != 0 {
                    r += 2
                    continue
                }
            }
            f.inputTransform(level, plane, h, w, rowTop, left, t.columns, dst, vps)
            r += 1
        }
    }

    /// The output gradient's transform (A·dy·Aᵀ of F(4×4)) of channel `channel`'s tile rows `rows`
    /// (of the batch, as in `transformRows`) into Ŷ[ξ][tile], ξ `pointStride` apart, from `y`:
    /// four or two rows a call where the transforms take them so, else one.
    static func transformGradientRows(
        _ g: ConvGeometry, _ rows: Range<Int>, gradOutput dy: UnsafePointer<Float>, channel ki: Int,
        into y: UnsafeMutablePointer<Float>, pointStride yps: Int
    ) {
        let (k, t, level) = (g.outChannels, tiles(g, .four), Int32(MicroKernel.level))
        let (oh, ow) = (g.outputSize[0], g.outputSize[1])
        let (pairs, quads) = (pairsTileRows(g, .four), quadsTileRows(g, .four))
        func source(_ r: Int) -> (UnsafePointer<Float>, Int) {
            let (n, ty) = r.quotientAndRemainder(dividingBy: t.rows)
            return (dy + (n * k + ki) * oh * ow, 4 * ty)
        }
        var r = rows.lowerBound
        while r < rows.upperBound {
            let (plane, rowTop) = source(r), dst = y + (r - rows.lowerBound) * t.columns
            if quads, r + 3 < rows.upperBound {
                let (p1, t1) = source(r + 1), (p2, t2) = source(r + 2), (p3, t3) = source(r + 3)
                if ck_wino_gradient_quad(level, plane, rowTop, p1, t1, p2, t2, p3, t3, oh, ow, t.columns, dst, yps) != 0 {
                    r += 4
                    continue
                }
            }
            if pairs, r + 1 < rows.upperBound {
                let (plane1, top1) = source(r + 1)
                if ck_wino_gradient_pair(level, plane, rowTop, plane1, top1, oh, ow, t.columns, dst, yps) != 0 {
                    r += 2
                    continue
                }
            }
            ck_wino_gradient(level, plane, oh, ow, rowTop, t.columns, dst, yps)
            r += 1
        }
    }

    /// Floats of workspace `backwardWeight` needs: per worker, V and the transformed output
    /// gradient of a block and its own transform-domain sums (36 · K · C).
    static func weightWorkspaceCount(_ g: ConvGeometry) -> Int {
        if splitsWeightGradient(g) { return splitWeightWorkspaceCount(g) }
        let f = Tile.four, tp = paddedTiles(g, f), sums = f.points * g.outChannels * g.inChannels
        return workers(g, f) * (f.points * (pointStride(g.inChannels, tp) + pointStride(g.outChannels, tp)) + sums)
    }

    /// gradWeight = Σ over the batch's tiles of Gᵀ·[(A·dy·Aᵀ) ⊙ (Bᵀ·d·B)]·G (the forward map's
    /// transpose in g): per point ξ, S_ξ (K, C) = Σ_tiles Ŷ_ξ (K, tiles) · V_ξᵀ (tiles, C) as GEMMs
    /// over blocks, each worker summing its own S; then Gᵀ·S·G per filter. Overwrites `gradWeight`.
    static func backwardWeight(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        if splitsWeightGradient(g) {
            return backwardWeightSplittingFilters(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight, workspace: workspace)
        }
        let (c, k, f) = (g.inChannels, g.outChannels, Tile.four)
        let t = tiles(g, f), tp = paddedTiles(g, f), points = f.points
        let level = Int32(MicroKernel.level)
        let (vps, yps) = (pointStride(c, tp), pointStride(k, tp)), transformed = points * (vps + yps)
        let sums = points * k * c, perWorker = transformed + sums, workerCount = workers(g, f)
        let (x, dy, ws) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(workspace))
        let zeroSums: @Sendable (Int) -> Void = { worker in (ws.base + worker * perWorker + transformed).update(repeating: 0, count: sums) }
        forEachBlock(g, f, first: zeroSums) { block, worker in
            let v = ws.base + worker * perWorker, yhat = v + points * vps, s = v + transformed
            let (r0, r1) = (block.lowerBound, block.upperBound)
            let blockTiles = (r1 - r0) * t.columns
            // Each plane's tile rows one after another, as in `forward`.
            for ci in 0..<c {
                transformRows(g, f, r0..<r1, input: x.base, channel: ci, into: v + ci * tp, pointStride: vps)
            }
            for ki in 0..<k {
                transformGradientRows(g, r0..<r1, gradOutput: dy.base, channel: ki, into: yhat + ki * tp, pointStride: yps)
            }
            // S_ξ (K, C) += Ŷ_ξ (K, tiles) · V_ξᵀ (tiles, C)
            for xi in 0..<points {
                gemm(transposeA: false, transposeB: true, m: k, n: c, k: blockTiles, a: yhat + xi * yps, lda: tp,
                     b: v + xi * vps, ldb: tp, beta: 1, c: s + xi * k * c, ldc: c, threaded: false)
            }
        }
        // The workers' sums added into worker 0's, then Gᵀ·S·G per filter, each split across the
        // cores from 16 Ki sums (the course CNN's 14² layer: 73,728 sums, 2,048 filters in double;
        // on one core while the other waited, 11 % of its backward pass's profile with the wait).
        let (sum, dw) = (SharedPointer(ws.base + transformed), SharedPointer(gradWeight))
        let partials = max(1, min(workerCount, blocks(g, f))), tailWorkers = sums >= 1 << 14 ? MicroKernel.threads : 1
        if partials > 1 {
            Parallel.forEachChunk(sums, workers: tailWorkers) { chunk, _ in
                for worker in 1..<partials {
                    ck_clamp(level, sum.base + chunk.lowerBound, ws.base + worker * perWorker + transformed + chunk.lowerBound,
                             chunk.count, 0, 0, 0)
                }
            }
        }
        Parallel.forEachChunk(k, workers: tailWorkers) { rows, _ in
            ck_wino_filter_gradient(level, sum.base + rows.lowerBound * c, k * c, c, rows.lowerBound, rows.upperBound, c, dw.base)
        }
    }

    /// M_ξ (K′, tp) = U_ξ (K′, C) · V_ξ (C, tp) for each of `f`'s points: micro-kernel tiles over U's
    /// pre-packed row panels and V read in place (tp a whole number of panels), or the GEMM
    /// where there is no micro-kernel.
    private static func multiply(
        _ g: ConvGeometry, _ f: Tile, u: UnsafePointer<Float>, v: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        tiles: Int, paddedTiles tp: Int
    ) {
        let (c, kp, points) = (g.inChannels, paddedChannels(g), f.points)
        let (vps, mps) = (pointStride(c, tp), pointStride(kp, tp))
        guard MicroKernel.isAvailable else {
            for xi in 0..<points {
                gemm(transposeA: false, transposeB: false, m: kp, n: tiles, k: c, a: u + xi * kp * c, lda: c,
                     b: v + xi * vps, ldb: tp, beta: 0, c: m + xi * mps, ldc: tp, threaded: false)
            }
            return
        }
        let (mr, nr, level) = (MicroKernel.mr, MicroKernel.nr, Int32(MicroKernel.level))
        let stores = ck_gemm_stores_tiles(level) != 0
        if !stores { m.update(repeating: 0, count: points * mps) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr) { zeros in
            zeros.initialize(repeating: 0)
            let initial = stores ? UnsafePointer(zeros.baseAddress!) : nil
            for xi in 0..<points {
                let (a, bb, cc) = (u + xi * kp * c, v + xi * vps, m + xi * mps)
                for j in stride(from: 0, to: tp, by: nr) {
                    for i in stride(from: 0, to: kp, by: mr) {
                        ck_gemm_micro(level, c, a + i * c, bb + j, tp, cc + i * tp + j, tp, initial)
                    }
                }
            }
        }
    }

    /// U_ξ = (G·g_kc·Gᵀ)_ξ of F(m×m, 3×3) in double, rounded once (`ck_wino_filters`,
    /// `ck_wino2_filters`), stored as row panels of the micro-kernel (U[ξ][k / mr][c][k % mr], zero
    /// rows up to K′) or as plain (K, C) matrices without one. G for F(4×4)'s points 0, ±1, ±2, ∞:
    /// [[1/4, 0, 0], [−1/6, −1/6, −1/6], [−1/6, 1/6, −1/6], [1/24, 1/12, 1/6], [1/24, −1/12, 1/6], [0, 0, 1]];
    /// for F(2×2)'s 0, ±1, ∞: [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, −1/2, 1/2], [0, 0, 1]].
    static func transformFilters(_ g: ConvGeometry, _ f: Tile, weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (c, k, kp, points) = (g.inChannels, g.outChannels, paddedChannels(g), f.points)
        let mr = MicroKernel.isAvailable ? MicroKernel.mr : 1
        let (w, out) = (SharedPointer(weight), SharedPointer(u))
        if kp > k {
            for xi in 0..<points { (u + xi * kp * c + (kp - mr) * c).update(repeating: 0, count: mr * c) }
        }
        Parallel.forEachChunk(k, workers: Parallel.memoryPassWorkers(k * c * points)) { rows, _ in
            (f == .four ? ck_wino_filters : ck_wino2_filters)(w.base, rows.lowerBound, rows.upperBound, c, kp * c, mr, out.base)
        }
    }
}
