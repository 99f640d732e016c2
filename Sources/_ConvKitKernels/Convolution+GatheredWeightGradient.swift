import _ConvKitMicroKernels

/// The weight gradient of a convolution whose forward pass takes the gathered tiles, without a
/// column matrix: `dW[k][(c, t)] = Σ over the batch's positions q of dy[k][q] · x_padded[xpos[q] + off(c, t)]`,
/// with the padded slabs and window starts of `forwardGathered` and the output gradient
/// transposed into panels of positions × 32 channels (16 with AVX2). Each tile
/// (`ck_conv_gather_grad`: 8 column-matrix rows × 32 channels, 6 × 16 with AVX2) sums the
/// batch's positions in registers, `gatheredChain` at a time, each chain added into its own part
/// of dW, so the workers split (panel, row tile) pairs and write disjoint parts of dW: no private
/// copies to add up. The im2col path reduced over one
/// item's 49 positions per GEMM call. Tests: `GatheredConvolutionTests`.
extension ConvolutionKernel {
    /// Positions summed per register tile before they are added into dW: one float chain over a
    /// whole 100 × 100 plane lost about 2e-4 of relative accuracy (`backwardWeightDirect`).
    static let gatheredChain = 1024

    /// Floats of workspace `backwardWeightGathered` needs: one pass's slabs, window starts and
    /// transposed output gradients.
    static func gatheredWeightWorkspaceCount(_ g: ConvGeometry) -> Int {
        let items = gatheredItems(g)
        return items * (g.groups * gatheredSlabStride(g) + g.outputPlane + gatheredTransposedCount(g))
    }

    /// gradWeight = Σₙ dy · colᵀ by gathered tiles. Overwrites `gradWeight` (K, C/G, kernel...).
    /// - Precondition: `gatheredApplies(g)`.
    static func backwardWeightGathered(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let width = MicroKernel.gatherChannels, tileRows = MicroKernel.gatherGradientRows
        let (kg, rows, plane) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let panels = (kg + width - 1) / width, pairs = g.groups * panels, rowTiles = (rows + tileRows - 1) / tileRows
        let plan = DirectPlan.cached(g)
        let (slabStride, items) = (gatheredSlabStride(g), gatheredItems(g))
        let slabs = plan.slab(in: workspace)
        let positions = workspace + items * g.groups * slabStride, transposed = positions + items * plane
        let workerCount = parallelism(g), level = Int32(MicroKernel.level)
        positions.withMemoryRebound(to: Int32.self, capacity: items * plane) { xpos in
            gatheredPositions(g, plan, items: items, into: xpos)
            let (dy, t, s, p, dw) = (SharedPointer(gradOutput), SharedPointer(transposed), SharedPointer(slabs),
                                     SharedPointer(xpos), SharedPointer(gradWeight))
            for n0 in stride(from: 0, to: g.batch, by: items) {
                let count = min(items, g.batch - n0), npos = count * plane
                // Panel (grp, ip) of item i: t[((grp·panels + ip)·items + i)·plane·width + position·width + o]
                // = dy[n0 + i][grp·K/G + ip·width + o][position], zero past the group's channels.
                gatheredPad(g, plan, input: input, items: n0, count: count, slabs: slabs, workers: workerCount) { i, grp in
                    for ip in 0..<panels {
                        let row0 = ip * width, cols = min(width, kg - row0)
                        let dst = t.base + ((grp * panels + ip) * items + i) * plane * width
                        if cols < width { dst.update(repeating: 0, count: plane * width) }
                        transposeCopy(rows: cols, cols: plane, src: dy.base + ((n0 + i) * g.outChannels + grp * kg + row0) * plane,
                                      srcStride: plane, dst: dst, dstStride: width)
                    }
                }
                // Work units: (pair, row tile), consecutive row tiles of one pair in one call.
                Parallel.forEachChunk(pairs * rowTiles, workers: workerCount) { chunk, _ in
                    var u = chunk.lowerBound
                    while u < chunk.upperBound {
                        let (pair, tile0) = u.quotientAndRemainder(dividingBy: rowTiles)
                        let tile1 = min(rowTiles, tile0 + chunk.upperBound - u)
                        let (grp, ip) = pair.quotientAndRemainder(dividingBy: panels)
                        let (r0, r1, row0) = (tile0 * tileRows, min(rows, tile1 * tileRows), ip * width)
                        for q0 in stride(from: 0, to: npos, by: gatheredChain) {
                            _ = ck_conv_gather_grad(
                                level, r1 - r0, Int32(min(width, kg - row0)), s.base + grp * slabStride, p.base, q0,
                                min(gatheredChain, npos - q0), plan.offsets + r0, t.base + pair * items * plane * width,
                                dw.base + (grp * kg + row0) * rows + r0, rows, n0 > 0 || q0 > 0 ? 1 : 0)
                        }
                        u += tile1 - tile0
                    }
                }
            }
        }
    }
}
