/// A convolution layer of any rank: `weight` (K, C/groups, kernel...) and optional `bias` (K),
/// initialised as PyTorch (kaiming-uniform a=√5; bias uniform ±1/√fan_in). Use `Conv1d`
/// or `Conv2d`.
public class Convolution: Module {
    /// (K, C/groups, kernel...).
    public let weight: Tensor
    /// (K), when the layer has one (`fuseForInference` gives one to a convolution it folds a
    /// batch norm into).
    public internal(set) var bias: Tensor?
    public let inChannels: Int, outChannels: Int, groups: Int
    public let kernelSize: [Int], stride: [Int], dilation: [Int]
    public let padding: Padding
    public let paddingMode: PaddingMode
    /// How this layer's products may be computed: `.automatic` (the default) defers to
    /// `ConvolutionAlgorithm.global`; `.direct` keeps every multiply of the definition;
    /// `.winograd` asks for Winograd (F(4×4, 3×3), or F(2×2, 3×3) forward for a batch of few
    /// tiles) where the layer's shape allows it.
    public var algorithm: ConvolutionAlgorithm = .automatic
    /// The activation this layer applies to its own output (`.relu` or `.relu6`), set by
    /// `fuseForInference` where a ReLU or ReLU6 is the only use of the (batch-normed) output:
    /// the output is clamped in the kernel as it is stored, and the activation that follows
    /// then returns its input unchanged. `nil` (the default) for a plain convolution.
    public internal(set) var fusedActivation: OutputClamp?
    let rank: Int
    /// `weight` rearranged for the forward path, kept between calls that record no gradient.
    let prepared = PreparedWeights()

    init(
        rank: Int, inChannels: Int, outChannels: Int, kernelSize: PerAxis, stride: PerAxis, padding: Padding,
        dilation: PerAxis, groups: Int, bias: Bool, paddingMode: PaddingMode,
        using generator: inout some RandomNumberGenerator
    ) throws {
        let op = "Conv\(rank)d"
        guard inChannels > 0, outChannels > 0, groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(
                op: op, argument: "inChannels/outChannels/groups",
                message: "channels must be positive multiples of groups, got \(inChannels), \(outChannels), groups \(groups)")
        }
        self.rank = rank
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        self.kernelSize = try kernelSize.resolved(rank: rank, op: op, argument: "kernelSize")
        self.stride = try stride.resolved(rank: rank, op: op, argument: "stride")
        self.dilation = try dilation.resolved(rank: rank, op: op, argument: "dilation")
        _ = try padding.resolved(rank: rank, kernel: self.kernelSize, dilation: self.dilation, stride: self.stride, op: op)
        self.padding = padding
        self.paddingMode = paddingMode
        try Limits.elementCount([outChannels, inChannels / groups] + self.kernelSize, op: op, what: "weight")
        let fanIn = inChannels / groups * self.kernelSize.reduce(1, *)
        weight = Initializer.kaimingUniformDefault([outChannels, inChannels / groups] + self.kernelSize,
                                                   fanIn: fanIn, using: &generator)
        self.bias = bias ? Initializer.uniform([outChannels], bound: 1 / Float(fanIn).squareRoot(), using: &generator) : nil
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try convolution(input, weight: weight, bias: bias, rank: rank, stride: PerAxis(stride), padding: padding,
                        dilation: PerAxis(dilation), groups: groups, paddingMode: paddingMode, algorithm: algorithm,
                        activation: fusedActivation, prepared: prepared, op: "Conv\(rank)d")
    }

    /// `activation(self(input))` with the activation clamping in the kernel's stores (a layer
    /// followed by ReLU in a `Sequential`): recorded or not, one op and no separate pass. A layer
    /// with a fused activation already applies that one, then the separate `activation`.
    func callAsFunction(_ input: Tensor, then activation: OutputClamp) throws -> Tensor {
        guard fusedActivation == nil else { return try self(input).clamped(to: activation) }
        return try convolution(input, weight: weight, bias: bias, rank: rank, stride: PerAxis(stride), padding: padding,
                               dilation: PerAxis(dilation), groups: groups, paddingMode: paddingMode, algorithm: algorithm,
                               activation: activation, prepared: prepared, op: "Conv\(rank)d")
    }

    /// `activation(self(input) + residual)`: a residual block's last convolution once its batch
    /// norm is folded (`fuseForInference`). When nothing is recorded the kernel adds the shortcut
    /// and clamps each block of output as it stores it (two memory passes and an array fewer);
    /// otherwise the same as the separate ops.
    /// - Throws: `ConvKitError.shapeMismatch` when `residual` is not the output's shape.
    func callAsFunction(_ input: Tensor, adding residual: Tensor, then activation: OutputClamp) throws -> Tensor {
        guard fusedActivation == nil else {  // clamped before the addition: not one epilogue
            let y = try self(input) + residual
            return y.clamped(to: activation)
        }
        return try convolution(input, weight: weight, bias: bias, rank: rank, stride: PerAxis(stride), padding: padding,
                               dilation: PerAxis(dilation), groups: groups, paddingMode: paddingMode, algorithm: algorithm,
                               activation: activation, prepared: prepared, residual: residual, op: "Conv\(rank)d")
    }

    /// `MaxPool2d(kernelSize: 2)(activation(self(input)))` as one op where a 2-D layer takes the
    /// direct or Winograd path (`convolutionPooled`: each block of output lines clamped and pooled
    /// as it is stored); nil where it does not apply, and the caller runs the layers one by one.
    /// `activation` (a ReLU that follows) only where the layer has no fused activation of its own.
    func pooled(_ input: Tensor, then activation: OutputClamp? = nil) throws -> Tensor? {
        guard rank == 2, activation == nil || fusedActivation == nil else { return nil }
        return try convolutionPooled(input, weight: weight, bias: bias, stride: PerAxis(stride), padding: padding,
                                     dilation: PerAxis(dilation), groups: groups, paddingMode: paddingMode, algorithm: algorithm,
                                     activation: activation ?? fusedActivation, prepared: prepared, op: "Conv\(rank)d")
    }

    public var localState: [StateEntry] {
        [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }
}

