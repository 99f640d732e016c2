import _ConvKitMicroKernels

/// Where the 2 × 2, stride-2 max pooling of a convolution's output goes when the direct path
/// pools each block of output lines right after computing it, while the lines are in cache
/// (`ConvolutionKernel.forwardPooled`), instead of a pass that reads the whole output again.
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
    func store(_ g: ConvGeometry, lines: Range<Int>, planes: Range<Int>, from output: UnsafeMutablePointer<Float>) {
        let (h, w) = (g.outputSize[0], g.outputSize[1])
        let (h2, w2) = (h / 2, w / 2)
        let first = lines.lowerBound, pairs = (min(lines.upperBound, 2 * h2) - first) / 2
        guard pairs > 0 else { return }
        let level = MicroKernel.level
        for plane in planes {
            let offset = plane * h2 * w2 + first / 2 * w2
            let index = indices.map { $0 + offset }
            ck_max_pool_plane(Int32(level), output + plane * g.outputPlane + first * w, 2 * pairs, w, values + offset, index,
                              pairs, w2, 2, 2, 2, 2, 0, 0, 1, 1)
            // The kernel counts positions from the block's first line.
            if let index, first > 0 { for i in 0..<(pairs * w2) { index[i] += first * w } }
        }
    }
}

extension ConvolutionKernel {
    /// Whether `forwardPooled` applies to `g`: a 2-D convolution whose forward pass takes the
    /// direct tiles, with an output of at least 2 × 2.
    public static func poolsAsItStores(_ g: ConvGeometry) -> Bool {
        g.rank == 2 && g.outputSize.allSatisfy { $0 >= 2 } && subsampledGeometry(g) == nil
            && ConvolutionPlan.forwardAlgorithm(g) == .direct
    }

    /// The 2 × 2, stride-2 max pooling of `g`'s output planes (one per item and output channel).
    public static func poolGeometry(_ g: ConvGeometry) -> ConvGeometry {
        let k = max(g.outChannels, 1)
        return ConvGeometry(batch: g.batch, inChannels: k, outChannels: k, groups: k, inputSize: g.outputSize,
                            kernelSize: [2, 2], stride: [2, 2], dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
    }

    /// output = conv(input, weight) + bias (clamped to `clamp` when given), as `forward` computes
    /// it, and its 2 × 2, stride-2 max pooling into `pool`, each block of output lines pooled as
    /// soon as its channels are stored. `workspace`: `workspaceCount(g)` floats.
    /// - Precondition: `poolsAsItStores(g)`.
    public static func forwardPooled(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil,
        prepared: UnsafePointer<Float>? = nil, pool: PooledOutput
    ) {
        precondition(poolsAsItStores(g), "forwardPooled: \(g) does not take the direct path")
        forwardDirect(g, input: input, weight: weight, bias: bias, output: output, workspace: workspace, clamp: clamp,
                      prepared: prepared, pool: pool)
    }
}
