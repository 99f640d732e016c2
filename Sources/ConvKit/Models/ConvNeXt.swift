// ConvNeXt (Liu et al. 2022), torchvision layout.

/// ConvNeXt's block: 7×7 depthwise conv → LayerNorm (channels last) → Linear(C→4C) → GELU →
/// Linear(4C→C), scaled per channel by `layer_scale` (initialised to 1e-6), with stochastic
/// depth, added to the input. Children: `block`, `stochastic_depth`.
public final class CNBlock: Module {
    public let layerScale: Tensor
    public let block: Sequential
    public let stochasticDepth: StochasticDepth

    init(_ dim: Int, stochasticDepthProbability: Float, using g: inout SeededGenerator) throws {
        layerScale = Initializer.constant([dim, 1, 1], 1e-6)
        block = Sequential([
            try Conv2d(dim, dim, kernelSize: 7, padding: 3, groups: dim, using: &g), Permute([0, 2, 3, 1]),
            try LayerNorm([dim], eps: 1e-6), try Linear(dim, 4 * dim, using: &g), GELU(), try Linear(4 * dim, dim, using: &g),
            Permute([0, 3, 1, 2]),
        ])
        stochasticDepth = StochasticDepth(probability: stochasticDepthProbability, seed: g.next())
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input + (try stochasticDepth.forward(try layerScale * (try block.forward(input))))
    }

    public var localState: [StateEntry] { [StateEntry("layer_scale", layerScale)] }
    public var children: [(name: String, module: any Module)] { [("block", block), ("stochastic_depth", stochasticDepth)] }
}

extension Zoo {
    /// torchvision's ConvNeXt-Tiny (channels 96-192-384-768, blocks 3-3-9-3, stochastic
    /// depth up to 0.1): 28,589,128 parameters at 1,000 classes.
    public static func convNeXtTiny(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let stages = [(96, 3), (192, 3), (384, 9), (768, 3)]
        let totalBlocks = stages.reduce(0) { $0 + $1.1 }
        let features = Sequential([Sequential([try Conv2d(inputChannels, 96, kernelSize: 4, stride: 4, using: &g),
                                               try LayerNorm2d(96)])])
        var blockIndex = 0
        for (i, (dim, count)) in stages.enumerated() {
            let stage = Sequential([])
            for _ in 0..<count {
                let p = 0.1 * Float(blockIndex) / Float(totalBlocks - 1)
                stage.append(try CNBlock(dim, stochasticDepthProbability: p, using: &g))
                blockIndex += 1
            }
            features.append(stage)
            if i < stages.count - 1 {
                features.append(Sequential([try LayerNorm2d(dim), try Conv2d(dim, stages[i + 1].0, kernelSize: 2, stride: 2, using: &g)]))
            }
        }
        let classifier = Sequential([try LayerNorm2d(768), Flatten(), try Linear(768, classes, using: &g)])
        return Sequential(named: [("features", features), ("avgpool", AdaptiveAvgPool2d(outputSize: 1)),
                                  ("classifier", classifier)], name: "ConvNeXt-Tiny")
    }
}
