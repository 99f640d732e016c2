/// `nn.ConvTranspose2d`: weight (C_in, C_out/groups, kH, kW); input (N, C_in, H, W) →
/// (N, C_out, (H−1)·s − 2p + d·(k−1) + outputPadding + 1, …).
public final class ConvTranspose2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: PerAxis, padding: PerAxis, outputPadding: PerAxis, dilation: PerAxis
    public let groups: Int

    /// Creates the layer, drawing its weights from `generator` (fan-in as PyTorch computes
    /// it for this weight layout: C_out/groups · kH · kW).
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: PerAxis, stride: PerAxis = 1, padding: PerAxis = 0,
        outputPadding: PerAxis = 0, groups: Int = 1, bias: Bool = true, dilation: PerAxis = 1,
        using generator: inout some RandomNumberGenerator
    ) throws {
        guard inChannels > 0, outChannels > 0, groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(
                op: "ConvTranspose2d", argument: "inChannels/outChannels/groups",
                message: "channels must be positive multiples of groups, got \(inChannels), \(outChannels), groups \(groups)")
        }
        let k = try kernelSize.resolved(rank: 2, op: "ConvTranspose2d", argument: "kernelSize")
        try Limits.elementCount([inChannels, outChannels / groups] + k, op: "ConvTranspose2d", what: "weight")
        let fanIn = outChannels / groups * k.reduce(1, *)
        weight = Initializer.kaimingUniformDefault([inChannels, outChannels / groups] + k, fanIn: fanIn, using: &generator)
        self.bias = bias ? Initializer.uniform([outChannels], bound: 1 / Float(fanIn).squareRoot(), using: &generator) : nil
        (self.stride, self.padding, self.outputPadding, self.dilation, self.groups) =
            (stride, padding, outputPadding, dilation, groups)
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

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try convTranspose2d(input, weight: weight, bias: bias, stride: stride, padding: padding,
                            outputPadding: outputPadding, groups: groups, dilation: dilation)
    }

    public var localState: [StateEntry] {
        [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }
}
