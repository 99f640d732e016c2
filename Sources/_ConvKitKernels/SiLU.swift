import _ConvKitMicroKernels

/// SiLU (x·σ(x), EfficientNet's activation) on buffers: the C kernel's vector exponential,
/// split across cores for large tensors (a scalar `expf` per element was 45 % of an
/// EfficientNet-B0 forward pass).
public enum SiLUKernel {
    /// `output[i] = input[i] / (1 + e^−input[i])`, and when `derivative` is given
    /// `derivative[i] = σ(x)·(1 + x·(1 − σ(x)))`.
    public static func forward(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>?, count: Int
    ) {
        let (x, y, d) = (SharedPointer(input), SharedPointer(output), derivative.map { SharedPointer($0) })
        let level = Int32(MicroKernel.level)
        Parallel.forEachChunk(count, workers: Parallel.arithmeticPassWorkers(count)) { chunk, _ in
            ck_silu(level, x.base + chunk.lowerBound, y.base + chunk.lowerBound, d.map { $0.base + chunk.lowerBound },
                    chunk.count)
        }
    }
}
