// AlexNet (Krizhevsky et al. 2012) and VGG (Simonyan & Zisserman 2014), torchvision layout.

extension Zoo {
    /// torchvision's AlexNet: 5 convolutions (`features`), adaptive 6×6 average pooling,
    /// 3 fully connected layers with dropout (`classifier`); 61,100,840 parameters at 1,000 classes.
    public static func alexNet(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let features = Sequential([
            try Conv2d(inputChannels, 64, kernelSize: 11, stride: 4, padding: 2, using: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            try Conv2d(64, 192, kernelSize: 5, padding: 2, using: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            try Conv2d(192, 384, kernelSize: 3, padding: 1, using: &g), ReLU(),
            try Conv2d(384, 256, kernelSize: 3, padding: 1, using: &g), ReLU(),
            try Conv2d(256, 256, kernelSize: 3, padding: 1, using: &g), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
        ])
        let classifier = Sequential([
            try Dropout(probability: 0.5, seed: g.next()), try Linear(256 * 6 * 6, 4096, using: &g), ReLU(),
            try Dropout(probability: 0.5, seed: g.next()), try Linear(4096, 4096, using: &g), ReLU(),
            try Linear(4096, classes, using: &g),
        ])
        return Sequential(named: [("features", features), ("avgpool", AdaptiveAvgPool2d(outputSize: 6)),
                                  ("flatten", Flatten()), ("classifier", classifier)], name: "AlexNet")
    }

    /// VGG layer configurations: channel counts, 0 for a 2×2 max pool.
    static let vggConfigurations: [Int: [Int]] = [
        11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        19: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    /// torchvision's VGG-11/13/16/19 (without batch norm): 3×3 convolutions with padding 1
    /// and 2×2 max pools, adaptive 7×7 average pooling, 3 fully connected layers.
    /// Parameters at 1,000 classes: VGG-11 132,863,336; VGG-16 138,357,544; VGG-19 143,667,240.
    public static func vgg(depth: Int, classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        guard let configuration = vggConfigurations[depth] else {
            throw ConvKitError.invalidArgument(op: "Zoo.vgg", argument: "depth", message: "must be 11, 13, 16 or 19, got \(depth)")
        }
        var g = SeededGenerator(seed: seed)
        let features = Sequential([])
        var channels = inputChannels
        for width in configuration {
            if width == 0 {
                features.append(MaxPool2d(kernelSize: 2))
            } else {
                features.append(try Conv2d(channels, width, kernelSize: 3, padding: 1, using: &g))
                features.append(ReLU())
                channels = width
            }
        }
        let classifier = Sequential([
            try Linear(512 * 7 * 7, 4096, using: &g), ReLU(), try Dropout(probability: 0.5, seed: g.next()),
            try Linear(4096, 4096, using: &g), ReLU(), try Dropout(probability: 0.5, seed: g.next()),
            try Linear(4096, classes, using: &g),
        ])
        return Sequential(named: [("features", features), ("avgpool", AdaptiveAvgPool2d(outputSize: 7)),
                                  ("flatten", Flatten()), ("classifier", classifier)], name: "VGG-\(depth)")
    }
}
