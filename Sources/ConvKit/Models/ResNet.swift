// ResNet (He, Zhang, Ren, Sun 2015), torchvision layout (v1.5: stride in the 3×3 of Bottleneck).

/// ResNet's basic block: conv1 (3×3, stride) → bn1 → relu → conv2 (3×3) → bn2, plus the
/// shortcut (`downsample`: 1×1 conv + bn when the shape changes), then relu.
public final class BasicBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: Sequential?
    static let expansion = 1

    init(_ inChannels: Int, _ planes: Int, stride: Int, using g: inout SeededGenerator) throws {
        conv1 = try Conv2d(inChannels, planes, kernelSize: 3, stride: PerAxis(stride), padding: 1, bias: false, using: &g)
        bn1 = try BatchNorm2d(planes)
        conv2 = try Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false, using: &g)
        bn2 = try BatchNorm2d(planes)
        downsample = try resNetDownsample(inChannels, planes, stride: stride, using: &g)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let out = try bn1.forwardThenReLU(try conv1.forward(input))
        // Folded for inference: the shortcut added and the ReLU applied as conv2 stores its output.
        if bn2.isFolded, !moduleCallsObserved { return try conv2(out, adding: try downsample?.forward(input) ?? input, then: .relu) }
        if moduleCallsObserved { return try (try bn2.forward(try conv2.forward(out)) + (try downsample?.forward(input) ?? input)).relu() }
        return try bn2.forwardThenReLU(try conv2.forward(out), adding: try downsample?.forward(input) ?? input)
    }

    public var children: [(name: String, module: any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }
}

/// ResNet's bottleneck block: 1×1 (reduce) → 3×3 (stride) → 1×1 (expand ×4), each with
/// batch norm, relu between, plus the shortcut, then relu.
public final class Bottleneck: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let downsample: Sequential?
    static let expansion = 4

    init(_ inChannels: Int, _ planes: Int, stride: Int, using g: inout SeededGenerator) throws {
        conv1 = try Conv2d(inChannels, planes, kernelSize: 1, bias: false, using: &g)
        bn1 = try BatchNorm2d(planes)
        conv2 = try Conv2d(planes, planes, kernelSize: 3, stride: PerAxis(stride), padding: 1, bias: false, using: &g)
        bn2 = try BatchNorm2d(planes)
        conv3 = try Conv2d(planes, planes * 4, kernelSize: 1, bias: false, using: &g)
        bn3 = try BatchNorm2d(planes * 4)
        downsample = try resNetDownsample(inChannels, planes * 4, stride: stride, using: &g)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var out = try bn1.forwardThenReLU(try conv1.forward(input))
        out = try bn2.forwardThenReLU(try conv2.forward(out))
        // Folded for inference: the shortcut added and the ReLU applied as conv3 stores its output.
        if bn3.isFolded, !moduleCallsObserved { return try conv3(out, adding: try downsample?.forward(input) ?? input, then: .relu) }
        if moduleCallsObserved { return try (try bn3.forward(try conv3.forward(out)) + (try downsample?.forward(input) ?? input)).relu() }
        return try bn3.forwardThenReLU(try conv3.forward(out), adding: try downsample?.forward(input) ?? input)
    }

    public var children: [(name: String, module: any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
            + (downsample.map { [("downsample", $0)] } ?? [])
    }
}

/// The projection shortcut (1×1 conv with stride, then batch norm) when the shape changes.
private func resNetDownsample(_ inChannels: Int, _ outChannels: Int, stride: Int, using g: inout SeededGenerator) throws -> Sequential? {
    guard stride != 1 || inChannels != outChannels else { return nil }
    return Sequential([try Conv2d(inChannels, outChannels, kernelSize: 1, stride: PerAxis(stride), bias: false, using: &g),
                       try BatchNorm2d(outChannels)])
}

extension Zoo {
    /// torchvision's ResNet-18/34 (basic blocks) and ResNet-50/101/152 (bottlenecks).
    /// Parameters at 1,000 classes: ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032.
    public static func resNet(depth: Int, classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        let layers: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]
        guard let counts = layers[depth] else {
            throw ConvKitError.invalidArgument(op: "Zoo.resNet", argument: "depth", message: "must be 18, 34, 50, 101 or 152, got \(depth)")
        }
        let bottleneck = depth >= 50
        let expansion = bottleneck ? Bottleneck.expansion : BasicBlock.expansion
        var g = SeededGenerator(seed: seed)
        var parts: [(String, any Module)] = [
            ("conv1", try Conv2d(inputChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false, using: &g)),
            ("bn1", try BatchNorm2d(64)), ("relu", ReLU()),
            ("maxpool", MaxPool2d(kernelSize: 3, stride: 2, padding: 1)),
        ]
        var channels = 64
        for (stage, count) in counts.enumerated() {
            let planes = 64 << stage
            let blocks = Sequential([])
            for b in 0..<count {
                let stride = b == 0 && stage > 0 ? 2 : 1
                blocks.append(bottleneck ? try Bottleneck(channels, planes, stride: stride, using: &g)
                                         : try BasicBlock(channels, planes, stride: stride, using: &g))
                channels = planes * expansion
            }
            parts.append(("layer\(stage + 1)", blocks))
        }
        parts += [("avgpool", GlobalAvgPool()), ("fc", try Linear(512 * expansion, classes, using: &g))]
        return Sequential(named: parts, name: "ResNet-\(depth)")
    }
}
