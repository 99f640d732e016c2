// DenseNet (Huang et al. 2017) and GoogLeNet (Szegedy et al. 2014), torchvision layout.

/// A dense block: each layer sees the concatenation of the block input and every earlier
/// layer's output, and the block returns all of them concatenated. Children: denselayer1…
public final class DenseBlock: Module {
    public let layers: [Sequential]

    init(layers count: Int, inChannels: Int, growthRate: Int, bottleneckSize: Int, using g: inout SeededGenerator) throws {
        layers = try (0..<count).map { i in
            let c = inChannels + i * growthRate
            return Sequential(named: [
                ("norm1", try BatchNorm2d(c)), ("relu1", ReLU()),
                ("conv1", try Conv2d(c, bottleneckSize * growthRate, kernelSize: 1, bias: false, using: &g)),
                ("norm2", try BatchNorm2d(bottleneckSize * growthRate)), ("relu2", ReLU()),
                ("conv2", try Conv2d(bottleneckSize * growthRate, growthRate, kernelSize: 3, padding: 1, bias: false, using: &g)),
            ], name: "DenseLayer")
        }
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var features = [input]
        for layer in layers { features.append(try layer.forward(try Tensor.concatenate(features, axis: 1))) }
        return try Tensor.concatenate(features, axis: 1)
    }

    public var children: [(name: String, module: any Module)] {
        layers.enumerated().map { ("denselayer\($0.offset + 1)", $0.element) }
    }
}

extension Zoo {
    /// torchvision's DenseNet-121 (growth 32, blocks 6-12-24-16, bottleneck ×4, compression
    /// 0.5): 7,978,856 parameters at 1,000 classes.
    public static func denseNet121(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let growth = 32
        var parts: [(String, any Module)] = [
            ("conv0", try Conv2d(inputChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false, using: &g)),
            ("norm0", try BatchNorm2d(64)), ("relu0", ReLU()), ("pool0", MaxPool2d(kernelSize: 3, stride: 2, padding: 1)),
        ]
        var channels = 64
        let blocks = [6, 12, 24, 16]
        for (i, count) in blocks.enumerated() {
            parts.append(("denseblock\(i + 1)", try DenseBlock(layers: count, inChannels: channels, growthRate: growth,
                                                               bottleneckSize: 4, using: &g)))
            channels += count * growth
            if i < blocks.count - 1 {
                parts.append(("transition\(i + 1)", Sequential(named: [
                    ("norm", try BatchNorm2d(channels)), ("relu", ReLU()),
                    ("conv", try Conv2d(channels, channels / 2, kernelSize: 1, bias: false, using: &g)),
                    ("pool", AvgPool2d(kernelSize: 2, stride: 2)),
                ], name: "Transition")))
                channels /= 2
            }
        }
        parts.append(("norm5", try BatchNorm2d(channels)))
        return Sequential(named: [("features", Sequential(named: parts)), ("relu", ReLU()), ("avgpool", GlobalAvgPool()),
                                  ("classifier", try Linear(channels, classes, using: &g))], name: "DenseNet-121")
    }

    /// torchvision's GoogLeNet without the auxiliary heads: 6,624,904 parameters at 1,000
    /// classes. As in torchvision, the "5×5" branch uses a 3×3 convolution.
    public static func googLeNet(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        func basic(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, padding: Int = 0) throws -> Sequential {
            Sequential(named: [
                ("conv", try Conv2d(cin, cout, kernelSize: PerAxis(k), stride: PerAxis(stride), padding: Padding.symmetric(padding),
                                    bias: false, using: &g)),
                ("bn", try BatchNorm2d(cout, eps: 0.001)), ("relu", ReLU()),
            ], name: "BasicConv2d")
        }
        func inception(_ cin: Int, _ c1: Int, _ c3r: Int, _ c3: Int, _ c5r: Int, _ c5: Int, _ pool: Int) throws -> Concat {
            Concat(named: [
                ("branch1", try basic(cin, c1, 1)),
                ("branch2", Sequential([try basic(cin, c3r, 1), try basic(c3r, c3, 3, padding: 1)])),
                ("branch3", Sequential([try basic(cin, c5r, 1), try basic(c5r, c5, 3, padding: 1)])),
                ("branch4", Sequential([MaxPool2d(kernelSize: 3, stride: 1, padding: 1, ceilMode: true), try basic(cin, pool, 1)])),
            ])
        }
        func pool(_ k: Int) -> MaxPool2d { MaxPool2d(kernelSize: PerAxis(k), stride: 2, ceilMode: true) }
        return Sequential(named: [
            ("conv1", try basic(inputChannels, 64, 7, stride: 2, padding: 3)), ("maxpool1", pool(3)),
            ("conv2", try basic(64, 64, 1)), ("conv3", try basic(64, 192, 3, padding: 1)), ("maxpool2", pool(3)),
            ("inception3a", try inception(192, 64, 96, 128, 16, 32, 32)),
            ("inception3b", try inception(256, 128, 128, 192, 32, 96, 64)), ("maxpool3", pool(3)),
            ("inception4a", try inception(480, 192, 96, 208, 16, 48, 64)),
            ("inception4b", try inception(512, 160, 112, 224, 24, 64, 64)),
            ("inception4c", try inception(512, 128, 128, 256, 24, 64, 64)),
            ("inception4d", try inception(512, 112, 144, 288, 32, 64, 64)),
            ("inception4e", try inception(528, 256, 160, 320, 32, 128, 128)), ("maxpool4", pool(2)),
            ("inception5a", try inception(832, 256, 160, 320, 32, 128, 128)),
            ("inception5b", try inception(832, 384, 192, 384, 48, 128, 128)),
            ("avgpool", GlobalAvgPool()), ("dropout", try Dropout(probability: 0.2, seed: g.next())),
            ("fc", try Linear(1024, classes, using: &g)),
        ], name: "GoogLeNet")
    }
}
