// Stateless modules: activations, Flatten, Identity, and Lambda for anything else.

/// `nn.ReLU`: max(x, 0).
public final class ReLU: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.relu() }
}

/// `nn.ReLU6`: min(max(x, 0), 6).
public final class ReLU6: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.relu6() }
}

/// `nn.LeakyReLU`: x for x > 0, `negativeSlope`·x otherwise.
public final class LeakyReLU: Module {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.leakyRelu(negativeSlope: negativeSlope) }
}

/// `nn.Sigmoid`: 1/(1 + e^−x).
public final class Sigmoid: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.sigmoid() }
}

/// `nn.Tanh`.
public final class Tanh: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.tanh() }
}

/// `nn.SiLU` (swish): x·σ(x).
public final class SiLU: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.silu() }
}

/// `nn.GELU`, exact (erf) or with the tanh approximation.
public final class GELU: Module {
    public let approximate: Tensor.GeluApproximation
    public init(approximate: Tensor.GeluApproximation = .none) { self.approximate = approximate }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.gelu(approximate: approximate) }
}

/// `nn.ELU`: x for x > 0, α·(eˣ − 1) otherwise.
public final class ELU: Module {
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.elu(alpha: alpha) }
}

/// `nn.SELU`: scaled ELU with the self-normalising constants.
public final class SELU: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.selu() }
}

/// `nn.CELU`: max(0, x) + min(0, α·(e^(x/α) − 1)).
public final class CELU: Module {
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.celu(alpha: alpha) }
}

/// `nn.Hardswish`: x·relu6(x + 3)/6.
public final class Hardswish: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.hardswish() }
}

/// `nn.Hardsigmoid`: relu6(x + 3)/6.
public final class Hardsigmoid: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.hardsigmoid() }
}

/// `nn.Hardtanh`: x clamped to [minValue, maxValue].
public final class Hardtanh: Module {
    public let minValue: Float, maxValue: Float
    public init(minValue: Float = -1, maxValue: Float = 1) { (self.minValue, self.maxValue) = (minValue, maxValue) }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.hardtanh(min: minValue, max: maxValue) }
}

/// `nn.Softplus`: (1/β)·log(1 + e^(βx)), linear above `threshold`.
public final class Softplus: Module {
    public let beta: Float, threshold: Float
    public init(beta: Float = 1, threshold: Float = 20) { (self.beta, self.threshold) = (beta, threshold) }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.softplus(beta: beta, threshold: threshold) }
}

/// `nn.Mish`: x·tanh(softplus(x)).
public final class Mish: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input.mish() }
}

/// `nn.PReLU`: x for x > 0, a·x otherwise, `a` learned (`weight`: `parameters` values,
/// 1 or the channel count, initialised to `initialValue`).
public final class PReLU: Module {
    public let weight: Tensor
    /// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ parameters ≤ 2^26.
    public init(parameters: Int = 1, initialValue: Float = 0.25) throws {
        try Limits.check(parameters, in: 1...(1 << 26), op: "PReLU", argument: "parameters")
        weight = Initializer.constant([parameters], initialValue)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try prelu(input, weight: weight) }
    public var localState: [StateEntry] { [StateEntry("weight", weight)] }
}

/// `nn.Softmax` over `axis`.
public final class Softmax: Module {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.softmax(axis: axis) }
}

/// `nn.Flatten`: merges axes `startAxis...endAxis` (default: all but the batch axis).
public final class Flatten: Module {
    public let startAxis: Int, endAxis: Int
    public init(startAxis: Int = 1, endAxis: Int = -1) { (self.startAxis, self.endAxis) = (startAxis, endAxis) }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input.flattened(startAxis: startAxis, endAxis: endAxis) }
}

/// `nn.Identity`: returns its input.
public final class Identity: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input }
}

/// A stateless module from a closure, shown in summaries as `name`.
public final class Lambda: Module {
    public let name: String
    private let body: (Tensor) throws -> Tensor

    public init(_ name: String, _ body: @escaping (Tensor) throws -> Tensor) {
        self.name = name
        self.body = body
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor { try body(input) }
}
