// The Vision Transformer (Dosovitskiy et al. 2021), torchvision layout and state names.

/// torchvision's `EncoderBlock`: x + self-attention(ln_1(x)), then y + mlp(ln_2(y)) with the
/// MLP Linear(D→M) → GELU → Dropout → Linear(M→D) → Dropout. Children: `ln_1`,
/// `self_attention`, `dropout`, `ln_2`, `mlp`.
public final class EncoderBlock: Module {
    public let ln1: LayerNorm, selfAttention: MultiheadAttention, dropout: Dropout, ln2: LayerNorm, mlp: Sequential

    init(hiddenDim: Int, heads: Int, mlpDim: Int, dropout p: Float, attentionDropout: Float, using g: inout SeededGenerator) throws {
        ln1 = try LayerNorm([hiddenDim], eps: 1e-6)
        selfAttention = try MultiheadAttention(embedDim: hiddenDim, heads: heads, dropout: attentionDropout, batchFirst: true, using: &g)
        dropout = try Dropout(probability: p, seed: g.next())
        ln2 = try LayerNorm([hiddenDim], eps: 1e-6)
        // MLPBlock's initialisation: Xavier-uniform weights, biases N(0, 1e-6).
        func linear(_ i: Int, _ o: Int) throws -> Linear {
            let l = try Linear(i, o, using: &g)
            try l.weight.assign(Initializer.uniform([o, i], bound: (6 / Float(i + o)).squareRoot(), using: &g).scalars)
            try l.bias?.assign(Initializer.normal([o], std: 1e-6, using: &g).scalars)
            return l
        }
        mlp = Sequential([try linear(hiddenDim, mlpDim), GELU(), try Dropout(probability: p, seed: g.next()),
                          try linear(mlpDim, hiddenDim), try Dropout(probability: p, seed: g.next())])
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input + (try dropout.forward(try selfAttention.forward(try ln1.forward(input))))
        return try x + (try mlp.forward(try ln2.forward(x)))
    }

    public var children: [(name: String, module: any Module)] {
        [("ln_1", ln1), ("self_attention", selfAttention), ("dropout", dropout), ("ln_2", ln2), ("mlp", mlp)]
    }
}

/// torchvision's ViT `Encoder`: adds the learned position embedding (`pos_embedding`,
/// (1, tokens, D)), then dropout, the blocks (`layers.encoder_layer_i`) and a final LayerNorm (`ln`).
public final class ViTEncoder: Module {
    public let positionEmbedding: Tensor
    public let dropout: Dropout, layers: Sequential, ln: LayerNorm

    init(tokens: Int, layers count: Int, heads: Int, hiddenDim: Int, mlpDim: Int, dropout p: Float, attentionDropout: Float,
         using g: inout SeededGenerator) throws {
        positionEmbedding = Initializer.normal([1, tokens, hiddenDim], std: 0.02, using: &g)
        dropout = try Dropout(probability: p, seed: g.next())
        layers = Sequential(named: try (0..<count).map { i in
            ("encoder_layer_\(i)", try EncoderBlock(hiddenDim: hiddenDim, heads: heads, mlpDim: mlpDim, dropout: p,
                                                    attentionDropout: attentionDropout, using: &g) as any Module)
        })
        ln = try LayerNorm([hiddenDim], eps: 1e-6)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try ln.forward(try layers.forward(try dropout.forward(try input + positionEmbedding)))
    }

    public var localState: [StateEntry] { [StateEntry("pos_embedding", positionEmbedding)] }
    public var children: [(name: String, module: any Module)] { [("dropout", dropout), ("layers", layers), ("ln", ln)] }
}

/// torchvision's `VisionTransformer`: the image cut into patches by a convolution whose kernel
/// and stride are the patch size (`conv_proj`), each patch a token of `hiddenDim` features,
/// a learned class token (`class_token`) put in front, the encoder, and a linear head
/// (`heads.head`) on the class token's final features. Every token attends to every other
/// in each block, so after the first block each output sees the whole image.
public final class VisionTransformer: Module {
    public let imageSize: Int, patchSize: Int, hiddenDim: Int
    public let classToken: Tensor
    public let convProj: Conv2d
    public let encoder: ViTEncoder
    public let heads: Sequential

