import _ConvKitMicroKernels

/// The weight gradient of a convolution that takes the direct path, without a column matrix.
///
/// `dWᵀ[(c, t)][k] = Σ_positions x_padded[off(c, t) + position] · dy[k][position]`: a GEMM
/// whose A operand is the padded input read in place through `DirectPlan`'s offsets, whose
/// B operand is the output gradient transposed to positions × channels (one cheap copy per
/// batch item), and whose reduction over positions stays in registers
/// (`ck_conv_grad_lines`: 12 (AVX-512) or 6 (AVX2) column-matrix rows × 32 (16 where K/G is) output channels per tile). The im2col path
/// gathered `C·taps` copies of the input first and reduced them with dot-product tiles.
/// Each worker accumulates its batch items into a private dWᵀ; the sums are transposed into
/// the (K, C/G, kernel...) layout at the end. Tests: `DirectConvolutionTests`.
extension ConvolutionKernel {
    /// One worker's share of the workspace: the padded input, the transposed output gradient
    /// (positions × K/G rounded up to whole 16-channel panels) and a private dWᵀ of every group.
    static func directGradientSlab(_ g: ConvGeometry) -> (input: Int, transposed: Int, partial: Int, channels: Int) {
        let channels = (g.outChannelsPerGroup + 15) / 16 * 16
        return (directSlabCount(g), g.outputPlane * channels, g.groups * g.columnRows * channels, channels)
    }

    /// Floats of workspace `backwardWeightDirect` needs.
    static func directWeightWorkspaceCount(_ g: ConvGeometry) -> Int {
        let s = directGradientSlab(g)
        return workers(g) * (s.input + s.transposed + s.partial)
    }

    /// gradWeight = Σₙ dy · colᵀ by direct tiles. Overwrites `gradWeight` (K, C/G, kernel...).
    /// - Precondition: `directApplies(g)`.
    static func backwardWeightDirect(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let mr = MicroKernel.convGradientRows
        let (kg, cg, rows, p) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.columnRows, g.outputPlane)
        let s = directGradientSlab(g), step = s.input + s.transposed + s.partial
        let (kp, tiles, panels) = (s.channels, (rows + mr - 1) / mr, s.channels / 16)
        let plan = DirectPlan.cached(g)
        let level = Int32(MicroKernel.level), parallel = parallelism(g), chainLines = max(1, 1024 / plan.width)
        let (x, dyAll, ws) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(workspace))
        // Pads item n's input planes of group grp and transposes its output gradient, into `base`.
        let prepare = { @Sendable (n: Int, grp: Int, base: UnsafeMutablePointer<Float>) in
            plan.pad(cg, input: x.base + (n * g.inChannels + grp * cg) * g.inputPlane, output: plan.slab(in: base))
            // Channels kg..<kp of each position stay as they are: they only reach dWᵀ columns never read.
            transposeCopy(rows: kg, cols: p, src: dyAll.base + (n * g.outChannels + grp * kg) * p, srcStride: p,
                          dst: base + s.input, dstStride: kp)
        }
        // Adds the prepared item's terms to the dWᵀ rows of column-matrix tiles `range` of group grp.
        let accumulate = { @Sendable (grp: Int, base: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>, range: Range<Int>) in
            let (src, dyt, dwt) = (plan.slab(in: base), base + s.input, partial + grp * rows * kp)
            plan.forEachLineBlock(0..<plan.lines) { block in
                // Two 16-channel panels per tile where there are two (`ck_conv_grad_lines`' pair tile).
                for panel in stride(from: 0, to: panels, by: 2) {
                    let pair = Int32(min(2, panels - panel))
                    for tile in range {
                        let i0 = tile * mr
                        plan.forEachRun(block) { first, count, inputOffset in
                            // At most ~1024 positions per register sum, then added into dWᵀ: one float
                            // chain over a whole 100 × 100 plane lost about 2e-4 of relative accuracy.
                            for l in stride(from: 0, to: count, by: chainLines) {
                                _ = ck_conv_grad_lines(
                                    level, Int32(min(mr, rows - i0)), pair, plan.width, min(chainLines, count - l),
                                    src + plan.lead + inputOffset + l * plan.inputLineStride, plan.offsets + i0, plan.inputLineStride,
                                    dyt + (first + l) * plan.width * kp + panel * 16, kp, dwt + i0 * kp + panel * 16, kp)
                            }
                        }
                    }
                }
            }
        }
        let used: Int
        if g.batch >= parallel {
            // Each worker prepares and accumulates whole batch items in its own slab.
            used = parallel
            Parallel.forEachChunk(g.batch, workers: parallel) { items, worker in
                let base = ws.base + worker * step, partial = base + s.input + s.transposed
                partial.update(repeating: 0, count: s.partial)
                for n in items {
                    for grp in 0..<g.groups {
                        prepare(n, grp, base)
                        accumulate(grp, base, partial, 0..<tiles)
                    }
                }
            }
        } else {
            // Fewer items than workers: one slab, the column-matrix rows split between the workers.
            used = 1
            let partial = SharedPointer(workspace + s.input + s.transposed)
            partial.base.update(repeating: 0, count: s.partial)
            for n in 0..<g.batch {
                for grp in 0..<g.groups {
                    prepare(n, grp, ws.base)
                    Parallel.forEachChunk(tiles, workers: parallel) { range, _ in accumulate(grp, ws.base, partial.base, range) }
                }
            }
        }
        // gradWeight[grp·K/G + k][r] = Σ over workers of dWᵀ[grp][r][k].
        for grp in 0..<g.groups {
            for k in 0..<kg {
                let dst = gradWeight + (grp * kg + k) * rows
                for r in 0..<rows {
                    var sum: Float = 0
                    for w in 0..<used { sum += workspace[w * step + s.input + s.transposed + (grp * rows + r) * kp + k] }
                    dst[r] = sum
                }
            }
        }
    }
}
