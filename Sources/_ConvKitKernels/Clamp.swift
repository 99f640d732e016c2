import _ConvKitMicroKernels

/// Clamping to [lower, upper] on buffers (ReLU6, hardtanh), split across cores for large
/// tensors like `ReLUKernel`.
///
/// MobileNetV2's ReLU6 ran as a per-element closure on one core: 12.5 % of its batch-16
/// forward pass (perf, 2026-12-03); as a vectorised memory pass it is a few percent.
public enum ClampKernel {
    /// `min(max(values[i], lower), upper)` in place on one thread, NaN kept: the epilogue a
    /// convolution applies to each block of its output while the block is still in cache.
    public static func apply(_ values: UnsafeMutablePointer<Float>, count: Int, _ bounds: OutputClamp) {
        apply(values, count: count, bounds, adding: nil)
    }

    /// `values[i] = clamp(values[i] + residual[i])`, either part optional, in place on one thread:
    /// the epilogue of a convolution that adds a residual block's shortcut before its ReLU. On
    /// the widest vector lanes (`ck_clamp`; compiled for the baseline CPU, the Swift loop took 4
    /// lanes: the course CNN's first convolution at batch 1 ran 12.2 µs with it, 10.2 without).
    public static func apply(_ values: UnsafeMutablePointer<Float>, count: Int, _ bounds: OutputClamp?, adding residual: UnsafePointer<Float>?) {
        guard count > 0, bounds != nil || residual != nil else { return }
        ck_clamp(Int32(MicroKernel.level), values, residual, count, bounds == nil ? 0 : 1, bounds?.lower ?? 0, bounds?.upper ?? 0)
    }

    /// `output[i] = clamp(output[i] + residual[i])` split across cores like `forward`: the same
    /// epilogue as one pass after the paths that do not apply it block by block.
    public static func finish(_ output: UnsafeMutablePointer<Float>, count: Int, _ bounds: OutputClamp?, adding residual: UnsafePointer<Float>?) {
        guard bounds != nil || residual != nil else { return }
        let (y, r) = (SharedPointer(output), residual.map { SharedPointer($0) })
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            apply(y.base + chunk.lowerBound, count: chunk.count, bounds, adding: r.map { UnsafePointer($0.base + chunk.lowerBound) })
        }
    }

    /// `output[i] = min(max(input[i], lower), upper)`, NaN propagated and −0 kept as PyTorch does;
    /// input may be output.
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, lower: Float, upper: Float, count: Int) {
        let (x, y) = (SharedPointer(input), SharedPointer(output))
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            ck_clamp_copy(Int32(MicroKernel.level), x.base + chunk.lowerBound, y.base + chunk.lowerBound, nil, chunk.count, 1, lower, upper)
        }
    }

    /// `gradInput[i] = lower < output[i] < upper ? gradOutput[i] : 0`: the gradient masked by
    /// the forward output, which is inside the bounds exactly where the input was (NaN in,
    /// NaN out, gradient 0), so no derivative array is kept.
    public static func backward(
        output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
        lower: Float, upper: Float, count: Int
    ) {
        mask(output: output, gradOutput: gradOutput, gradInput: gradInput, lower: lower, upper: upper, count: count)
    }

    /// `gradInput[i] = output[i] > lower (and < upper, when given) ? gradOutput[i] : 0`, split
    /// across cores on the widest lanes (`ck_clamp_gradient`): ReLU's (no upper bound, so +∞
    /// passes its gradient) and a clamp's. gradInput may be gradOutput.
    public static func mask(
        output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
        lower: Float, upper: Float?, count: Int
    ) {
        let (y, dy, dx) = (SharedPointer(output), SharedPointer(gradOutput), SharedPointer(gradInput))
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            let at = chunk.lowerBound
            ck_clamp_gradient(Int32(MicroKernel.level), y.base + at, dy.base + at, dx.base + at, chunk.count,
                              lower, upper == nil ? 0 : 1, upper ?? 0)
        }
    }
}

/// Bounds a convolution clamps its output to as it stores it (a fused ReLU is [0, +∞], a fused
/// ReLU6 [0, 6]); NaN passes through, as the separate activations let it.
public struct OutputClamp: Sendable, Equatable {
    public let lower: Float, upper: Float
    /// `nil` unless lower < upper (NaN bounds included).
    public init?(lower: Float, upper: Float) {
        guard lower < upper else { return nil }
        (self.lower, self.upper) = (lower, upper)
    }
    /// ReLU's bounds.
    public static let relu = OutputClamp(uncheckedLower: 0, upper: .infinity)
    /// ReLU6's bounds.
    public static let relu6 = OutputClamp(uncheckedLower: 0, upper: 6)

    private init(uncheckedLower lower: Float, upper: Float) { (self.lower, self.upper) = (lower, upper) }
}
