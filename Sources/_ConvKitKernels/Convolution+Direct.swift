import _ConvKitMicroKernels

/// Direct convolution: a GEMM whose column matrix is never built.
///
/// Each batch item's group of input planes is first copied into a padded buffer (every
/// padding mode, by `PadKernel`'s gather), laid out so that the window of output position `o`
/// of a line starts at padded position `o`; with a stride s along the last axis the padded
/// lines are split into s phases (even and odd positions for s = 2), so that consecutive
/// outputs still read consecutive floats. Row p of the im2col matrix (input channel c, tap
/// t) is then the padded input itself, shifted by `off[p]` (`DirectPlan`): the micro-kernel
/// (`ck_conv_lines`) computes tiles of 16 (AVX-512) or 6 (AVX2) output channels × 16 consecutive outputs of a line,
/// broadcasting weights packed as a GEMM's A panel and loading the 16 inputs in place.
/// The im2col path wrote and re-read `C·taps` copies of every input value; here every value
/// is read from cache, so the 3 × 3 layers with 32–128 channels stop being bound by copies.
///
/// Dilation and strides only change the offsets and line strides; ranks 1–3 are lifted to 3.
/// Tests compare this path with the definition (`DirectConvolutionTests`).
extension ConvolutionKernel {
    /// Lines narrower than this waste too much of a 16-wide tile (measured against im2col:
    /// 7-wide lines ran 20 % slower direct, 10-wide about even, 12-wide faster); they take the
    /// gathered tiles (`Convolution+Gathered.swift`), or im2col with too few output channels.
    static let directMinimumWidth = 12

    /// Whether the weight gradient takes the direct path (`backwardWeightDirect`): lines at
    /// least `directMinimumWidth` wide, a stride along the last axis of at most 4, a CPU with
    /// the tile kernels, offsets that fit Int32, and neither a depthwise nor a pointwise layer.
    static func directApplies(_ g: ConvGeometry) -> Bool {
        directGeometryApplies(g) && !isPointwise(g)
    }

    /// Whether `forward(g)` takes the direct path: as `directApplies`, and on AVX-512 also
    /// pointwise (1 × 1) layers, whose 16 × 16 tiles over flat positions waste less than the
    /// GEMM's 12 × 32 edge tiles (a 14 × 14 map has 196 = 6⅛ × 32 positions; measured 172 →
    /// 182 GFLOP/s on 32×256×14² → 512). Their weight gradients stay dot-product GEMMs, which
    /// were faster than the gradient tiles there.
    static func directForwardApplies(_ g: ConvGeometry) -> Bool {
        directGeometryApplies(g) && (MicroKernel.level >= 2 || !isPointwise(g))
    }

    private static func directGeometryApplies(_ g: ConvGeometry) -> Bool {
        guard MicroKernel.level >= 1, g.batch > 0, g.stride.last! <= 4, g.outputSize.allSatisfy({ $0 > 0 }),
              g.outputSize.last! >= directMinimumWidth, !DepthwiseKernel.applies(g) else { return false }
        return directSlabCount(g) < Int(Int32.max)
    }

    /// Whether neighbouring lines of the padded input share their zero padding along the last
    /// axis (zero padding, stride 1 there): each line is then the input line followed by
    /// `max(padBefore, padAfter)` zeros, which serve as the right padding of that line and the
    /// left padding of the next, and a window starts `padBefore` floats before its output's
    /// position. A 3 × 3 layer's 28-wide lines take 29 floats instead of 30, so the AVX-512 tiles
    /// over flat positions fill 96 % of their lanes instead of 93 %.
    static func directSharesLinePadding(_ g: ConvGeometry) -> Bool {
        g.paddingMode == .zeros && g.stride.last! == 1
    }

