/// `nn.GroupNorm`: channels in `groups` groups, each normalised per sample, then γ (`weight`)
/// and β (`bias`) per channel.
public class GroupNorm: Module {
    public let groups: Int, channels: Int, eps: Float
    public let weight: Tensor?, bias: Tensor?

    /// - Throws: `ConvKitError.invalidArgument` unless groups divides channels (both positive).
    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) throws {
        guard groups > 0, channels > 0, channels % groups == 0, channels <= 1 << 26 else {
            throw ConvKitError.invalidArgument(op: "GroupNorm", argument: "groups/channels",
                                               message: "groups must be positive and divide channels, got \(groups) and \(channels)")
        }
        (self.groups, self.channels, self.eps) = (groups, channels, eps)
        weight = affine ? Initializer.constant([channels], 1) : nil
        bias = affine ? Initializer.constant([channels], 0) : nil
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 2, input.shape[1] == channels else {
            throw ConvKitError.shapeMismatch(op: "GroupNorm", message: "expected (N, \(channels), ...), got \(input.shape)")
        }
        return try groupNorm(input, groups: groups, weight: weight, bias: bias, eps: eps)
    }

    public var localState: [StateEntry] {
        (weight.map { [StateEntry("weight", $0)] } ?? []) + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }
}

/// `nn.InstanceNorm1d` / `nn.InstanceNorm2d` / `nn.InstanceNorm3d` with PyTorch's defaults
/// (no affine parameters unless asked, no running statistics): each channel of each sample
/// normalised over its positions, in training and evaluation alike — a `GroupNorm` with one
/// channel per group.
public final class InstanceNorm: GroupNorm {
    public init(channels: Int, eps: Float = 1e-5, affine: Bool = false) throws {
        try Limits.check(channels, in: 1...(1 << 26), op: "InstanceNorm", argument: "channels")
        try super.init(groups: channels, channels: channels, eps: eps, affine: affine)
    }

    public override func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 3, input.shape[1] == channels else {
            throw ConvKitError.shapeMismatch(op: "InstanceNorm", message: "expected (N, \(channels), spatial...), got \(input.shape)")
        }
        return try groupNorm(input, groups: channels, weight: weight, bias: bias, eps: eps)
    }
}

/// `nn.LocalResponseNorm`: the original AlexNet's normalisation across neighbouring channels.
public final class LocalResponseNorm: Module {
    public let size: Int, alpha: Float, beta: Float, k: Float
    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
        (self.size, self.alpha, self.beta, self.k) = (size, alpha, beta, k)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try localResponseNorm(input, size: size, alpha: alpha, beta: beta, k: k) }
}
