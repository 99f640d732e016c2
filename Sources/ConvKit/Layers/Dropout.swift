/// `nn.Dropout`: in training zeroes elements with probability `probability` and scales the
/// rest by 1/(1 − p); the identity in evaluation. Its mask generator is seeded, so runs repeat.
public final class Dropout: Module, ModeDependent {
    public let probability: Float
    public var isTraining = true
    /// The mask source; part of a checkpoint's RNG state.
    public var generator: SeededGenerator

    public init(probability: Float = 0.5, seed: UInt64 = 0) throws {
        guard (0...1).contains(probability) else {
            throw ConvKitError.invalidArgument(op: "Dropout", argument: "probability", message: "must be in [0, 1], got \(probability)")
        }
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try dropout(input, probability: probability, training: isTraining, using: &generator)
    }
}

/// `nn.Dropout2d` / `nn.Dropout3d`: in training zeroes whole channels (each (sample, channel)
/// map) with probability `probability` and scales the rest by 1/(1 − p); identity in evaluation.
public final class Dropout2d: Module, ModeDependent, RandomizedModule {
    public let probability: Float
    public var isTraining = true
    /// The mask source; part of a checkpoint's RNG state.
    public var generator: SeededGenerator

    public init(probability: Float = 0.5, seed: UInt64 = 0) throws {
        guard (0...1).contains(probability) else {
            throw ConvKitError.invalidArgument(op: "Dropout2d", argument: "probability", message: "must be in [0, 1], got \(probability)")
        }
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try channelDropout(input, probability: probability, training: isTraining, using: &generator)
    }
}
