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
