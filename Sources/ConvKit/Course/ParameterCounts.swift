/// The course's parameter arithmetic (000/001/004): fully connected versus convolutional layers.
/// Counts are overflow-checked: sizes whose count does not fit an `Int` throw instead of trapping.
public enum ParameterCount {
    /// A fully connected layer from `inputs` to `outputs` units: inputs·outputs weights (+ outputs biases).
    /// - Throws: `ConvKitError.invalidArgument` for a count below 1 or a total that overflows.
    public static func fullyConnected(inputs: Int, outputs: Int, bias: Bool = true) throws -> Int {
        let op = "fullyConnected"
        try Limits.check(inputs, in: 1...Int.max, op: op, argument: "inputs")
        try Limits.check(outputs, in: 1...Int.max, op: op, argument: "outputs")
        return try Limits.sum(try Limits.product(inputs, outputs, op: op, what: "parameters"), bias ? outputs : 0, op: op, what: "parameters")
    }

    /// A convolution: k_1·…·k_r·(C_in/groups)·C_out weights (+ C_out biases).
    /// - Throws: `ConvKitError.invalidArgument` for a count below 1, 1 to 3 kernel axes
    ///   missing, groups that do not divide the channels, or a total that overflows.
    public static func convolution(inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true) throws -> Int {
        try Convolution(inChannels: inChannels, outChannels: outChannels, kernel: kernel, groups: groups, bias: bias).total
    }

    /// One convolution layer's count with its terms, as the course writes it:
    /// "Conv1d(17, 64, kernel_size=3): 3 × 17 × 64 + 64 = 3,328".
    public struct Convolution: Sendable, Equatable, Encodable {
        public let inChannels: Int, outChannels: Int, kernel: [Int], groups: Int, bias: Bool
        /// Weights (without biases) and the total.
        public let weights: Int, total: Int
        /// "Conv1d(17, 64, kernel_size=3): 3 × 17 × 64 + 64 = 3,328".
        public let formula: String

        /// - Throws: as `ParameterCount.convolution`.
        public init(inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true) throws {
            let op = "parameters"
            try Limits.check(inChannels, in: 1...Int.max, op: op, argument: "inChannels")
            try Limits.check(outChannels, in: 1...Int.max, op: op, argument: "outChannels")
            try Limits.check(kernel.count, in: 1...3, op: op, argument: "kernel axes")
            for k in kernel { try Limits.check(k, in: 1...Int.max, op: op, argument: "kernel") }
            try Limits.check(groups, in: 1...Int.max, op: op, argument: "groups")
            guard inChannels % groups == 0, outChannels % groups == 0 else {
                throw ConvKitError.invalidArgument(
                    op: op, argument: "groups", message: "must divide both channel counts, got \(groups) for \(inChannels) and \(outChannels)")
            }
            var w = inChannels / groups
            for factor in kernel + [outChannels] { w = try Limits.product(w, factor, op: op, what: "parameters") }
            (self.inChannels, self.outChannels, self.kernel, self.groups, self.bias) = (inChannels, outChannels, kernel, groups, bias)
            weights = w
            total = try Limits.sum(w, bias ? outChannels : 0, op: op, what: "parameters")
            let size = Set(kernel).count == 1 ? "\(kernel[0])" : "(" + kernel.map(String.init).joined(separator: ", ") + ")"
            let perGroup = groups == 1 ? "\(inChannels)" : "(\(inChannels)/\(groups))"
            formula = "Conv\(kernel.count)d(\(inChannels), \(outChannels), kernel_size=\(size)\(groups == 1 ? "" : ", groups=\(groups)")): "
                + "\(kernel.map(String.init).joined(separator: " × ")) × \(perGroup) × \(outChannels)\(bias ? " + \(outChannels)" : "") = \(groupedDigits(total))"
        }

        /// A layer with a cubic (or square, or 1-D) kernel of side `kernelSize` over `rank` axes.
        /// - Throws: as `init(inChannels:outChannels:kernel:groups:bias:)`, and for a rank outside 1…3.
        public init(inChannels: Int, outChannels: Int, kernelSize: Int, rank: Int, groups: Int = 1, bias: Bool = true) throws {
            try Limits.check(rank, in: 1...3, op: "parameters", argument: "rank")
            try self.init(inChannels: inChannels, outChannels: outChannels, kernel: Array(repeating: kernelSize, count: rank),
                          groups: groups, bias: bias)
        }

    }

    /// One row of a comparison table: an image of `size` (H, W, C) flattened into a fully
    /// connected layer of `hidden` units, against a k×k convolution with `filters` filters.
    public struct Comparison: Sendable, Equatable, Encodable {
        public let name: String
        public let height: Int, width: Int, channels: Int
        public let hidden: Int, kernel: Int, filters: Int
        /// Whether biases are counted (the course's tables count them; some of its examples do not).
        public let bias: Bool
        /// H·W·C, the fully connected layer's parameters and the convolution's.
        public let inputs: Int, fullyConnected: Int, convolution: Int
        /// fullyConnected / convolution.
        public let ratio: Double

        /// - Throws: `ConvKitError.invalidArgument` for a size or count below 1, or counts that overflow.
        public init(name: String, height: Int, width: Int, channels: Int, hidden: Int = 1000, kernel: Int = 3, filters: Int = 64,
                    bias: Bool = true) throws {
            let op = "parameters"
            for (value, argument) in [(height, "height"), (width, "width"), (channels, "channels"), (hidden, "hidden"),
                                      (kernel, "kernel"), (filters, "filters")] {
                try Limits.check(value, in: 1...Int.max, op: op, argument: argument)
            }
            (self.name, self.height, self.width, self.channels, self.hidden, self.kernel, self.filters, self.bias) =
                (name, height, width, channels, hidden, kernel, filters, bias)
            inputs = try Limits.product(try Limits.product(height, width, op: op, what: "inputs"), channels, op: op, what: "inputs")
            fullyConnected = try ParameterCount.fullyConnected(inputs: inputs, outputs: hidden, bias: bias)
            convolution = try ParameterCount.convolution(inChannels: channels, outChannels: filters, kernel: [kernel, kernel], bias: bias)
            ratio = Double(fullyConnected) / Double(convolution)
        }

        /// The same image with other layer sizes.
        public func with(hidden: Int, kernel: Int, filters: Int, bias: Bool = true) throws -> Comparison {
            try Comparison(name: name, height: height, width: width, channels: channels, hidden: hidden, kernel: kernel,
                           filters: filters, bias: bias)
        }
    }

    /// The table of 001 ("Counting Parameters"): MNIST, CIFAR, ImageNet and HD images into
    /// 1,000 hidden units, each against a 3×3 convolution with 64 filters (000's example).
    /// - Throws: as `Comparison.init`, for the layer sizes given.
    public static func courseTable(hidden: Int = 1000, kernel: Int = 3, filters: Int = 64, bias: Bool = true) throws -> [Comparison] {
        try [
            ("28 × 28 (MNIST)", 28, 28, 1), ("32 × 32 × 3 (CIFAR)", 32, 32, 3), ("224 × 224 × 3 (ImageNet)", 224, 224, 3),
            ("1920 × 1080 × 3 (HD)", 1080, 1920, 3),
        ].map { name, h, w, c in
            try Comparison(name: name, height: h, width: w, channels: c, hidden: hidden, kernel: kernel, filters: filters, bias: bias)
        }
    }
}
