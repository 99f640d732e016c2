/// `nn.MaxPool1d`, `nn.MaxPool2d` and `nn.MaxPool3d` (by `rank`): the maximum over each window.
public class MaxPool: Module {
    public let kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, dilation: PerAxis
    public let ceilMode: Bool
    let rank: Int

    init(rank: Int, kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, dilation: PerAxis, ceilMode: Bool) {
        (self.rank, self.kernelSize, self.stride, self.padding, self.dilation, self.ceilMode) =
            (rank, kernelSize, stride, padding, dilation, ceilMode)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try maxPool(input, rank: rank, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                    ceilMode: ceilMode, returnIndices: false, op: "maxPool\(rank)d").output
    }

    /// `MaxPool2d(kernelSize: 2)` as written in most networks: 2 × 2 windows, stride 2, no
    /// padding, no dilation, floor mode (what `Convolution.pooled` computes).
    var isTwoByTwo: Bool {
        rank == 2 && [[2], [2, 2]].contains(kernelSize.values) && (stride.map { [[2], [2, 2]].contains($0.values) } ?? true)
            && padding.values.allSatisfy { $0 == 0 } && dilation.values.allSatisfy { $0 == 1 } && !ceilMode
    }
}

/// `nn.MaxPool1d`: (N, C, L) → (N, C, L_out); `stride` defaults to `kernelSize`.
public final class MaxPool1d: MaxPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, dilation: PerAxis = 1, ceilMode: Bool = false) {
        super.init(rank: 1, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// `nn.MaxPool2d`: (N, C, H, W) → (N, C, H_out, W_out); `stride` defaults to `kernelSize`.
public final class MaxPool2d: MaxPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, dilation: PerAxis = 1, ceilMode: Bool = false) {
        super.init(rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// `nn.AvgPool1d`, `nn.AvgPool2d` and `nn.AvgPool3d` (by `rank`): the mean over each window.
public class AvgPool: Module {
    public let kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis
    public let ceilMode: Bool, countIncludePad: Bool
    let rank: Int

    init(rank: Int, kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, ceilMode: Bool, countIncludePad: Bool) {
        (self.rank, self.kernelSize, self.stride, self.padding, self.ceilMode, self.countIncludePad) =
            (rank, kernelSize, stride, padding, ceilMode, countIncludePad)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try avgPool(input, rank: rank, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                    countIncludePad: countIncludePad, divisorOverride: nil, op: "avgPool\(rank)d")
    }
}

/// `nn.AvgPool1d`: (N, C, L) → (N, C, L_out).
public final class AvgPool1d: AvgPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        super.init(rank: 1, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                   countIncludePad: countIncludePad)
    }
}

/// `nn.AvgPool2d`: (N, C, H, W) → (N, C, H_out, W_out).
public final class AvgPool2d: AvgPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        super.init(rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                   countIncludePad: countIncludePad)
    }
}

/// `nn.MaxPool3d`: (N, C, D, H, W) → (N, C, D_out, H_out, W_out).
public final class MaxPool3d: MaxPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, dilation: PerAxis = 1, ceilMode: Bool = false) {
        super.init(rank: 3, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// `nn.AvgPool3d`: (N, C, D, H, W) → (N, C, D_out, H_out, W_out).
public final class AvgPool3d: AvgPool {
    public init(kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        super.init(rank: 3, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                   countIncludePad: countIncludePad)
    }
}

/// `nn.AdaptiveAvgPool3d`: (N, C, D, H, W) → (N, C, outputSize...).
public final class AdaptiveAvgPool3d: AdaptiveAvgPool {
    public init(outputSize: PerAxis) { super.init(rank: 3, outputSize: outputSize) }
}

/// `nn.AdaptiveAvgPool2d` and `nn.AdaptiveAvgPool3d` (by `rank`): windows chosen to cover the input, cell i of
/// an axis of length n averaging [⌊i·n/out⌋, ⌈(i+1)·n/out⌉).
public class AdaptiveAvgPool: Module {
    public let outputSize: PerAxis
    let rank: Int
    init(rank: Int, outputSize: PerAxis) { (self.rank, self.outputSize) = (rank, outputSize) }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try adaptiveAvgPool(input, rank: rank, outputSize: outputSize, op: "adaptiveAvgPool\(rank)d")
    }
}

/// `nn.AdaptiveAvgPool2d`: (N, C, H, W) → (N, C, outputSize...), windows chosen to cover the input.
public final class AdaptiveAvgPool2d: AdaptiveAvgPool {
    public init(outputSize: PerAxis) { super.init(rank: 2, outputSize: outputSize) }
}

/// Global average pooling: (N, C, spatial...) → (N, C), the mean of each feature map
/// (`AdaptiveAvgPool2d(1)` followed by `Flatten`).
public final class GlobalAvgPool: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try globalAvgPool(input).flattened() }
}
