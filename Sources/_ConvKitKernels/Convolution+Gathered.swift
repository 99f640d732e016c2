import _ConvKitMicroKernels

/// Gathered direct convolution: forward passes whose lines are too narrow for the 16-wide
/// line tiles of `forwardDirect` (ResNet's and MobileNet's 7 × 7 stages, the stride-2 layers
/// into them).
///
/// Every batch item's input (all groups) is padded into slabs as for `forwardDirect`
/// (`DirectPlan`), and the output positions of the whole batch are listed by where their
/// windows start in those slabs. The micro-kernel (`ck_conv_gather`) computes tiles of 8
/// positions × 32 output channels (AVX-512; 6 × 16 with AVX2) with the output channels on the
/// vector lanes: per input channel and tap it loads the packed weights of the panel's channels
/// and broadcasts one input value per position. A position can be anywhere, so tiles run on
/// across lines and batch items and no lane computes padding: 16 items of a 7 × 7 plane are
/// 784 = 98 × 8 positions, where the line tiles filled 49 of 64 lanes per plane and so did the
/// im2col GEMM's 32-wide tiles. Tests compare it with the definition (`GatheredConvolutionTests`).
extension ConvolutionKernel {
    /// Floats of padded slabs one pass may use (32 MiB): the batch is padded and computed in
    /// passes of as many items as fit.
    static let gatheredSlabCap = 1 << 23

    /// Whether `forward(g)` takes the gathered tiles: lines narrower than `directMinimumWidth`,
    /// a stride along them of at most 4, a CPU with the tile kernels, at least half a panel of
    /// output channels per group (fewer would leave most lanes empty), one item's slabs within
    /// `gatheredSlabCap`, and not a depthwise layer.
    static func gatheredApplies(_ g: ConvGeometry) -> Bool {
        guard MicroKernel.level >= 1, g.batch > 0, g.stride.last! <= 4, g.outputSize.allSatisfy({ $0 > 0 }),
              g.outputSize.last! < directMinimumWidth, 2 * g.outChannelsPerGroup >= MicroKernel.gatherChannels,
              !DepthwiseKernel.applies(g), directSlabCount(g) < gatheredSlabCap else { return false }
        return gatheredSlabStride(g) <= gatheredSlabCap / g.groups
    }

    /// Floats from one slab (an item's group of padded input planes) to the next: a whole number
    /// of 64-byte lines, so that every slab is aligned as the first one is (`DirectPlan.slab(in:)`).
    static func gatheredSlabStride(_ g: ConvGeometry) -> Int {
        (directSlabCount(g) + 15) / 16 * 16
    }

    /// Batch items padded and computed per pass of the gathered tiles: as many as 32 MiB hold of
    /// their slabs, and of their output gradients transposed into panels (`backwardWeightGathered`).
    public static func gatheredItems(_ g: ConvGeometry) -> Int {
        max(1, min(g.batch, gatheredSlabCap / max(g.groups * gatheredSlabStride(g), gatheredTransposedCount(g))))
    }

    /// Floats of one item's output gradient transposed into panels of `MicroKernel.gatherChannels`.
    static func gatheredTransposedCount(_ g: ConvGeometry) -> Int {
        let width = MicroKernel.gatherChannels
        return g.groups * (g.outChannelsPerGroup + width - 1) / width * width * g.outputPlane
    }

    /// Fills `xpos` with where the window of each output position q = i·plane + l·width + j of
    /// `items` batch items starts, counted from the first slab: item i's slabs are `groups`
    /// slabs further per item (an item's groups are consecutive, so group grp reads from
    /// slabs + grp·slabStride).
    static func gatheredPositions(_ g: ConvGeometry, _ plan: DirectPlan, items: Int, into xpos: UnsafeMutablePointer<Int32>) {
        let slabStride = gatheredSlabStride(g)
        plan.forEachRun(0..<plan.lines) { first, count, inputOffset in
            for i in 0..<items {
                for l in 0..<count {
                    let start = i * g.groups * slabStride + plan.lead + inputOffset + l * plan.inputLineStride
                    let q = i * g.outputPlane + (first + l) * plan.width
                    for j in 0..<plan.width { xpos[q + j] = Int32(start + j) }
                }
            }
        }
    }

    /// Pads input items n0..<n0 + count (every group) into consecutive slabs from `slabs`, split between the workers.
    static func gatheredPad(_ g: ConvGeometry, _ plan: DirectPlan, input: UnsafePointer<Float>, items n0: Int, count: Int,
                            slabs: UnsafeMutablePointer<Float>, workers: Int,
                            also: (@Sendable (_ item: Int, _ group: Int) -> Void)? = nil) {
        let (x, s, cg, slabStride) = (SharedPointer(input), SharedPointer(slabs), g.inChannelsPerGroup, gatheredSlabStride(g))
        let (groups, perItem, plane) = (g.groups, g.inChannels, g.inputPlane)
        let source: @Sendable (Int) -> UnsafePointer<Float> = { u in
            let (i, grp) = u.quotientAndRemainder(dividingBy: groups)
            return UnsafePointer(x.base) + ((n0 + i) * perItem + grp * cg) * plane
        }
        let destination: @Sendable (Int) -> UnsafeMutablePointer<Float> = { u in s.base + u * slabStride }
        guard let also else {  // fewer units than workers: their channels split between the workers
            plan.pad(cg, units: count * g.groups, workers: workers, input: source, output: destination)
            return
        }
        Parallel.forEachChunk(count * g.groups, workers: workers) { units, _ in
            for u in units {
                let (i, grp) = u.quotientAndRemainder(dividingBy: g.groups)
                plan.pad(cg, input: source(u), output: s.base + u * slabStride)
                also(i, grp)
            }
        }
    }

