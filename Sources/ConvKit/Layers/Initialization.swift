import Foundation

/// The random source layers draw their initial weights from when none is passed, like
/// PyTorch's global generator: `DefaultGenerator.seed(42)` makes later models reproducible.
public enum DefaultGenerator {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generator = SeededGenerator(seed: 0)

    /// Restarts the default generator from `seed` (PyTorch's `torch.manual_seed`).
    public static func seed(_ seed: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        generator = SeededGenerator(seed: seed)
    }

    /// A new generator seeded from the default one (which advances), so that layers
    /// created one after another after `seed(_:)` get the same weights every run.
    public static func fork() -> SeededGenerator {
        lock.lock()
        defer { lock.unlock() }
        return SeededGenerator(seed: generator.next())
    }
}

/// Weight initialisers, with PyTorch's formulas.
public enum Initializer {
    /// Uniform in [−bound, bound).
    public static func uniform(
        _ shape: [Int], bound: Float, using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        values.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] = (2 * generator.nextUnitFloat() - 1) * bound }
        }
        return Tensor(uncheckedShape: shape, scalars: values, requiresGrad: true)
    }

    /// Normal with mean 0 and standard deviation `std`.
    public static func normal(
        _ shape: [Int], std: Float, using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        values.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] = std * generator.nextNormalFloat() }
        }
        return Tensor(uncheckedShape: shape, scalars: values, requiresGrad: true)
    }

    /// PyTorch's default for `nn.Conv*d` and `nn.Linear` weights: `kaiming_uniform_(a=√5)`,
    /// i.e. bound = gain·√(3/fan_in) with gain = √(2/(1+a²)), which is 1/√fan_in.
    public static func kaimingUniformDefault(
        _ shape: [Int], fanIn: Int, using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        uniform(shape, bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0, using: &generator)
    }

    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`: std = √(2/fan_out), as
    /// torchvision initialises ResNet, MobileNet and EfficientNet convolutions.
    public static func kaimingNormalFanOut(
        _ shape: [Int], fanOut: Int, using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        normal(shape, std: (2 / Float(Swift.max(fanOut, 1))).squareRoot(), using: &generator)
    }

    /// A parameter filled with `value` (batch-norm γ = 1, β = 0).
    public static func constant(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(uncheckedShape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)), requiresGrad: true)
    }
}
