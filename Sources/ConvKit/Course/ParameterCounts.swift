/// The course's parameter arithmetic (000/001/004): fully connected versus convolutional layers.
public enum ParameterCount {
    /// A fully connected layer from `inputs` to `outputs` units: inputs·outputs weights (+ outputs biases).
    public static func fullyConnected(inputs: Int, outputs: Int, bias: Bool = true) -> Int {
        inputs * outputs + (bias ? outputs : 0)
    }

    /// A convolution: k_h·k_w·(C_in/groups)·C_out weights (+ C_out biases).
    public static func convolution(inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true) -> Int {
        kernel.reduce(1, *) * (inChannels / Swift.max(groups, 1)) * outChannels + (bias ? outChannels : 0)
    }

    /// One row of a comparison table: an image of `size` (H, W, C) flattened into a fully
    /// connected layer of `hidden` units, against a k×k convolution with `filters` filters.
    public struct Comparison: Sendable, Equatable {
        public let name: String
        public let height: Int, width: Int, channels: Int
        public let hidden: Int, kernel: Int, filters: Int
        /// Whether biases are counted (the course's tables count them; some of its examples do not).
        public let bias: Bool
        public var inputs: Int { height * width * channels }
        public var fullyConnected: Int { ParameterCount.fullyConnected(inputs: inputs, outputs: hidden, bias: bias) }
        public var convolution: Int {
            ParameterCount.convolution(inChannels: channels, outChannels: filters, kernel: [kernel, kernel], bias: bias)
        }
        /// fullyConnected / convolution.
        public var ratio: Double { Double(fullyConnected) / Double(convolution) }

        public init(name: String, height: Int, width: Int, channels: Int, hidden: Int = 1000, kernel: Int = 3, filters: Int = 64,
                    bias: Bool = true) {
            (self.name, self.height, self.width, self.channels, self.hidden, self.kernel, self.filters, self.bias) =
                (name, height, width, channels, hidden, kernel, filters, bias)
        }
    }

    /// The table of 001 ("Counting Parameters"): MNIST, CIFAR, ImageNet and HD images into
    /// 1,000 hidden units, each against a 3×3 convolution with 64 filters (000's example).
    public static let courseTable: [Comparison] = [
        Comparison(name: "28 × 28 (MNIST)", height: 28, width: 28, channels: 1),
        Comparison(name: "32 × 32 × 3 (CIFAR)", height: 32, width: 32, channels: 3),
        Comparison(name: "224 × 224 × 3 (ImageNet)", height: 224, width: 224, channels: 3),
        Comparison(name: "1920 × 1080 × 3 (HD)", height: 1080, width: 1920, channels: 3),
    ]
}
