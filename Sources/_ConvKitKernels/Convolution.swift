import _ConvKitMicroKernels

/// Convolution (cross-correlation, as PyTorch) by direct tiles or im2col + GEMM, per batch
/// item and group.
///
/// Shapes (see `ConvGeometry`): input (N, C, in...), weight (K, C/G, kernel...),
/// bias (K), output (N, K, out...). Transposed convolution is the adjoint: its forward is
/// `backwardInput` of the convolution that maps its output back to its input.
///
/// Depthwise convolutions take the direct `DepthwiseKernel`; forward passes with lines at
/// least 12 wide read a padded input in place instead of building columns
/// (`Convolution+Direct.swift`), and so do their weight gradients
/// (`Convolution+DirectWeightGradient.swift`); narrower lines take gathered tiles over the
/// padded batch (`Convolution+Gathered.swift`, `Convolution+GatheredWeightGradient.swift`);
/// the input gradient of a stride-1 convolution
/// is a forward convolution with flipped weights (`Convolution+FlippedInputGradient.swift`). Otherwise
/// batch items are split across worker threads, each with its own slab of the workspace;
/// with a single worker the GEMM itself may use the threads instead. Every entry point
/// takes a caller-owned workspace of `workspaceCount(g)` floats, so the implementation can
/// change without touching autograd or callers.
public enum ConvolutionKernel {
    /// Worker threads for `g`: one per core, at most one per batch item, and one for small work.
    static func workers(_ g: ConvGeometry) -> Int {
        max(1, min(parallelism(g), g.batch))
    }

    /// Threads worth using on `g` at all: one per core, or one for small work (waking a
    /// second thread costs tens of microseconds).
    static func parallelism(_ g: ConvGeometry) -> Int {
        2 * g.batch * g.outChannels * g.outputPlane * g.columnRows < 1 << 22 ? 1 : MicroKernel.threads
    }

    /// One worker's slab: an im2col buffer (one chunk of output lines) and a private
    /// weight-gradient accumulator.
    static func slab(_ g: ConvGeometry) -> (columns: Int, weights: Int) {
        (isPointwise(g) ? 0 : g.columnRows * chunkLines(g) * g.outputSize.last!, workers(g) > 1 ? g.weightCount : 0)
    }

    /// Output lines (flattened leading output positions, each out_W wide) gathered per im2col
    /// chunk: all of them when the column matrix of a whole plane fits in 2 MiB, else as many
    /// as fit in about 384 KiB (at least one), so that the chunk is still in L2 when the GEMM
    /// reads it. A 7 × 7 stride-2 layer on 224 × 224 input has a 7.4 MB column matrix per
    /// image; read whole, it went through memory twice (and through the TLB, one page per row).
    static func chunkLines(_ g: ConvGeometry) -> Int {
        let oW = g.outputSize.last!, lines = g.outputPlane / max(oW, 1)
        if g.columnRows * g.outputPlane <= 1 << 19 { return max(lines, 1) }
        return max(1, min(lines, (96 << 10) / (g.columnRows * oW)))
    }

    /// Floats of workspace the entry points need for `g`.
    public static func workspaceCount(_ g: ConvGeometry) -> Int { ConvolutionPlan.cached(g).workspace }

    /// Floats of workspace `forward(g)` alone needs.
    static func forwardWorkspaceCount(_ g: ConvGeometry) -> Int {
        if let s = subsampledGeometry(g) { return s.inputCount + forwardWorkspaceCount(s) }
        return switch ConvolutionPlan.forwardAlgorithm(g) {
        case .winograd: WinogradKernel.workspaceCount(g, .four)
        case .winograd2x2: WinogradKernel.workspaceCount(g, .two)
        case .direct: directWorkspaceCount(g)
        case .gathered: gatheredWorkspaceCount(g)
        case .depthwise: 0
        case .pointwise, .im2colGEMM, .flipped: slabsCount(g)
        }
    }

    /// Floats of the per-worker slabs of the im2col path.
    static func slabsCount(_ g: ConvGeometry) -> Int {
        let s = slab(g)
        return workers(g) * (s.columns + s.weights)
    }