/// `nn.Conv1d`: input (N, C, L) → (N, K, L_out).
public final class Conv1d: Convolution {
    /// Creates the layer, drawing its weights from `generator`.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros,
        using generator: inout some RandomNumberGenerator
    ) throws {
        try super.init(rank: 1, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                       stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias,
                       paddingMode: paddingMode, using: &generator)
    }

    /// Creates the layer, drawing its weights from `DefaultGenerator`.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros
    ) throws {
        var g = DefaultGenerator.fork()
        try self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                      dilation: dilation, groups: groups, bias: bias, paddingMode: paddingMode, using: &g)
    }
}

/// `nn.Conv2d`: input (N, C, H, W) → (N, K, H_out, W_out).
public final class Conv2d: Convolution {
    /// Creates the layer, drawing its weights from `generator`.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros,
        using generator: inout some RandomNumberGenerator
    ) throws {
        try super.init(rank: 2, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                       stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias,
                       paddingMode: paddingMode, using: &generator)
    }

    /// Creates the layer, drawing its weights from `DefaultGenerator`.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros
    ) throws {
        var g = DefaultGenerator.fork()
        try self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                      dilation: dilation, groups: groups, bias: bias, paddingMode: paddingMode, using: &g)
    }
}

/// `nn.Conv3d`: input (N, C, D, H, W) → (N, K, D_out, H_out, W_out).
public final class Conv3d: Convolution {
    /// Creates the layer, drawing its weights from `generator`.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros,
        using generator: inout some RandomNumberGenerator
    ) throws {
        try super.init(rank: 3, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                       stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias,
                       paddingMode: paddingMode, using: &generator)
    }
}
