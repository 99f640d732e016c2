// The course's own networks.

extension Zoo {
    /// The course's MNIST CNN (004): Conv(1→32,3,p1)-ReLU-Conv(32→32,3,p1)-ReLU-MaxPool2-
    /// Conv(32→64,3,p1)-ReLU-MaxPool2-Flatten-Linear(64·7·7→128)-ReLU-Linear(128→10);
    /// 430,890 parameters for 28×28 gray input. Named as the course's `nn.Sequential` (0…11).
    public static func courseCNN(
        classes: Int = 10, inputChannels: Int = 1, imageSize: Int = 28, seed: UInt64 = 0
    ) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let side = imageSize / 4
        let model = Sequential([
            try Conv2d(inputChannels, 32, kernelSize: 3, padding: 1, using: &g), ReLU(),
            try Conv2d(32, 32, kernelSize: 3, padding: 1, using: &g), ReLU(),
            MaxPool2d(kernelSize: 2),
            try Conv2d(32, 64, kernelSize: 3, padding: 1, using: &g), ReLU(),
            MaxPool2d(kernelSize: 2),
            Flatten(),
            try Linear(64 * side * side, 128, using: &g), ReLU(),
            try Linear(128, classes, using: &g),
        ])
        model.name = "CourseCNN"
        return model
    }

    /// The 2-layer CNN of the course's "from scratch" exercise (001): conv → relu → conv →
    /// relu → flatten → fc, for 14×14 digits (0 vs 1 by default): Conv(1→8,3)-ReLU-
    /// Conv(8→16,3)-ReLU-Flatten-Linear(16·10·10→2); 4,450 parameters.
    public static func scratchCNN(classes: Int = 2, inputChannels: Int = 1, imageSize: Int = 14, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let side = imageSize - 4
        let model = Sequential([
            try Conv2d(inputChannels, 8, kernelSize: 3, using: &g), ReLU(),
            try Conv2d(8, 16, kernelSize: 3, using: &g), ReLU(),
            Flatten(),
            try Linear(16 * side * side, classes, using: &g),
        ])
        model.name = "ScratchCNN"
        return model
    }

    /// Tiny-VGG as in CNN Explainer: two blocks of [Conv(3×3)-ReLU-Conv(3×3)-ReLU-MaxPool2]
    /// with 10 channels, then Linear(10·13·13 → classes), for 64×64 input.
    public static func tinyVGG(classes: Int = 10, inputChannels: Int = 3, imageSize: Int = 64, hidden: Int = 10, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        func block(_ c: Int) throws -> Sequential {
            Sequential([try Conv2d(c, hidden, kernelSize: 3, using: &g), ReLU(),
                        try Conv2d(hidden, hidden, kernelSize: 3, using: &g), ReLU(), MaxPool2d(kernelSize: 2)])
        }
        let side = ((imageSize - 4) / 2 - 4) / 2
        return Sequential(named: [
            ("block1", try block(inputChannels)), ("block2", try block(hidden)),
            ("flatten", Flatten()), ("classifier", try Linear(hidden * side * side, classes, using: &g)),
        ], name: "TinyVGG")
    }
}
