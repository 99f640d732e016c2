/// Whether operations record themselves on the autograd tape (per task and thread).
public enum GradMode {
    @TaskLocal static var isEnabled = true

    /// Whether operations currently record gradients.
    public static var isRecording: Bool { isEnabled }
}

/// Runs `body` without recording operations on the autograd tape (PyTorch's
/// `torch.no_grad()` / inference mode): faster, less memory, results have no history.
public func withGradientsDisabled<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}
