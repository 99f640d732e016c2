extension Tensor {
    /// A tensor of the given shape filled with `value`.
    /// - Throws: `ConvKitError.invalidArgument` for a negative size or more than `Limits.maxTensorElements` elements.
    public static func full(_ shape: [Int], value: Float, requiresGrad: Bool = false) throws -> Tensor {
        try checkShape(shape, op: "full")
        return Tensor(uncheckedShape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)),
                      requiresGrad: requiresGrad)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) throws -> Tensor {
        try full(shape, value: 0, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) throws -> Tensor {
        try full(shape, value: 1, requiresGrad: requiresGrad)
    }

    /// Samples from the normal distribution N(`mean`, `std`²).
    /// - Parameter generator: the source of randomness, e.g. `SeededGenerator(seed: 0)`.
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, std: Float = 1,
        using generator: inout some RandomNumberGenerator, requiresGrad: Bool = false
    ) throws -> Tensor {
        try checkShape(shape, op: "randomNormal")
        let values = (0..<shape.reduce(1, *)).map { _ in mean + std * generator.nextNormalFloat() }
        return Tensor(uncheckedShape: shape, scalars: values, requiresGrad: requiresGrad)
    }

    /// Samples uniformly from [`lowerBound`, `upperBound`).
    public static func randomUniform(
        _ shape: [Int], in range: Range<Float> = 0..<1,
        using generator: inout some RandomNumberGenerator, requiresGrad: Bool = false
    ) throws -> Tensor {
        try checkShape(shape, op: "randomUniform")
        let width = range.upperBound - range.lowerBound
        let values = (0..<shape.reduce(1, *)).map { _ in range.lowerBound + width * generator.nextUnitFloat() }
        return Tensor(uncheckedShape: shape, scalars: values, requiresGrad: requiresGrad)
    }

    /// Non-negative sizes whose product fits `Limits.maxTensorElements`, checked before allocating.
    static func checkShape(_ shape: [Int], op: String) throws {
        try Limits.elementCount(shape, op: op)
    }
}