    /// Weight panels of every group, packed `MicroKernel.gatherChannels` output channels per reduction step.
    static func gatheredPanelsCount(_ g: ConvGeometry) -> Int {
        let width = MicroKernel.gatherChannels
        return g.groups * ((g.outChannelsPerGroup + width - 1) / width) * width * g.columnRows
    }

    /// Floats of workspace `forwardGathered` needs: the packed weights, one pass's slabs, and
    /// one Int32 per output position of a pass (where its window starts).
    static func gatheredWorkspaceCount(_ g: ConvGeometry) -> Int {
        let items = gatheredItems(g)
        return gatheredPanelsCount(g) + items * g.groups * gatheredSlabStride(g) + items * g.outputPlane
    }

    /// Packs the weights as the gathered tiles read them (panels of `MicroKernel.gatherChannels`),
    /// split between the workers: on one thread, packing 512 × 4,608 weights took 6 % of the
    /// time of 16 × 512 × 7² → 512 3 × 3, with the other worker waiting.
    static func packGatheredPanels(_ g: ConvGeometry, weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let width = MicroKernel.gatherChannels
        let panels = (g.outChannelsPerGroup + width - 1) / width
        let (w, wt) = (SharedPointer(packed), SharedPointer(weight))
        Parallel.forEachChunk(g.groups * panels, workers: parallelism(g)) { pairs, _ in
            packPanels(g, weight: wt.base, width: width, into: w.base, pairs: pairs)
        }
    }

    /// output = conv(input, weight) + bias by gathered tiles, clamped to `clamp` (when given) as
    /// each tile is stored, or, with a `residual`, each work unit's tiles added to it and clamped
    /// right after they are stored. Overwrites `output`. `prepared`: the weights already packed
    /// (`prepareWeight`), else they are packed into the workspace.
    /// - Precondition: `gatheredApplies(g)`.
    static func forwardGathered(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
        clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil
    ) {
        let width = MicroKernel.gatherChannels, tileRows = MicroKernel.gatherPositions
        let (kg, rows, plane) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let panels = (kg + width - 1) / width
        let workerCount = parallelism(g), level = Int32(MicroKernel.level)
        if prepared == nil { packGatheredPanels(g, weight: weight, into: workspace) }
        let w = SharedPointer(prepared ?? UnsafePointer(workspace))
        let plan = DirectPlan.cached(g)
        let (slabStride, items) = (gatheredSlabStride(g), gatheredItems(g))
        let slabs = plan.slab(in: workspace + gatheredPanelsCount(g))
        let positions = workspace + gatheredPanelsCount(g) + items * g.groups * slabStride
        positions.withMemoryRebound(to: Int32.self, capacity: items * plane) { xpos in
            gatheredPositions(g, plan, items: items, into: xpos)
            let (y, s, p) = (SharedPointer(output), SharedPointer(slabs), SharedPointer(xpos))
            let b = bias.map { SharedPointer($0) }, res = residual.map { SharedPointer($0) }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { bounds in
                bounds[0] = clamp?.lower ?? 0
                bounds[1] = clamp?.upper ?? 0
                // With a residual the C tiles store plain sums and the epilogue below adds and clamps.
                let c = clamp == nil || residual != nil ? nil : SharedPointer(bounds.baseAddress!)
                for n0 in stride(from: 0, to: g.batch, by: items) {
                    let count = min(items, g.batch - n0)
                    gatheredPad(g, plan, input: input, items: n0, count: count, slabs: slabs, workers: workerCount)
                    // Work units: (group, panel) pairs, each split into position ranges of whole
                    // tiles so that every worker gets as many units (MobileNetV2's 160-channel 7²
                    // layers have 5 panels: 3 against 2 whole, 5 against 5 halves).
                    let npos = count * plane, tiles = (npos + tileRows - 1) / tileRows, pairs = g.groups * panels
                    let splits = max(1, min(tiles, workerCount / greatestCommonDivisor(pairs, workerCount)))
                    Parallel.forEachChunk(pairs * splits, workers: workerCount) { chunk, _ in
                        for u in chunk {
                            let (pair, part) = u.quotientAndRemainder(dividingBy: splits)
                            let (grp, ip) = pair.quotientAndRemainder(dividingBy: panels)
                            let first = tiles * part / splits * tileRows, end = min(npos, tiles * (part + 1) / splits * tileRows)
                            let row0 = ip * width, channel0 = grp * kg + row0
                            _ = ck_conv_gather(
                                level, Int32(min(width, kg - row0)), rows, w.base + (grp * panels + ip) * rows * width,
                                plan.offsets, s.base + grp * slabStride, p.base, first, end - first,
                                y.base + (n0 * g.outChannels + channel0) * plane, plane, g.outChannels * plane,
                                b.map { UnsafePointer($0.base + channel0) }, c.map { UnsafePointer($0.base) })
                            guard let res else { continue }
                            // Positions first..<end of the pass run over items n0 + p / plane.
                            var p = first
                            while p < end {
                                let (item, offset) = p.quotientAndRemainder(dividingBy: plane), run = min(end - p, plane - offset)
                                for ch in channel0..<(channel0 + min(width, kg - row0)) {
                                    let at = ((n0 + item) * g.outChannels + ch) * plane + offset
                                    ClampKernel.apply(y.base + at, count: run, clamp, adding: UnsafePointer(res.base + at))
                                }
                                p += run
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The greatest common divisor of two positive integers.
func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    b == 0 ? a : greatestCommonDivisor(b, a % b)
}