    /// Creates the model with torchvision's initialisation (normal instead of truncated
    /// normal for `conv_proj`, whose draws beyond 2σ are rare; the head zero).
    /// - Throws: `ConvKitError.invalidArgument` unless the patch size divides the image size
    ///   and every size is positive (heads dividing hiddenDim).
    public init(imageSize: Int, patchSize: Int, layers: Int, heads headCount: Int, hiddenDim: Int, mlpDim: Int, classes: Int = 1000,
                inputChannels: Int = 3, dropout: Float = 0, attentionDropout: Float = 0, seed: UInt64 = 0) throws {
        for (name, value) in [("imageSize", imageSize), ("patchSize", patchSize), ("layers", layers), ("heads", headCount),
                              ("hiddenDim", hiddenDim), ("mlpDim", mlpDim), ("classes", classes), ("inputChannels", inputChannels)] {
            try Limits.check(value, in: 1...1_000_000, op: "VisionTransformer", argument: name)
        }
        guard imageSize % patchSize == 0 else {
            throw ConvKitError.invalidArgument(op: "VisionTransformer", argument: "patchSize",
                                               message: "must divide imageSize \(imageSize), got \(patchSize)")
        }
        var g = SeededGenerator(seed: seed)
        (self.imageSize, self.patchSize, self.hiddenDim) = (imageSize, patchSize, hiddenDim)
        convProj = try Conv2d(inputChannels, hiddenDim, kernelSize: PerAxis(patchSize), stride: PerAxis(patchSize), using: &g)
        let fanIn = inputChannels * patchSize * patchSize
        try convProj.weight.assign(Initializer.normal(convProj.weight.shape, std: (1 / Float(fanIn)).squareRoot(), using: &g).scalars)
        try convProj.bias?.assign([Float](repeating: 0, count: hiddenDim))
        classToken = Initializer.constant([1, 1, hiddenDim], 0)
        let patches = (imageSize / patchSize) * (imageSize / patchSize)
        encoder = try ViTEncoder(tokens: patches + 1, layers: layers, heads: headCount, hiddenDim: hiddenDim, mlpDim: mlpDim,
                                 dropout: dropout, attentionDropout: attentionDropout, using: &g)
        let head = try Linear(hiddenDim, classes, using: &g)
        try head.weight.assign([Float](repeating: 0, count: classes * hiddenDim))
        try head.bias?.assign([Float](repeating: 0, count: classes))
        heads = Sequential(named: [("head", head)])
    }

    /// (N, C, imageSize, imageSize) → (N, classes).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[2] == imageSize, input.shape[3] == imageSize else {
            throw ConvKitError.shapeMismatch(op: "VisionTransformer",
                                             message: "expects (N, C, \(imageSize), \(imageSize)) images, got \(input.shape)")
        }
        let n = input.shape[0]
        // (N, D, H/p, W/p) → (N, tokens, D), the class token in front.
        let patches = try convProj.forward(input)
        let tokens = try patches.reshaped(to: [n, hiddenDim, patches.shape[2] * patches.shape[3]]).permuted([0, 2, 1])
        let cls = try classToken + Tensor.zeros([n, 1, hiddenDim])
        let encoded = try encoder.forward(try Tensor.concatenate([cls, tokens], axis: 1))
        return try heads.forward(try encoded.slice(axis: 1, 0..<1).reshaped(to: [n, hiddenDim]))
    }

    public var localState: [StateEntry] { [StateEntry("class_token", classToken)] }
    public var children: [(name: String, module: any Module)] { [("conv_proj", convProj), ("encoder", encoder), ("heads", heads)] }
}

extension Zoo {
    /// torchvision's `vit_b_16`: 224×224 images in 16×16 patches, 12 blocks of 12 heads,
    /// 768 features, MLP 3,072: 86,567,656 parameters at 1,000 classes.
    public static func vitB16(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        try wrap(VisionTransformer(imageSize: 224, patchSize: 16, layers: 12, heads: 12, hiddenDim: 768, mlpDim: 3072, classes: classes,
                                   inputChannels: inputChannels, seed: seed), name: "ViT-B/16")
    }

    /// torchvision's `vit_b_32`: as ViT-B/16 with 32×32 patches (88,224,232 parameters).
    public static func vitB32(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        try wrap(VisionTransformer(imageSize: 224, patchSize: 32, layers: 12, heads: 12, hiddenDim: 768, mlpDim: 3072, classes: classes,
                                   inputChannels: inputChannels, seed: seed), name: "ViT-B/32")
    }

    /// torchvision's `vit_l_16`: 24 blocks of 16 heads, 1,024 features, MLP 4,096 (304,326,632 parameters).
    public static func vitL16(classes: Int = 1000, inputChannels: Int = 3, seed: UInt64 = 0) throws -> Sequential {
        try wrap(VisionTransformer(imageSize: 224, patchSize: 16, layers: 24, heads: 16, hiddenDim: 1024, mlpDim: 4096, classes: classes,
                                   inputChannels: inputChannels, seed: seed), name: "ViT-L/16")
    }

    /// A small ViT for the bundled 28×28 digits, to set beside the course CNN: 7×7 patches
    /// (16 tokens and the class token), 4 blocks of 4 heads, 64 features, MLP 128.
    public static func vitMNIST(classes: Int = 10, inputChannels: Int = 1, seed: UInt64 = 0) throws -> Sequential {
        try wrap(VisionTransformer(imageSize: 28, patchSize: 7, layers: 4, heads: 4, hiddenDim: 64, mlpDim: 128, classes: classes,
                                   inputChannels: inputChannels, seed: seed), name: "ViT (MNIST)")
    }

    /// A model whose state names are its own (no `0.` prefix) as a zoo `Sequential`.
    static func wrap(_ model: VisionTransformer, name: String) -> Sequential {
        Sequential(named: [("", model)], name: name)
    }
}
