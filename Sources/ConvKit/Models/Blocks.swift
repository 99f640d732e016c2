// Building blocks shared by the zoo, named as torchvision names them.

/// torchvision's `Conv2dNormActivation`: Sequential(0: conv without bias, 1: batch norm,
/// 2: activation), padding (k − 1)/2 so stride 1 keeps the size.
func convNormActivation(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
    eps: Float = 1e-5, activation: (() -> any Module)? = { ReLU() }, using g: inout SeededGenerator
) throws -> Sequential {
    let conv = try Conv2d(inChannels, outChannels, kernelSize: PerAxis(kernelSize), stride: PerAxis(stride),
                          padding: Padding.symmetric((kernelSize - 1) / 2), groups: groups, bias: false, using: &g)
    return Sequential([conv, try BatchNorm2d(outChannels, eps: eps)] + (activation.map { [$0()] } ?? []))
}

/// `torch.permute` as a module (ConvNeXt switches between NCHW and NHWC around its MLP).
public final class Permute: Module {
    public let axes: [Int]
    public init(_ axes: [Int]) { self.axes = axes }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.permuted(axes) }
}

/// Stochastic depth ("row" mode, torchvision's `StochasticDepth`): in training, drops the
/// whole residual branch of each sample with probability `probability` and scales the
/// survivors by 1/(1 − p); the identity in evaluation.
public final class StochasticDepth: Module, ModeDependent {
    public let probability: Float
    public var isTraining = true
    /// The mask source (seeded, so runs repeat).
    public var generator: SeededGenerator

    public init(probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard isTraining, probability > 0, input.rank >= 1 else { return input }
        let keep = 1 - probability
        let mask = (0..<input.shape[0]).map { _ in generator.nextUnitFloat() < keep ? 1 / keep : 0 }
        let maskShape = [input.shape[0]] + Array(repeating: 1, count: input.rank - 1)
        return try input * Tensor(shape: maskShape, scalars: mask)
    }
}

/// Squeeze-and-excitation (torchvision's `SqueezeExcitation`): x · σ(fc2(act(fc1(avgpool(x))))),
/// with 1×1 convolutions `fc1` (C → squeeze) and `fc2` (squeeze → C).
public final class SqueezeExcitation: Module {
    public let fc1: Conv2d, fc2: Conv2d
    let activation: any Module

    public init(_ channels: Int, squeezeChannels: Int, activation: any Module = SiLU(), using g: inout SeededGenerator) throws {
        fc1 = try Conv2d(channels, squeezeChannels, kernelSize: 1, using: &g)
        fc2 = try Conv2d(squeezeChannels, channels, kernelSize: 1, using: &g)
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let s = try globalAvgPool(input)
        let scale = try fc2.forward(try activation.forward(try fc1.forward(s))).sigmoid()
        return try input * scale
    }

    public var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
}
