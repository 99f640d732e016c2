/// `nn.Linear`: input (…, in) → (…, out); weight (out, in), bias (out).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// Creates the layer, drawing its weights from `generator` (PyTorch's default init).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout some RandomNumberGenerator) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw ConvKitError.invalidArgument(
                op: "Linear", argument: "inFeatures/outFeatures", message: "must be positive, got \(inFeatures), \(outFeatures)")
        }
        try Limits.elementCount([outFeatures, inFeatures], op: "Linear", what: "weight")
        weight = Initializer.kaimingUniformDefault([outFeatures, inFeatures], fanIn: inFeatures, using: &generator)
        self.bias = bias ? Initializer.uniform([outFeatures], bound: 1 / Float(inFeatures).squareRoot(), using: &generator) : nil
    }

    /// Creates the layer, drawing its weights from `DefaultGenerator`.
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        var g = DefaultGenerator.fork()
        try self.init(inFeatures, outFeatures, bias: bias, using: &g)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor { try linear(input, weight: weight, bias: bias) }

    public var localState: [StateEntry] {
        [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }
}
