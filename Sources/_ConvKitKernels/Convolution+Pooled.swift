import _ConvKitMicroKernels

/// Where the 2 × 2, stride-2 max pooling of a convolution's output goes when the direct or
/// Winograd path pools each block of output lines right after computing it, while the lines are
/// in cache (`ConvolutionKernel.forwardPooled`), instead of a pass that reads the whole output again.
public struct PooledOutput: @unchecked Sendable {  // pointers the caller owns for the call
    /// (N, K, ⌊H/2⌋, ⌊W/2⌋): each window's first largest value (a NaN wins), as `MaxPool2d(2)`.
    public let values: UnsafeMutablePointer<Float>
    /// Where each value came from, as its flat position in its (H, W) output plane (what
    /// `PoolingKernel.maxBackward` scatters to); nil when no backward pass needs them.
    public let indices: UnsafeMutablePointer<Int>?

    public init(values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>?) {
        (self.values, self.indices) = (values, indices)
    }

    /// Pools output `lines` (the first one even) of the given output planes (item · K + channel) of
    /// `output` into `values` and `indices`; the last line of an odd height is left out, as in PyTorch.
    func store(_ g: ConvGeometry, lines: Range<Int>, planes: Range<Int>, from output: UnsafePointer<Float>) {
        for plane in planes {
            store(g, plane: plane, lines: lines, at: output + plane * g.outputPlane + lines.lowerBound * g.outputSize[1])
        }
    }

    /// Where the pooled values (and indices) of output plane `plane`'s line `line` (even) start.
    func row(_ g: ConvGeometry, plane: Int, line: Int) -> (values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>?) {
        let w2 = g.outputSize[1] / 2, offset = (plane * (g.outputSize[0] / 2) + line / 2) * w2
        return (values + offset, indices.map { $0 + offset })
    }

    /// Pools output `lines` (the first one even) of output plane `plane` (item · K + channel),
    /// which lie at `source`, one output line (W floats) after another: the lines in the plane
    /// itself, or a copy of them elsewhere (Winograd's tile rows, `WinogradKernel.forward`).
    func store(_ g: ConvGeometry, plane: Int, lines: Range<Int>, at source: UnsafePointer<Float>) {
        let (h, w) = (g.outputSize[0], g.outputSize[1])
        let first = lines.lowerBound, pairs = (min(lines.upperBound, 2 * (h / 2)) - first) / 2
        guard pairs > 0 else { return }
        let (y, index) = row(g, plane: plane, line: first)
        ck_max_pool_line_pairs(Int32(MicroKernel.level), source, pairs, w, first / 2, y, index)
    }
}

extension ConvolutionKernel {
    /// Whether `forwardPooled` applies to `g`: a 2-D convolution with an output of at least 2 × 2
    /// whose forward pass takes the direct tiles, or Winograd's tiles by blocks of tile rows (not
    /// the filter-split products of a few tiles and large filters, `WinogradKernel.splitsFilters`).
    public static func poolsAsItStores(_ g: ConvGeometry) -> Bool {
        guard g.rank == 2 && g.outputSize.allSatisfy({ $0 >= 2 }) && subsampledGeometry(g) == nil else { return false }
        switch ConvolutionPlan.forwardAlgorithm(g) {
        case .direct: return true
        case .winograd: return !WinogradKernel.splitsFilters(g, .four)
        case .winograd2x2: return !WinogradKernel.splitsFilters(g, .two)
        default: return false
        }
    }

    /// Floats of `forwardPooled`'s `output`: the whole output where the direct tiles store it, none
    /// where Winograd's tile rows are pooled from the workspace.
    public static func pooledOutputCount(_ g: ConvGeometry) -> Int {
        ConvolutionPlan.forwardAlgorithm(g) == .direct ? g.outputCount : 0
    }

    /// The 2 × 2, stride-2 max pooling of `g`'s output planes (one per item and output channel).
    public static func poolGeometry(_ g: ConvGeometry) -> ConvGeometry {
        let k = max(g.outChannels, 1)
        return ConvGeometry(batch: g.batch, inChannels: k, outChannels: k, groups: k, inputSize: g.outputSize,
                            kernelSize: [2, 2], stride: [2, 2], dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
    }

    /// output = conv(input, weight) + bias (clamped to `clamp` when given), as `forward` computes
    /// it, and its 2 × 2, stride-2 max pooling into `pool`, each block of output lines pooled as
    /// soon as its channels are stored. `output` (`pooledOutputCount(g)` floats): where the direct
    /// tiles store the convolution's output; Winograd's tile rows are pooled from a per-worker copy
    /// in the workspace instead. `workspace`: `workspaceCount(g)` floats.
    /// - Precondition: `poolsAsItStores(g)`.
    public static func forwardPooled(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil,
        prepared: UnsafePointer<Float>? = nil, pool: PooledOutput
    ) {
        precondition(poolsAsItStores(g), "forwardPooled: \(g) pools only on the direct and Winograd tile paths")
        switch ConvolutionPlan.forwardAlgorithm(g) {
        case .winograd:
            WinogradKernel.forward(g, .four, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
                                   clamp: clamp, prepared: prepared, pool: pool)
        case .winograd2x2:
            WinogradKernel.forward(g, .two, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
                                   clamp: clamp, prepared: prepared, pool: pool)
        default:
            forwardDirect(g, input: input, weight: weight, bias: bias, output: output, workspace: workspace, clamp: clamp,
                          prepared: prepared, pool: pool)
        }
    }
}
