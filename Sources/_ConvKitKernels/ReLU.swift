/// The rectified linear unit on buffers, split across cores for large tensors.
///
/// The passes are bound by memory, not arithmetic: a training step of the course CNN runs
/// three of each over up to 6.4 MB, and on one core they took about 5 % of the step.
public enum ReLUKernel {
    /// `output[i] = max(input[i], 0)`, with NaN propagated and −0 kept as PyTorch does; on the
    /// widest vector lanes (`ck_clamp_copy`: the Swift loop, compiled for the baseline CPU, ran 4).
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        ClampKernel.forward(input: input, output: output, lower: 0, upper: .infinity, count: count)
    }

    /// `gradInput[i] = output[i] > 0 ? gradOutput[i] : 0`: the gradient masked by the forward
    /// output (PyTorch's `threshold_backward`), so no derivative array is kept.
    public static func backward(
        output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count: Int
    ) {
        ClampKernel.mask(output: output, gradOutput: gradOutput, gradInput: gradInput, lower: 0, upper: nil, count: count)
    }
}
