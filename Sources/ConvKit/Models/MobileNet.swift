// MobileNetV2 (Sandler et al. 2018) and EfficientNet-B0 (Tan & Le 2019), torchvision layout.

/// MobileNetV2's inverted residual: 1×1 expansion (when t ≠ 1) → 3×3 depthwise (stride) →
/// 1×1 linear projection, all with batch norm (ReLU6 after the first two); a residual
/// connection when stride is 1 and the channel count is kept. Children: `conv`.
public final class InvertedResidual: Module {
    public let conv: Sequential
    public let usesResidual: Bool

    init(_ inChannels: Int, _ outChannels: Int, stride: Int, expansion: Int, using g: inout SeededGenerator) throws {
        let hidden = inChannels * expansion
        var layers: [any Module] = []
        if expansion != 1 {
            layers.append(try convNormActivation(inChannels, hidden, kernelSize: 1, activation: { ReLU6() }, using: &g))
        }
        layers.append(try convNormActivation(hidden, hidden, stride: stride, groups: hidden, activation: { ReLU6() }, using: &g))
        layers.append(try Conv2d(hidden, outChannels, kernelSize: 1, bias: false, using: &g))
        layers.append(try BatchNorm2d(outChannels))
        conv = Sequential(layers)
        usesResidual = stride == 1 && inChannels == outChannels
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let out = try conv.forward(input)
        return usesResidual ? try input + out : out
    }

    public var children: [(name: String, module: any Module)] { [("conv", conv)] }
}

/// EfficientNet's MBConv: 1×1 expansion (when ≠ 1) → k×k depthwise (stride) → squeeze-and-
/// excitation → 1×1 projection, batch norm everywhere, SiLU; a residual with stochastic
/// depth when stride is 1 and the channel count is kept. Children: `block`, `stochastic_depth`.
public final class MBConv: Module {
    public let block: Sequential
    public let stochasticDepth: StochasticDepth
    public let usesResidual: Bool

    init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int, expansion: Int,
         stochasticDepthProbability: Float, using g: inout SeededGenerator) throws {
        let expanded = inChannels * expansion
        var layers: [any Module] = []
        if expanded != inChannels {
            layers.append(try convNormActivation(inChannels, expanded, kernelSize: 1, activation: { SiLU() }, using: &g))
        }
        layers.append(try convNormActivation(expanded, expanded, kernelSize: kernelSize, stride: stride, groups: expanded,
                                             activation: { SiLU() }, using: &g))
        layers.append(try SqueezeExcitation(expanded, squeezeChannels: Swift.max(1, inChannels / 4), using: &g))
        layers.append(try convNormActivation(expanded, outChannels, kernelSize: 1, activation: nil, using: &g))
        block = Sequential(layers)
        stochasticDepth = StochasticDepth(probability: stochasticDepthProbability, seed: g.next())
        usesResidual = stride == 1 && inChannels == outChannels
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let out = try block.forward(input)
        return usesResidual ? try input + (try stochasticDepth.forward(out)) : out
    }

    public var children: [(name: String, module: any Module)] { [("block", block), ("stochastic_depth", stochasticDepth)] }
}

extension Zoo {
    /// torchvision's MobileNetV2 (width 1.0): 3,504,872 parameters at 1,000 classes.
    public static func mobileNetV2(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        // (expansion t, channels c, repeats n, stride s) from Table 2 of the paper.
        let settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        let features = Sequential([try convNormActivation(inputChannels, 32, stride: 2, activation: { ReLU6() }, using: &g)])
        var channels = 32
        for (t, c, n, s) in settings {
            for i in 0..<n {
                features.append(try InvertedResidual(channels, c, stride: i == 0 ? s : 1, expansion: t, using: &g))
                channels = c
            }
        }
        features.append(try convNormActivation(channels, 1280, kernelSize: 1, activation: { ReLU6() }, using: &g))
        let classifier = Sequential([try Dropout(probability: 0.2, seed: g.next()), try Linear(1280, classes, using: &g)])
        return Sequential(named: [("features", features), ("avgpool", GlobalAvgPool()), ("classifier", classifier)],
                          name: "MobileNetV2")
    }

    /// torchvision's EfficientNet-B0: 5,288,548 parameters at 1,000 classes. Stochastic
    /// depth grows linearly to 0.2 over the blocks.
    public static func efficientNetB0(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        // (expansion, kernel, stride, input channels, output channels, layers) for B0.
        let stages = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                      (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
        let totalBlocks = stages.reduce(0) { $0 + $1.5 }
        let features = Sequential([try convNormActivation(inputChannels, 32, stride: 2, activation: { SiLU() }, using: &g)])
        var blockIndex = 0
        for (e, k, s, cin, cout, n) in stages {
            let stage = Sequential([])
            for i in 0..<n {
                let p = 0.2 * Float(blockIndex) / Float(totalBlocks)
                stage.append(try MBConv(i == 0 ? cin : cout, cout, kernelSize: k, stride: i == 0 ? s : 1, expansion: e,
                                        stochasticDepthProbability: p, using: &g))
                blockIndex += 1
            }
            features.append(stage)
        }
        features.append(try convNormActivation(320, 1280, kernelSize: 1, activation: { SiLU() }, using: &g))
        let classifier = Sequential([try Dropout(probability: 0.2, seed: g.next()), try Linear(1280, classes, using: &g)])
        return Sequential(named: [("features", features), ("avgpool", GlobalAvgPool()), ("classifier", classifier)],
                          name: "EfficientNet-B0")
    }
}