    /// The lifted sizes (D, H, W) of one phase plane of the padded input. Leading axes hold
    /// exactly the positions the windows read, `(out − 1)·stride + dilation·(kernel − 1) + 1`.
    /// Along the last axis, with stride s, the padded line is split into s phases (phase φ
    /// holds padded positions φ, φ + s, φ + 2s, …), so that the windows of consecutive
    /// outputs read consecutive floats: tap t of output o is position o + ⌊d·t / s⌋ of phase
    /// (d·t) mod s. Each phase is `out + ⌊d·(kernel − 1) / s⌋` long, or, where lines share their
    /// padding, `max(in + max(padBefore, padAfter), out)`.
    static func directPaddedSize(_ g: ConvGeometry) -> [Int] {
        let (o, k, s, d) = (g.lifted(g.outputSize, fill: 1), g.lifted(g.kernelSize, fill: 1),
                            g.lifted(g.stride, fill: 1), g.lifted(g.dilation, fill: 1))
        let line = directSharesLinePadding(g)
            ? max(g.inputSize.last! + max(g.padBefore.last!, g.padAfter.last!), o[2]) : o[2] + d[2] * (k[2] - 1) / s[2]
        return [(o[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1, (o[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1, line]
    }

    /// Zeros in front of a slab's first line, where lines share their padding: the left
    /// padding of the first line.
    static func directLead(_ g: ConvGeometry) -> Int {
        directSharesLinePadding(g) ? g.padBefore.last! : 0
    }

    /// Floats from one padded plane of a slab to the next: the plane rounded up to 16 floats, so
    /// that with the slab aligned (`DirectPlan.slab(in:)`) every plane starts on a 64-byte
    /// boundary. A 14 × 14 plane (196 floats) started 16 bytes further into a cache line per
    /// channel, so most 16-float loads of a pointwise layer's tiles split two lines: aligned,
    /// the tile loop ran 19–28 % faster (C harness, 256 → 512 channels at 14², 512 → 512 at 7²)
    /// and the benchmark's 32×256×14² → 512 k1 forward row 140–146 → 152–190 GFLOP/s.
    static func directPlaneStride(_ g: ConvGeometry) -> Int {
        return (directPaddedSize(g).reduce(1, *) + 15) / 16 * 16
    }

    /// One padded group of input planes (all phases), after `directLead(g)` zeros, plus the 16
    /// floats a tile may read past the last line's end and 15 floats of room to align the slab.
    static func directSlabCount(_ g: ConvGeometry) -> Int {
        directLead(g) + g.stride.last! * g.inChannelsPerGroup * directPlaneStride(g) + 16 + 15
    }

    /// Weight panels of every group, packed `MicroKernel.convChannels` output channels per reduction step.
    static func directPanelsCount(_ g: ConvGeometry) -> Int {
        let mr = MicroKernel.convChannels
        return g.groups * ((g.outChannelsPerGroup + mr - 1) / mr) * mr * g.columnRows
    }

    /// Packs every group's weights (K/G × `g.columnRows` each) as panels of `width` output
    /// channels per reduction step, zero past the group's last channel:
    /// `packed[((grp·panels + ip)·rows + p)·width + i] = W[grp·K/G + width·ip + i][p]`, panels = ⌈(K/G) / width⌉;
    /// only the panels `grp·panels + ip` in `pairs` (all of them when nil).
    static func packPanels(_ g: ConvGeometry, weight: UnsafePointer<Float>, width: Int, into packed: UnsafeMutablePointer<Float>,
                           pairs: Range<Int>? = nil) {
        let (kg, rows) = (g.outChannelsPerGroup, g.columnRows)
        let panels = (kg + width - 1) / width
        for pair in pairs ?? 0..<(g.groups * panels) {
            let (grp, ip) = pair.quotientAndRemainder(dividingBy: panels)
            let row0 = ip * width, count = min(width, kg - row0)
            let dst = packed + pair * rows * width
            if count < width { dst.update(repeating: 0, count: rows * width) }
            transposeCopy(rows: count, cols: rows, src: weight + (grp * kg + row0) * rows, srcStride: rows,
                          dst: dst, dstStride: width)
        }
    }

    /// Floats of workspace `forwardDirect` needs: the packed weights, then one padded slab
    /// per worker that owns batch items (one in all when the workers share an item's lines).
    static func directWorkspaceCount(_ g: ConvGeometry) -> Int {
        directPanelsCount(g) + (padsPerWorker(g) ? parallelism(g) : workers(g)) * directSlabCount(g)
    }

    /// Whether the workers sharing a batch item's lines or panels each pad the item into a slab
    /// of their own, in the region that computes it, rather than all padding one shared slab in a
    /// region of its own first: for slabs of at most 16 Ki floats, where a second fork and join
    /// costs more than padding twice (the course CNN's 14² layer at batch 1: 7.7 Ki floats).
    static func padsPerWorker(_ g: ConvGeometry) -> Bool {
        g.batch < parallelism(g) && directSlabCount(g) <= 1 << 14
    }

    /// output = conv(input, weight) + bias by direct tiles, each value added to `residual` and
    /// clamped to `clamp` (each when given) in the tiles' registers before it is stored.
    /// Overwrites `output`. `prepared`: the weights already packed (`prepareWeight`), else they are
    /// packed into the workspace.
    /// - Precondition: `directForwardApplies(g)`.
    static func forwardDirect(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
        clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil,
        pool: PooledOutput? = nil
    ) {
        let mr = MicroKernel.convChannels
        let (kg, cg, rows) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.columnRows)
        let panels = (kg + mr - 1) / mr
        let packed = prepared ?? UnsafePointer(workspace)
        if prepared == nil { packPanels(g, weight: weight, width: mr, into: workspace) }
        let plan = DirectPlan.cached(g)
        let slabs = workspace + directPanelsCount(g), slab = directSlabCount(g)
        let workerCount = parallelism(g)
        let (x, y, w, s) = (SharedPointer(input), SharedPointer(output), SharedPointer(packed), SharedPointer(slabs))
        let res = residual.map { SharedPointer($0) }
        let level = Int32(MicroKernel.level), hasBias = bias != nil
        // kg zeros (the bias of a layer without one), then the clamp's bounds: the tiles add the
        // residual and clamp in their registers before they store (no pass over the stored block).
        let constants = [Float](repeating: 0, count: kg) + [clamp?.lower ?? 0, clamp?.upper ?? 0]
        constants.withUnsafeBufferPointer { zeroBias in
            let b = SharedPointer(bias ?? zeroBias.baseAddress!)
            let bounds = clamp != nil ? SharedPointer(zeroBias.baseAddress! + kg) : nil
            // Computes output lines `lines` of item n, group grp, channel panels `panelRange`, from the padded slab `src`.
            let run = { @Sendable (n: Int, grp: Int, src: UnsafeMutablePointer<Float>, lines: Range<Int>, panelRange: Range<Int>) in
                let out = y.base + (n * g.outChannels + grp * kg) * g.outputPlane
                plan.forEachLineBlock(lines, evenStarts: pool != nil) { block in
                    for ip in panelRange {
                        let row0 = ip * mr
                        plan.forEachRun(block) { first, count, inputOffset in
                            let c = out + row0 * g.outputPlane + first * plan.width
                            _ = ck_conv_lines(
                                level, Int32(min(mr, kg - row0)), rows, w.base + (grp * panels + ip) * rows * mr, plan.offsets,
                                src + plan.lead + inputOffset, plan.inputLineStride, count, plan.width,
                                c, g.outputPlane, plan.width, b.base + (hasBias ? grp * kg : 0) + row0,
                                res.map { UnsafePointer($0.base + (c - y.base)) }, bounds?.base)
                        }
                    }
                    if let pool {
                        let channels = (panelRange.lowerBound * mr)..<min(kg, panelRange.upperBound * mr)
                        pool.store(g, lines: block, planes: (n * g.outChannels + grp * kg + channels.lowerBound)..<(n * g.outChannels + grp * kg + channels.upperBound),
                                   from: y.base)
                    }
                }
            }
            let pad = { @Sendable (n: Int, grp: Int, dst: UnsafeMutablePointer<Float>) in
                plan.pad(cg, input: x.base + (n * g.inChannels + grp * cg) * g.inputPlane, output: dst)
            }
            if g.batch >= workerCount {
                // Each worker pads and computes whole batch items in its own slab.
                Parallel.forEachChunk(g.batch, workers: workerCount) { items, worker in
                    let src = plan.slab(in: s.base + worker * slab)
                    for n in items {
                        for grp in 0..<g.groups {
                            pad(n, grp, src)
                            run(n, grp, src, 0..<plan.lines, 0..<panels)
                        }
                    }
                }
            } else {
                // Fewer items than workers: one slab, padded by all of them, its lines or channel panels
                // split between them (small slabs: one per worker, each padded by its worker).
                let src = SharedPointer(plan.slab(in: s.base))
                // Each worker takes some lines with every panel, or, where that leaves fewer partial
                // tiles, every line with some panels (a 14 × 14 pointwise layer: 7 tiles per 7-line
                // half, 98 of 112 lanes used, against 13 for all 14 lines, 196 of 208).
                // (Pooling splits pairs of lines: 14 lines as 6 and 8, so a 14 × 14 layer at batch 1
                // then splits its panels instead, 28 tiles each, not 24 and 32.)
                let lineShares = (0..<workerCount).map { w -> Range<Int> in
                    guard pool != nil else { return (plan.lines * w / workerCount)..<(plan.lines * (w + 1) / workerCount) }
                    let pairs = (plan.lines + 1) / 2
                    return (2 * (pairs * w / workerCount))..<min(plan.lines, 2 * (pairs * (w + 1) / workerCount))
                }
                let lineTiles = lineShares.map { plan.tiles(lines: $0) }.max() ?? 0
                let panelTiles = plan.tiles(lines: 0..<plan.lines) * ((panels + workerCount - 1) / workerCount)
                let byPanels = panelTiles < lineTiles * panels
                // What each share of `units` computes: all lines of some panels, or some lines (pairs
                // of lines where it pools, so that each worker pools whole windows) of every panel.
                let units = byPanels ? panels : pool != nil ? (plan.lines + 1) / 2 : plan.lines
                let share = { @Sendable (part: Range<Int>) -> (lines: Range<Int>, panels: Range<Int>) in
                    if byPanels { return (0..<plan.lines, part) }
                    if pool != nil { return ((2 * part.lowerBound)..<min(plan.lines, 2 * part.upperBound), 0..<panels) }
                    return (part, 0..<panels)
                }
                for n in 0..<g.batch {
                    for grp in 0..<g.groups {
                        if padsPerWorker(g) {
                            Parallel.forEachChunk(units, workers: workerCount) { part, worker in
                                let own = plan.slab(in: s.base + worker * slab), (lines, panelRange) = share(part)
                                pad(n, grp, own)
                                run(n, grp, own, lines, panelRange)
                            }
                            continue
                        }
                        let first = SharedPointer(x.base + (n * g.inChannels + grp * cg) * g.inputPlane)
                        plan.pad(cg, units: 1, workers: workerCount, input: { _ in UnsafePointer(first.base) }, output: { _ in src.base })
                        Parallel.forEachChunk(units, workers: workerCount) { part, _ in
                            let (lines, panelRange) = share(part)
                            run(n, grp, src.base, lines, panelRange)
                        }
                    }
                }
            }
        }
    }
}

/// Where the direct tiles read: the offsets of every (input channel, tap) row in the padded
/// slab, and the slab offset of every output line.
final class DirectPlan: @unchecked Sendable {  // immutable after init; `offsets` is freed in deinit
    /// The plan for `g`, built on the first call for its geometry and kept (`PlanCache`).
    static func cached(_ g: ConvGeometry) -> DirectPlan { plans.value(for: g, DirectPlan.init) }
    private static let plans = PlanCache<DirectPlan>()

    /// Per phase of the last axis, the geometry that pads one group of input planes into that
    /// phase (`ConvolutionKernel.directPaddedSize`); the slab holds phase φ of channel c at
    /// `(φ·C/G + c)·plane`.
    let phases: [ConvGeometry]
    /// Floats from one phase plane to the next (`ConvolutionKernel.directPlaneStride`), and
    /// the floats of a plane's padded data before the zeros that round it up.
    let plane: Int, planeData: Int
    /// Output lines (flattened leading output positions) and their width.
    let lines: Int, width: Int
    /// Output lines per cache block: their input rows over all channels fit about 256 KiB,
    /// so every panel of output channels reads them from L2.
    let block: Int
    let outputHeight: Int, inputLineStride: Int, inputDepthStride: Int
    /// `offsets[c·taps + t]`: floats from a window's first position to channel c, tap t
    /// (negative for the first taps where lines share their padding).
    let offsets: UnsafeMutablePointer<Int32>
    /// Zeros in front of a slab's first line (`ConvolutionKernel.directLead`); lines and
    /// offsets count from `slab + lead`.
    let lead: Int
    /// Where one phase of zero-padded 1-D or 2-D lines shares its padding: `pad` copies whole
    /// rows instead of gathering position by position.
    let zeroPaddedRows: ZeroPaddedRows?

    init(_ g: ConvGeometry) {
        let p = ConvolutionKernel.directPaddedSize(g)
        let (o, k, s, d) = (g.lifted(g.outputSize, fill: 1), g.lifted(g.kernelSize, fill: 1),
                            g.lifted(g.stride, fill: 1), g.lifted(g.dilation, fill: 1))
        let r = g.rank, last = r - 1
        // Leading axes: padded to exactly the positions read. Last axis, phase φ: output j of a
        // window-1 gather with stride s reads input position j·s − (padBefore − φ).
        let shared = ConvolutionKernel.directSharesLinePadding(g)
        lead = ConvolutionKernel.directLead(g)
        phases = (0..<s[2]).map { phase in
            var before = g.padBefore, after = (0..<r).map { a in p[3 - r + a] - g.inputSize[a] - g.padBefore[a] }
            before[last] -= phase
            after[last] = p[2] * s[2]  // never limits a position that is read
            if shared { before[last] = 0 }  // the line's data first, then the shared zeros
            return ConvGeometry(
                batch: 1, inChannels: g.inChannelsPerGroup, outChannels: g.inChannelsPerGroup, groups: g.inChannelsPerGroup,
                inputSize: g.inputSize, kernelSize: [Int](repeating: 1, count: r),
                stride: (0..<r).map { $0 == last ? s[2] : 1 }, dilation: [Int](repeating: 1, count: r),
                padBefore: before, padAfter: after, outputSize: Array(p[(3 - r)...]), paddingMode: g.paddingMode)
        }
        let plane = ConvolutionKernel.directPlaneStride(g), cg = g.inChannelsPerGroup
        (self.plane, planeData) = (plane, p[0] * p[1] * p[2])
        offsets = .allocate(capacity: g.columnRows)
        var row = 0
        for c in 0..<cg {
            for kd in 0..<k[0] { for kh in 0..<k[1] { for kw in 0..<k[2] {
                var (shift, phase) = (d[2] * kw).quotientAndRemainder(dividingBy: s[2])
                if shared { shift -= g.padBefore[last] }  // windows start in the previous line's zeros
                offsets[row] = Int32((phase * cg + c) * plane + (kd * d[0] * p[1] + kh * d[1]) * p[2] + shift)
                row += 1
            }}}
        }
        zeroPaddedRows = shared && g.paddingMode == .zeros && r <= 2 && s[2] == 1
            ? ZeroPaddedRows(height: r == 2 ? g.inputSize[0] : 1, width: g.inputSize[last], rows: p[1],
                             before: r == 2 ? g.padBefore[0] : 0, line: p[2])
            : nil
        (lines, width, outputHeight) = (o[0] * o[1], o[2], o[1])
        (inputLineStride, inputDepthStride) = (s[1] * p[2], s[0] * p[1] * p[2])
        let rowBytes = s[2] * cg * p[2] * MemoryLayout<Float>.size
        block = max(1, (256 << 10) / max(rowBytes, 1) - (k[1] - 1) * d[1])
    }

    deinit { offsets.deallocate() }

    /// Where a slab starts in `raw` (`ConvolutionKernel.directSlabCount` floats): the first
    /// point from which its planes, `lead` floats in, start on 64-byte boundaries.
    func slab(in raw: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let misalignment = (Int(bitPattern: raw + lead) & 63) / MemoryLayout<Float>.size
        return raw + (16 - misalignment) % 16
    }

    /// Fills a slab (at `slab(in:)`) with `lead` zeros and the `channels` input planes at
    /// `input`, padded, split into phases and each followed by zeros up to the plane stride
    /// (where lines share their padding, the next plane's first windows start in them).
    /// Only the planes of channels `range` (all by default, the lead zeros with channel 0), so
    /// that workers can fill disjoint parts of one slab.
    func pad(_ channels: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, range: Range<Int>? = nil) {
        let range = range ?? 0..<channels
        if range.lowerBound == 0 { output.update(repeating: 0, count: lead) }
        let inputPlane = phases[0].inputPlane
        if let rows = zeroPaddedRows {
            for c in range {
                rows.copy(input + c * inputPlane, into: output + lead + c * plane)
                (output + lead + c * plane + planeData).update(repeating: 0, count: plane - planeData)
            }
            return
        }
        for (phase, geometry) in phases.enumerated() {
            let first = output + lead + (phase * channels + range.lowerBound) * plane
            PadKernel.forward(geometry, planes: range.count, input: input + range.lowerBound * inputPlane, output: first,
                              planeStride: plane)
            if plane > planeData {
                for c in 0..<range.count { (first + c * plane + planeData).update(repeating: 0, count: plane - planeData) }
            }
        }
    }

    /// `pad` of `units` slabs split across `workers`: unit u pads `input(u)` into `output(u)`;
    /// with fewer units than workers, each unit's channels are split between them (a batch-1
    /// layer's slab was padded by one core while the other waited: 9 % of ResNet-50's time).
    func pad(
        _ channels: Int, units: Int, workers: Int,
        input: @Sendable (Int) -> UnsafePointer<Float>, output: @Sendable (Int) -> UnsafeMutablePointer<Float>
    ) {
        let splits = units >= workers ? 1 : min(channels, (workers + units - 1) / units)
        Parallel.forEachChunk(units * splits, workers: workers) { chunk, _ in
            for task in chunk {
                let (u, part) = task.quotientAndRemainder(dividingBy: splits)
                pad(channels, input: input(u), output: output(u),
                    range: (channels * part / splits)..<(channels * (part + 1) / splits))
            }
        }
    }

    /// Calls `body` for consecutive blocks of at most `block` lines of `lines`, all about equal.
    /// With `evenStarts`, every block but the first starts at an even line (`lines` starting at
    /// one), so a 2 × 2 pooling of each block's lines takes whole windows.
    func forEachLineBlock(_ lines: Range<Int>, evenStarts: Bool = false, _ body: (Range<Int>) -> Void) {
        let blocks = (lines.count + block - 1) / block
        var start = lines.lowerBound
        for b in 0..<blocks {
            var end = lines.lowerBound + lines.count * (b + 1) / blocks
            if evenStarts, b + 1 < blocks { end -= end % 2 }
            if end > start { body(start..<end) }
            start = max(start, end)
        }
    }

    /// The 16-wide tiles the AVX-512 micro-kernel computes per panel for `lines`: per block and
    /// run, over flat slab positions or line by line, whichever takes fewer (`ck_conv_lines`).
    func tiles(lines: Range<Int>) -> Int {
        var total = 0
        forEachLineBlock(lines) { block in
            forEachRun(block) { _, count, _ in
                let flat = count * inputLineStride - (inputLineStride - width)
                total += min((flat + 15) / 16, count * ((width + 15) / 16))
            }
        }
        return total
    }

    /// Splits `lines` at output-depth boundaries (where the input line stride jumps):
    /// `body(first line, line count, slab offset of the first line's window)`.
    func forEachRun(_ lines: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        var l = lines.lowerBound
        while l < lines.upperBound {
            let (od, oh) = l.quotientAndRemainder(dividingBy: outputHeight)
            let count = min(lines.upperBound - l, outputHeight - oh)
            body(l, count, od * inputDepthStride + oh * inputLineStride)
            l += count
        }
    }
}

/// One padded plane of a slab whose lines share their zero padding (`DirectPlan`): `rows`
/// lines of `line` floats, line r holding input row r − `before` (zeros outside the input's
/// `height` rows) followed by zeros up to `line`. What `PadKernel` writes there, by whole rows
/// (one copy per plane when no zeros fall between them): a 1 × 1 layer's 1,024 planes of 14²
/// were gathered line by line at about 10 GB/s, a sixth of its time at batch 1.
struct ZeroPaddedRows: Sendable {
    let height: Int, width: Int, rows: Int, before: Int, line: Int

    /// Writes the `rows · line` floats of one plane at `output` from the `height · width` at `input`.
    func copy(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        if line == width, before == 0, rows == height { return output.update(from: input, count: rows * line) }
        for r in 0..<rows {
            let dst = output + r * line, source = r - before
            if source >= 0 && source < height {
                dst.update(from: input + source * width, count: width)
                (dst + width).update(repeating: 0, count: line - width)
            } else {
                dst.update(repeating: 0, count: line)
            }
        }
    }
}