    /// A 1×1, stride-1, unpadded convolution reads its input as the column matrix directly.
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelVolume == 1 && g.inputSize == g.outputSize
            && g.padBefore.allSatisfy { $0 == 0 } && g.stride.allSatisfy { $0 == 1 }
    }

    /// Calls `body(first, width, columns)` for each chunk of the column matrix of batch item
    /// `n`, group `grp`: `width` output positions from position `first` on, as a
    /// (rows × width) matrix — `columns` filled by im2col, or the input itself for pointwise
    /// convolutions (one chunk, row stride P).
    private static func forEachColumnChunk(
        _ g: ConvGeometry, input: UnsafePointer<Float>, n: Int, group grp: Int,
        columns: UnsafeMutablePointer<Float>, _ body: (_ first: Int, _ width: Int, _ columns: UnsafePointer<Float>) -> Void
    ) {
        let src = input + (n * g.inChannels + grp * g.inChannelsPerGroup) * g.inputPlane
        if isPointwise(g) { return body(0, g.outputPlane, src) }
        forEachLineChunk(g) { lines, first, width in
            Im2Col.gather(g, channels: g.inChannelsPerGroup, input: src, columns: columns, lines: lines)
            body(first, width, UnsafePointer(columns))
        }
    }

    /// The chunks of output lines of `chunkLines(g)`: (lines, first position, width).
    private static func forEachLineChunk(_ g: ConvGeometry, _ body: (Range<Int>, Int, Int) -> Void) {
        let oW = g.outputSize.last!, lines = g.outputPlane / max(oW, 1), chunk = chunkLines(g)
        for l0 in stride(from: 0, to: lines, by: chunk) {
            let l1 = min(lines, l0 + chunk)
            body(l0..<l1, l0 * oW, (l1 - l0) * oW)
        }
    }

    /// Runs `body(batchItems, slab)` over chunks of the batch, one worker each.
    private static func overBatch(
        _ g: ConvGeometry, workspace: UnsafeMutablePointer<Float>,
        _ body: @Sendable (_ items: Range<Int>, _ columns: UnsafeMutablePointer<Float>, _ weights: UnsafeMutablePointer<Float>) -> Void
    ) {
        let s = slab(g)
        let ws = SharedPointer(workspace)
        Parallel.forEachChunk(g.batch, workers: workers(g)) { items, w in
            let base = ws.base + w * (s.columns + s.weights)
            body(items, base, base + s.columns)
        }
    }

    /// output = conv(input, weight) + bias, clamped to `clamp` when given (a fused ReLU or
    /// ReLU6). Overwrites `output`. The direct, gathered, Winograd and depthwise-plane paths clamp
    /// each block of output as it is stored, while it is in cache; the others clamp in place after.
    /// - Parameters:
    ///   - prepared: `weight` as `prepareWeight(g, …)` rearranged it, for the paths that read
    ///     rearranged weights (`preparedWeightLayout(g) != nil`; ignored by the others); when
    ///     `nil`, they rearrange `weight` into the workspace.
    ///   - residual: a tensor of the output's shape added before the clamp (a residual block's
    ///     shortcut: `relu(conv(x) + bias + shortcut)` with `clamp: .relu`), block by block on the
    ///     same paths as the clamp, in one pass after the others.
    public static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil, prepared: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil
    ) {
        if let s = subsampledGeometry(g) {
            subsample(g, input: input, into: workspace)
            return forward(s, input: UnsafePointer(workspace), weight: weight, bias: bias, output: output, workspace: workspace + s.inputCount,
                           clamp: clamp, prepared: prepared, residual: residual)
        }
        switch ConvolutionPlan.forwardAlgorithm(g) {
        case .direct:
            return forwardDirect(g, input: input, weight: weight, bias: bias, output: output, workspace: workspace, clamp: clamp,
                                 prepared: prepared, residual: residual)
        case .winograd:
            return WinogradKernel.forward(g, .four, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
                                          clamp: clamp, prepared: prepared, residual: residual)
        case .winograd2x2:
            return WinogradKernel.forward(g, .two, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
                                          clamp: clamp, prepared: prepared, residual: residual)
        case .gathered:
            return forwardGathered(g, input: input, weight: weight, bias: bias, output: output, workspace: workspace, clamp: clamp,
                                   prepared: prepared, residual: residual)
        case .depthwise:
            DepthwiseKernel.forward(g, input: input, weight: weight, bias: bias, output: output, clamp: residual == nil ? clamp : nil)
            if residual == nil { return }
        case .pointwise, .im2colGEMM, .flipped:  // forEachColumnChunk skips the column matrix for 1 × 1 layers
            forwardGEMM(g, input: input, weight: weight, bias: bias, output: output, workspace: workspace)
        }
        ClampKernel.finish(output, count: g.outputCount, clamp, adding: residual)
    }

    /// output = conv(input, weight) + bias through column-matrix GEMMs (1 × 1 layers read the input in place).
    private static func forwardGEMM(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let (kg, rows, p) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let threaded = workers(g) == 1
        let (x, w, y) = (SharedPointer(input), SharedPointer(weight), SharedPointer(output))
        let b = bias.map { SharedPointer($0) }
        // Each group's weights packed once for every item and column chunk (several items or chunks only).
        let lines = g.outputPlane / max(g.outputSize.last!, 1)
        let reused = g.batch > 1 || (!isPointwise(g) && chunkLines(g) < lines)
        let packed = (0..<g.groups).map { grp in
            reused ? PackedA(transposeA: false, m: kg, k: rows, a: weight + grp * kg * rows, lda: rows) : nil
        }
        defer { packed.forEach { $0?.deallocate() } }
        overBatch(g, workspace: workspace) { items, cols, _ in
            for n in items {
                for grp in 0..<g.groups {
                    forEachColumnChunk(g, input: x.base, n: n, group: grp, columns: cols) { first, width, col in
                        // out_g (K/G, chunk) = W_g (K/G, rows) · col (rows, chunk) + bias_g, the bias
                        // folded into the GEMM's stored tiles (one pass over the output).
                        gemm(transposeA: false, transposeB: false, m: kg, n: width, k: rows,
                             a: w.base + grp * kg * rows, lda: rows, b: col, ldb: width,
                             beta: 0, c: y.base + (n * g.outChannels + grp * kg) * p + first, ldc: p,
                             rowBias: b.map { UnsafePointer($0.base + grp * kg) }, threaded: threaded, packedA: packed[grp])
                    }
                }
            }
        }
    }

    /// Both gradients of one backward pass: `gradInput` = convᵀ(gradOutput, weight) and `gradWeight`
    /// = Σₙ dy · colᵀ, overwriting both. Depthwise planes take them in one pass (each plane's
    /// output gradient read from memory once, `DepthwiseKernel.backward`); other convolutions run
    /// `backwardInput` then `backwardWeight`.
    public static func backward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        if DepthwiseKernel.applies(g), DepthwiseKernel.backward(
            g, input: input, weight: weight, gradOutput: gradOutput, gradInput: gradInput, gradWeight: gradWeight) { return }
        backwardInput(g, gradOutput: gradOutput, weight: weight, gradInput: gradInput, workspace: workspace)
        backwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight, workspace: workspace)
    }

    /// gradInput = convᵀ(gradOutput, weight). Overwrites `gradInput`.
    public static func backwardInput(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let plan = ConvolutionPlan.cached(g)
        switch plan.inputGradient {
        case .depthwise: return DepthwiseKernel.backwardInput(g, gradOutput: gradOutput, weight: weight, gradInput: gradInput)
        case .flipped:
            return backwardInputFlipped(g, flippedGeometry(g)!, gradOutput: gradOutput, weight: weight, gradInput: gradInput, workspace: workspace)
        case .pointwise, .im2colGEMM, .direct, .gathered, .winograd, .winograd2x2: break
        }
        let (kg, cg, rows, p) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.columnRows, g.outputPlane)
        let pointwise = plan.inputGradient == .pointwise, threaded = workers(g) == 1
        let (dyAll, w, dxAll) = (SharedPointer(gradOutput), SharedPointer(weight), SharedPointer(gradInput))
        overBatch(g, workspace: workspace) { items, cols, _ in
            for n in items {
                (dxAll.base + n * g.inChannels * g.inputPlane).update(repeating: 0, count: g.inChannels * g.inputPlane)
                for grp in 0..<g.groups {
                    let dy = dyAll.base + (n * g.outChannels + grp * kg) * p
                    let dx = dxAll.base + (n * g.inChannels + grp * cg) * g.inputPlane
                    if pointwise {
                        // dx (C/G, P) = W_gᵀ (C/G, K/G) · dy (K/G, P)
                        gemm(transposeA: true, transposeB: false, m: rows, n: p, k: kg,
                             a: w.base + grp * kg * rows, lda: rows, b: dy, ldb: p,
                             beta: 0, c: dx, ldc: p, threaded: threaded)
                        continue
                    }
                    forEachLineChunk(g) { lines, first, width in
                        // dcol (rows, chunk) = W_gᵀ (rows, K/G) · dy (K/G, chunk), scattered back
                        gemm(transposeA: true, transposeB: false, m: rows, n: width, k: kg,
                             a: w.base + grp * kg * rows, lda: rows, b: dy + first, ldb: p,
                             beta: 0, c: cols, ldc: width, threaded: threaded)
                        Im2Col.scatterAdd(g, channels: cg, columns: cols, input: dx, lines: lines)
                    }
                }
            }
        }
    }

    /// gradWeight = Σₙ dy · colᵀ. Overwrites `gradWeight` (K, C/G, kernel...).
    /// Each worker accumulates its batch items privately; the sums are added at the end.
    public static func backwardWeight(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        switch ConvolutionPlan.cached(g).weightGradient {
        case .depthwise: return DepthwiseKernel.backwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
        case .direct: return backwardWeightDirect(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight, workspace: workspace)
        case .gathered: return backwardWeightGathered(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight, workspace: workspace)
        case .winograd: return WinogradKernel.backwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight, workspace: workspace)
        case .pointwise, .im2colGEMM, .flipped, .winograd2x2: break  // the plan never gives F(2×2) a weight gradient
        }
        let (kg, rows, p) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let workerCount = workers(g), threaded = workerCount == 1
        let (x, dyAll) = (SharedPointer(input), SharedPointer(gradOutput))
        let (dwAll, ws) = (SharedPointer(gradWeight), SharedPointer(workspace))
        overBatch(g, workspace: workspace) { items, cols, privateWeights in
            let dw = threaded ? dwAll.base : privateWeights
            dw.update(repeating: 0, count: g.weightCount)
            for n in items {
                for grp in 0..<g.groups {
                    let dy = dyAll.base + (n * g.outChannels + grp * kg) * p
                    forEachColumnChunk(g, input: x.base, n: n, group: grp, columns: cols) { first, width, col in
                        // dW_g (K/G, rows) += dy (K/G, chunk) · colᵀ (chunk, rows)
                        gemm(transposeA: false, transposeB: true, m: kg, n: rows, k: width,
                             a: dy + first, lda: p, b: col, ldb: width,
                             beta: 1, c: dw + grp * kg * rows, ldc: rows, threaded: threaded)
                    }
                }
            }
        }
        guard workerCount > 1 else { return }
        let s = slab(g)
        gradWeight.update(repeating: 0, count: g.weightCount)
        for w in 0..<min(workerCount, g.batch) {
            let partial = ws.base + w * (s.columns + s.weights) + s.columns
            for i in 0..<g.weightCount { gradWeight[i] += partial[i] }
        }
    }

    /// gradBias[k] = Σ over batch and positions of gradOutput[n, k, ...]. Overwrites `gradBias`.
    /// Channels are split across cores for large gradients.
    /// - Parameters:
    ///   - gradOutput: (batch, channels, plane).
    public static func biasGradient(
        batch: Int, channels: Int, plane: Int, gradOutput: UnsafePointer<Float>,
        gradBias: UnsafeMutablePointer<Float>
    ) {
        let (dy, db) = (SharedPointer(gradOutput), SharedPointer(gradBias))
        Parallel.forEachChunk(channels, workers: Parallel.memoryPassWorkers(batch * channels * plane)) { chunk, _ in
            for k in chunk {
                var s: Float = 0
                for n in 0..<batch { s += sum(dy.base + (n * channels + k) * plane, count: plane) }
                db.base[k] = s
            }
        }
    }

    /// Σ of `count` floats on vector lanes (`ck_sum`: four accumulators, so the adds' latency
    /// does not bound the pass).
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        ck_sum(Int32(MicroKernel.level), p, count)
    }
}
