/// The rectified linear unit on buffers, split across cores for large tensors.
///
/// The passes are bound by memory, not arithmetic: a training step of the course CNN runs
/// three of each over up to 6.4 MB, and on one core they took about 5 % of the step.
public enum ReLUKernel {
    /// `output[i] = max(input[i], 0)`, with NaN propagated as PyTorch does.
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        let (x, y) = (SharedPointer(input), SharedPointer(output))
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            for i in chunk {
                let v = x.base[i]
                y.base[i] = v > 0 || v != v ? v : 0
            }
        }
    }

    /// `gradInput[i] = output[i] > 0 ? gradOutput[i] : 0`: the gradient masked by the forward
    /// output (PyTorch's `threshold_backward`), so no derivative array is kept.
    public static func backward(
        output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count: Int
    ) {
        let (y, dy, dx) = (SharedPointer(output), SharedPointer(gradOutput), SharedPointer(gradInput))
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            for i in chunk {
                let g = dy.base[i]  // loaded unconditionally, so the select vectorises
                dx.base[i] = y.base[i] > 0 ? g : 0
            }
        }
    }
}
