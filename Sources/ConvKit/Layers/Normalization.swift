/// `nn.BatchNorm1d` / `nn.BatchNorm2d`: normalises each channel of (N, C, ...) with batch
/// statistics in training (updating `running_mean`/`running_var`) and running ones in
/// evaluation. State: weight γ, bias β, running_mean, running_var, num_batches_tracked.
public class BatchNorm: Module, ModeDependent {
    public let weight: Tensor?, bias: Tensor?
    public let runningMean: Tensor, runningVar: Tensor
    /// The number of training batches seen (saved as I64 `num_batches_tracked`).
    public let numBatchesTracked: Tensor
    public let momentum: Float, eps: Float
    public var isTraining = true
    /// Folded into the convolution before it by `fuseForInference`: passes its input through
    /// (evaluation only).
    public internal(set) var isFolded = false
    /// When set (`Module.synchronizeBatchNorm(over:)`), training normalises with the statistics
    /// of the whole global batch of this group (`syncBatchNorm`), as `nn.SyncBatchNorm`.
    public var synchronizationGroup: (any ProcessGroup)?

    /// - Parameters:
    ///   - numFeatures: C.
    ///   - affine: whether γ and β are learnable (initialised to 1 and 0).
    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) throws {
        guard numFeatures > 0 else {
            throw ConvKitError.invalidArgument(op: "BatchNorm", argument: "numFeatures", message: "must be positive, got \(numFeatures)")
        }
        try Limits.elementCount([numFeatures], op: "BatchNorm", what: "numFeatures")
        weight = affine ? Initializer.constant([numFeatures], 1) : nil
        bias = affine ? Initializer.constant([numFeatures], 0) : nil
        runningMean = Tensor(uncheckedShape: [numFeatures], scalars: Array(repeating: 0, count: numFeatures))
        runningVar = Tensor(uncheckedShape: [numFeatures], scalars: Array(repeating: 1, count: numFeatures))
        numBatchesTracked = Tensor(uncheckedShape: [], scalars: [0])
        self.eps = eps
        self.momentum = momentum
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        if isFolded {
            guard !isTraining else {
                throw ConvKitError.invalidArgument(op: "BatchNorm", argument: "mode",
                                                   message: "this batch norm was folded into its convolution for inference; load the weights again to train")
            }
            return input
        }
        if isTraining { numBatchesTracked.scalars[0] += 1 }
        if isTraining, let group = synchronizationGroup, group.worldSize > 1 {
            return try syncBatchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                     momentum: momentum, eps: eps, group: group)
        }
        return try batchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                             training: isTraining, momentum: momentum, eps: eps)
    }

    /// `(forward(input) + residual).relu()` (without `residual`: `forward(input).relu()`) with the
    /// addition and the ReLU in batch norm's own passes (`batchNorm(…, adding:, relu: true)`), where
    /// nothing observes this module's output (a trace or a feature capture sees it as `forward`
    /// gives it) and it is neither folded nor synchronised.
    public func forwardThenReLU(_ input: Tensor, adding residual: Tensor? = nil) throws -> Tensor {
        guard !isFolded, !moduleCallsObserved, !(isTraining && (synchronizationGroup?.worldSize ?? 1) > 1) else {
            let y = try forward(input)
            return try (residual.map { try y + $0 } ?? y).relu()
        }
        if isTraining { numBatchesTracked.scalars[0] += 1 }
        return try batchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                             training: isTraining, momentum: momentum, eps: eps, adding: residual, relu: true)
    }

    public var localState: [StateEntry] {
        var entries: [StateEntry] = []
        if let weight, let bias { entries += [StateEntry("weight", weight), StateEntry("bias", bias)] }
        return entries + [StateEntry("running_mean", runningMean, kind: .buffer),
                          StateEntry("running_var", runningVar, kind: .buffer),
                          StateEntry("num_batches_tracked", numBatchesTracked, kind: .counter)]
    }
}

/// `nn.BatchNorm1d`: input (N, C) or (N, C, L).
public final class BatchNorm1d: BatchNorm {}

/// `nn.BatchNorm2d`: input (N, C, H, W).
public final class BatchNorm2d: BatchNorm {}

/// `nn.BatchNorm3d`: input (N, C, D, H, W); statistics per channel over N·D·H·W.
public final class BatchNorm3d: BatchNorm {}

/// `nn.LayerNorm`: normalises over the trailing `normalizedShape` axes, with γ, β of that shape.
public final class LayerNorm: Module {
    public let normalizedShape: [Int]
    public let weight: Tensor?, bias: Tensor?
    public let eps: Float

    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true) throws {
        guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidArgument(
                op: "LayerNorm", argument: "normalizedShape", message: "must be non-empty and positive, got \(normalizedShape)")
        }
        try Limits.elementCount(normalizedShape, op: "LayerNorm", what: "normalizedShape")
        self.normalizedShape = normalizedShape
        weight = elementwiseAffine ? Initializer.constant(normalizedShape, 1) : nil
        bias = elementwiseAffine ? Initializer.constant(normalizedShape, 0) : nil
        self.eps = eps
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public var localState: [StateEntry] {
        guard let weight, let bias else { return [] }
        return [StateEntry("weight", weight), StateEntry("bias", bias)]
    }
}

/// Layer normalisation over the channel axis of (N, C, H, W) at each position (ConvNeXt's
/// `LayerNorm2d`, i.e. `data_format="channels_first"`); γ, β of shape (C).
public final class LayerNorm2d: Module {
    public let weight: Tensor, bias: Tensor
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-6) throws {
        guard channels > 0 else {
            throw ConvKitError.invalidArgument(op: "LayerNorm2d", argument: "channels", message: "must be positive, got \(channels)")
        }
        try Limits.elementCount([channels], op: "LayerNorm2d", what: "channels")
        weight = Initializer.constant([channels], 1)
        bias = Initializer.constant([channels], 0)
        self.eps = eps
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try layerNormChannels(input, weight: weight, bias: bias, eps: eps)
    }

    public var localState: [StateEntry] { [StateEntry("weight", weight), StateEntry("bias", bias)] }
}
