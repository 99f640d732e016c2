import ConvKit
import Testing

/// Autograd against central finite differences, for every op with inputs or parameters.
@Suite struct GradientCheckTests {
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) throws -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return try Tensor.randomNormal(shape, std: scale, using: &rng)
    }

    /// Values spread apart (a shuffled ramp), so max pooling and ReLU have no ties or kinks within ε.
    static func distinct(_ shape: [Int], seed: UInt64) throws -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let n = shape.reduce(1, *)
        let values = (0..<n).map { Float($0) * 0.1 - Float(n) * 0.05 + 0.03 }.shuffled(using: &rng)
        return try Tensor(shape: shape, scalars: values)
    }

    @Test func convolutions() throws {
        let x = try Self.random([2, 4, 6, 5], seed: 1), w = try Self.random([4, 2, 3, 2], seed: 2), b = try Self.random([4], seed: 3)
        for mode in PaddingMode.allCases {
            try checkGradients(of: [x, w, b], "conv2d \(mode)") { t in
                try conv2d(t[0], weight: t[1], bias: t[2], stride: [2, 1], padding: .explicit(before: [1, 2], after: [2, 0]),
                           dilation: [1, 2], groups: 2, paddingMode: mode)
            }
        }
        let x1 = try Self.random([2, 3, 9], seed: 4), w1 = try Self.random([2, 3, 4], seed: 5)
        try checkGradients(of: [x1, w1], "conv1d same") { t in try conv1d(t[0], weight: t[1], padding: .same, dilation: 2) }
        try checkGradients(of: [x1, w1], "trueConv1d") { t in try trueConv1d(t[0], weight: t[1], padding: 1) }
        let xt = try Self.random([2, 4, 3, 4], seed: 6), wt = try Self.random([4, 3, 3, 2], seed: 7), bt = try Self.random([6], seed: 8)
        try checkGradients(of: [xt, wt, bt], "convTranspose2d") { t in
            try convTranspose2d(t[0], weight: t[1], bias: t[2], stride: [2, 3], padding: [1, 0], outputPadding: [1, 2],
                                groups: 2, dilation: [1, 1])
        }
        // 3-D: volumes through the same kernels.
        let x3 = try Self.random([1, 2, 4, 3, 5], seed: 31), w3 = try Self.random([2, 1, 2, 3, 2], seed: 32), b3 = try Self.random([2], seed: 33)
        for mode in PaddingMode.allCases {
            try checkGradients(of: [x3, w3, b3], "conv3d \(mode)") { t in
                try conv3d(t[0], weight: t[1], bias: t[2], stride: [1, 2, 1], padding: [1, 1, 1], dilation: [1, 1, 2], groups: 2,
                           paddingMode: mode)
            }
        }
        let wt3 = try Self.random([2, 2, 2, 2, 3], seed: 34)
        try checkGradients(of: [x3, wt3], "convTranspose3d") { t in
            try convTranspose3d(t[0], weight: t[1], stride: [2, 1, 2], padding: [0, 1, 1], outputPadding: [1, 0, 0])
        }
        let xp3 = try Self.distinct([1, 2, 4, 5, 4], seed: 35)
        try checkGradients(of: [xp3], "maxPool3d") { t in try maxPool3d(t[0], kernelSize: [2, 3, 2], stride: [2, 2, 1], padding: [1, 1, 0], ceilMode: true) }
        try checkGradients(of: [xp3], "avgPool3d") { t in try avgPool3d(t[0], kernelSize: 3, stride: 2, padding: 1, countIncludePad: false) }
        try checkGradients(of: [xp3], "adaptiveAvgPool3d") { t in try adaptiveAvgPool3d(t[0], outputSize: [3, 2, 3]) }
        let xt1 = try Self.random([1, 2, 5], seed: 9), wt1 = try Self.random([2, 3, 3], seed: 10)
        try checkGradients(of: [xt1, wt1], "convTranspose1d") { t in
            try convTranspose1d(t[0], weight: t[1], stride: 2, padding: 1, dilation: 2)
        }
    }

    @Test func pooling() throws {
        let x = try Self.distinct([2, 2, 7, 6], seed: 11)
        try checkGradients(of: [x], "maxPool2d") { t in
            try maxPool2d(t[0], kernelSize: 3, stride: 2, padding: 1, dilation: [1, 2], ceilMode: true)
        }
        try checkGradients(of: [x], "avgPool2d") { t in
            try avgPool2d(t[0], kernelSize: [3, 2], stride: 2, padding: 1, ceilMode: true, countIncludePad: false)
        }
        try checkGradients(of: [x], "adaptiveAvgPool2d") { t in try adaptiveAvgPool2d(t[0], outputSize: [3, 4]) }
        try checkGradients(of: [x], "globalAvgPool") { t in try globalAvgPool(t[0]) }
        try checkGradients(of: [x], "globalMaxPool") { t in try globalMaxPool(t[0]) }
        let x1 = try Self.distinct([2, 3, 10], seed: 12)
        try checkGradients(of: [x1], "maxPool1d") { t in try maxPool1d(t[0], kernelSize: 3, stride: 2, padding: 1) }
        try checkGradients(of: [x1], "avgPool1d") { t in try avgPool1d(t[0], kernelSize: 4, stride: 3, padding: 2) }
        try checkGradients(of: [x1], "adaptiveAvgPool1d") { t in try adaptiveAvgPool1d(t[0], outputSize: 4) }
    }

    @Test func padding() throws {
        let x = try Self.random([2, 2, 4, 5], seed: 13)
        for mode in PaddingMode.allCases {
            try checkGradients(of: [x], "pad \(mode)") { t in
                try pad(t[0], before: [2, 1], after: [1, 3], mode: mode, value: 0.5)
            }
        }
    }

    @Test func activations() throws {
        let x = try Self.distinct([3, 5], seed: 14)
        let ops: [(String, (Tensor) throws -> Tensor)] = [
            ("relu", { $0.relu() }), ("relu6", { ($0 * 20).relu6() }), ("leakyRelu", { $0.leakyRelu(negativeSlope: 0.2) }),
            ("sigmoid", { $0.sigmoid() }), ("tanh", { $0.tanh() }), ("gelu", { $0.gelu() }),
            ("gelu tanh", { $0.gelu(approximate: .tanh) }), ("silu", { $0.silu() }),
            ("softmax", { try $0.softmax(axis: 1) }), ("logSoftmax", { try $0.logSoftmax(axis: 0) }),
            ("exp", { $0.exp() }), ("log", { ($0.squared() + 1).log() }), ("sqrt", { ($0.squared() + 1).sqrt() }),
            ("abs", { $0.abs() }),
        ]
        for (name, f) in ops { try checkGradients(of: [x], name) { t in try f(t[0]) } }
    }

    @Test func elementwiseAndShapes() throws {
        let a = try Self.random([2, 3, 4], seed: 15), b = try Self.random([3, 1], seed: 16)
        try checkGradients(of: [a, b], "add") { t in try t[0] + t[1] }
        try checkGradients(of: [a, b], "sub") { t in try t[0] - t[1] }
        try checkGradients(of: [a, b], "mul") { t in try t[0] * t[1] }
        try checkGradients(of: [a, b], "div") { t in try t[0] / (t[1].squared() + 1) }
        try checkGradients(of: [a], "sum/mean") { t in try (t[0].sum(axes: [1]) * 2).mean(axes: [0], keepingDims: true) }
        try checkGradients(of: [a], "permute") { t in try t[0].permuted([2, 0, 1]) }
        try checkGradients(of: [a], "slice") { t in try t[0].slice(axis: 1, 1..<3) }
        try checkGradients(of: [a], "flip") { t in try t[0].flipped(axes: [0, 2]) }
        try checkGradients(of: [a, a], "concatenate") { t in try Tensor.concatenate([t[0], t[1].squared()], axis: 1) }
        try checkGradients(of: [a], "reshape/flatten") { t in try t[0].reshaped(to: [4, -1]).flattened(startAxis: 0) }
        let m = try Self.random([3, 4], seed: 17), n = try Self.random([4, 2], seed: 18)
        try checkGradients(of: [m, n], "matmul") { t in try matmul(t[0], t[1]) }
        let w = try Self.random([5, 4], seed: 19), bias = try Self.random([5], seed: 20)
        try checkGradients(of: [a, w, bias], "linear") { t in try linear(t[0], weight: t[1], bias: t[2]) }
    }

    @Test func lossesAndNormalization() throws {
        let logits = try Self.random([4, 5], seed: 21)
        try checkGradients(of: [logits], "crossEntropy") { t in
            try crossEntropy(t[0], targets: [0, 3, 4, 1], labelSmoothing: 0.1)
        }
        try checkGradients(of: [logits], "nllLoss") { t in try nllLoss(t[0], targets: [1, 1, 2, 0], reduction: .sum) }
        let target = try Self.random([4, 5], seed: 22)
        try checkGradients(of: [logits, target], "mseLoss") { t in try mseLoss(t[0], target: t[1]) }
        let x = try Self.random([3, 2, 3, 2], seed: 23), g = try Self.random([2], seed: 24), b = try Self.random([2], seed: 25)
        try checkGradients(of: [x, g, b], "batchNorm train") { t in
            try batchNorm(t[0], runningMean: nil, runningVar: nil, weight: t[1], bias: t[2], training: true)
        }
        try checkGradients(of: [x, g, b], "batchNorm+relu train") { t in
            try batchNorm(t[0], runningMean: nil, runningVar: nil, weight: t[1], bias: t[2], training: true, relu: true)
        }
        let shortcut = try Self.random([3, 2, 3, 2], seed: 31)
        // ε = 1e-3: no sum of batch norm and shortcut lies that close to ReLU's kink at 0 (1e-2 had two).
        try checkGradients(of: [x, g, b, shortcut], epsilon: 1e-3, "batchNorm+add+relu train") { t in
            try batchNorm(t[0], runningMean: nil, runningVar: nil, weight: t[1], bias: t[2], training: true, adding: t[3], relu: true)
        }
        let rm = try Tensor([0.1, -0.2]), rv = try Tensor([0.5, 2])
        try checkGradients(of: [x, g, b], "batchNorm eval") { t in
            try batchNorm(t[0], runningMean: rm, runningVar: rv, weight: t[1], bias: t[2], training: false)
        }
        let ln = try Self.random([3, 2], seed: 26), lnb = try Self.random([3, 2], seed: 27)
        try checkGradients(of: [x, ln, lnb], "layerNorm") { t in
            try layerNorm(t[0], normalizedShape: [3, 2], weight: t[1], bias: t[2])
        }
        let x4 = try Self.random([2, 4, 2, 3], seed: 28, scale: 2), g4 = try Self.random([4], seed: 29), b4 = try Self.random([4], seed: 30)
        try checkGradients(of: [x4, g4, b4], "layerNormChannels") { t in try layerNormChannels(t[0], weight: t[1], bias: t[2]) }
        try checkGradients(of: [x], "dropout") { t in
            var rng = SeededGenerator(seed: 5)  // the same mask on every evaluation
            return try dropout(t[0], probability: 0.3, training: true, using: &rng)
        }
    }
}
