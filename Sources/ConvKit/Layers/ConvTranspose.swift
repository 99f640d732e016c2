/// A transposed convolution layer of any rank: weight (C_in, C_out/groups, kernel...),
/// input (N, C_in, spatial...) → (N, C_out, (n−1)·s − 2p + d·(k−1) + outputPadding + 1, …).
public class ConvTranspose: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: PerAxis, padding: PerAxis, outputPadding: PerAxis, dilation: PerAxis
    public let groups: Int
    let rank: Int

    /// Fan-in as PyTorch computes it for this weight layout: C_out/groups · kernel volume.
    init(rank: Int, _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis, padding: PerAxis,
         outputPadding: PerAxis, groups: Int, bias: Bool, dilation: PerAxis, using generator: inout some RandomNumberGenerator) throws {
        let op = "ConvTranspose\(rank)d"
        guard inChannels > 0, outChannels > 0, groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(
                op: op, argument: "inChannels/outChannels/groups",
                message: "channels must be positive multiples of groups, got \(inChannels), \(outChannels), groups \(groups)")
        }
        let k = try kernelSize.resolved(rank: rank, op: op, argument: "kernelSize")
        try Limits.elementCount([inChannels, outChannels / groups] + k, op: op, what: "weight")
        let fanIn = outChannels / groups * k.reduce(1, *)
        weight = Initializer.kaimingUniformDefault([inChannels, outChannels / groups] + k, fanIn: fanIn, using: &generator)
        self.bias = bias ? Initializer.uniform([outChannels], bound: 1 / Float(fanIn).squareRoot(), using: &generator) : nil
        (self.rank, self.stride, self.padding, self.outputPadding, self.dilation, self.groups) =
            (rank, stride, padding, outputPadding, dilation, groups)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try convolutionTranspose(input, weight: weight, bias: bias, rank: rank, stride: stride, padding: padding,
                                 outputPadding: outputPadding, groups: groups, dilation: dilation, op: "ConvTranspose\(rank)d")
    }

    public var localState: [StateEntry] {
        [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }
}

/// `nn.ConvTranspose2d`: weight (C_in, C_out/groups, kH, kW); input (N, C_in, H, W) →
/// (N, C_out, (H−1)·s − 2p + d·(k−1) + outputPadding + 1, …).
public final class ConvTranspose2d: ConvTranspose {
    /// Creates the layer, drawing its weights from `generator`.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: PerAxis = 0,
        outputPadding: PerAxis = 0, groups: Int = 1, bias: Bool = true, dilation: PerAxis = 1,
        using generator: inout some RandomNumberGenerator
    ) throws {
        try super.init(rank: 2, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                       outputPadding: outputPadding, groups: groups, bias: bias, dilation: dilation, using: &generator)
    }

    /// Creates the layer, drawing its weights from `DefaultGenerator`.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: PerAxis = 0,
        outputPadding: PerAxis = 0, groups: Int = 1, bias: Bool = true, dilation: PerAxis = 1
    ) throws {
        var g = DefaultGenerator.fork()
        try self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                      outputPadding: outputPadding, groups: groups, bias: bias, dilation: dilation, using: &g)
    }
}

/// `nn.ConvTranspose3d`: weight (C_in, C_out/groups, kD, kH, kW); input (N, C_in, D, H, W).
public final class ConvTranspose3d: ConvTranspose {
    /// Creates the layer, drawing its weights from `generator`.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: PerAxis = 0,
        outputPadding: PerAxis = 0, groups: Int = 1, bias: Bool = true, dilation: PerAxis = 1,
        using generator: inout some RandomNumberGenerator
    ) throws {
        try super.init(rank: 3, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                       outputPadding: outputPadding, groups: groups, bias: bias, dilation: dilation, using: &generator)
    }
}
