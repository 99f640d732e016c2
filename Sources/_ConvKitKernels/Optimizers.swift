import _ConvKitMicroKernels

/// Optimizer updates on buffers (`ck_adam_step`, `ck_sgd_step`): each element as the scalar
/// definitions in ConvKit's `Adam` and `SGD` compute it, bit for bit, on vector lanes and split
/// across cores for large tensors (the scalar loop with its square root and division per element
/// was 4 % of the course CNN's 5-epoch run).
public enum OptimizerKernel {
    /// Adam's (or, `decoupled`, AdamW's) update of `count` weights in place from their gradient
    /// and first and second moments `m` and `v` (updated too). `step` = lr / (1 − β₁ᵗ), `root2` =
    /// √(1 − β₂ᵗ). The four buffers must not overlap.
    public static func adam(
        weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, count: Int, beta1: Float, beta2: Float, step: Float, root2: Float, eps: Float,
        learningRate: Float, weightDecay: Float, decoupled: Bool
    ) {
        let (w, g, mm, vv) = (SharedPointer(weights), SharedPointer(gradient), SharedPointer(m), SharedPointer(v))
        let level = Int32(MicroKernel.level)
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            let at = chunk.lowerBound
            ck_adam_step(level, w.base + at, g.base + at, mm.base + at, vv.base + at, chunk.count, beta1, beta2, step, root2, eps,
                         learningRate, weightDecay, decoupled ? 1 : 0)
        }
    }

    /// SGD's update of `count` weights in place: with a momentum `buffer` (updated; on the
    /// `first` step it becomes the gradient), Nesterov's or plain momentum. The buffers must not
    /// overlap.
    public static func sgd(
        weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>?,
        count: Int, learningRate: Float, momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool, first: Bool
    ) {
        let (w, g, b) = (SharedPointer(weights), SharedPointer(gradient), buffer.map { SharedPointer($0) })
        let level = Int32(MicroKernel.level)
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            let at = chunk.lowerBound
            ck_sgd_step(level, w.base + at, g.base + at, b.map { $0.base + at }, chunk.count, learningRate, momentum, dampening,
                        weightDecay, nesterov ? 1 : 0, first ? 1 : 0)
        }
    }
}
