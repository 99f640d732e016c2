import ConvKit
import Testing

/// Bad arguments throw typed errors that say what was expected; nothing traps.
@Suite struct ErrorTests {
    let x = try! Tensor.zeros([2, 3, 8, 8])
    let w = try! Tensor.zeros([4, 3, 3, 3])

    @Test func convolutionArguments() throws {
        expectError(containing: "conv2d: input has 3 channels but weight expects 4 (4 per group × groups 1)") {
            try conv2d(x, weight: try Tensor.zeros([4, 4, 3, 3]))
        }
        expectError(containing: "padding 'same' requires stride 1") { try conv2d(x, weight: w, stride: 2, padding: .same) }
        expectError(containing: "kernel larger than padded input") { try conv2d(x, weight: try Tensor.zeros([1, 3, 9, 9])) }
        expectError(containing: "stride must be positive, got 0") { try conv2d(x, weight: w, stride: 0) }
        expectError(containing: "stride must be positive, got -1") { try conv2d(x, weight: w, stride: [1, -1]) }
        expectError(containing: "dilation must be positive") { try conv2d(x, weight: w, dilation: 0) }
        expectError(containing: "groups must be positive, got 0") { try conv2d(x, weight: w, groups: 0) }
        expectError(containing: "output channels 4 must be a positive multiple of groups 3") {
            try conv2d(x, weight: try Tensor.zeros([4, 1, 3, 3]), groups: 3)
        }
        expectError(containing: "input has 3 channels but weight expects 4 (2 per group × groups 2)") {
            try conv2d(x, weight: try Tensor.zeros([4, 2, 3, 3]), groups: 2)
        }
        expectError(containing: "stride must have 1 or 2 values, got [1, 2, 3]") { try conv2d(x, weight: w, stride: [1, 2, 3]) }
        expectError(containing: "padding must be at least 0, got -1") { try conv2d(x, weight: w, padding: -1) }
        expectError(containing: "bias must have shape [4], got [3]") { try conv2d(x, weight: w, bias: try Tensor.zeros([3])) }
        expectError(containing: "weight must be (K, C/groups, kH, kW), got shape [4, 3, 3]") {
            try conv2d(x, weight: try Tensor.zeros([4, 3, 3]))
        }
        expectError(containing: "input must be (N, C, L) or unbatched without N, got shape [2, 3, 8, 8]") {
            try conv1d(x, weight: try Tensor.zeros([4, 3, 3]))
        }
        expectError(containing: "must be smaller than the input size 8 for reflect mode") {
            try conv2d(x, weight: w, padding: 8, paddingMode: .reflect)
        }
        expectError(containing: "must be at most the input size 8 for circular mode") {
            try conv2d(x, weight: w, padding: 9, paddingMode: .circular)
        }
        expectError(containing: "outputPadding must be smaller than either stride or dilation") {
            try convTranspose2d(x, weight: try Tensor.zeros([3, 2, 3, 3]), stride: 2, outputPadding: 2)
        }
        expectError(containing: "convTranspose2d: input has 3 channels but weight expects 4") {
            try convTranspose2d(x, weight: try Tensor.zeros([4, 2, 3, 3]))
        }
    }

    @Test func poolingArguments() throws {
        expectError(containing: "padding should be at most half of the kernel size") {
            try maxPool2d(x, kernelSize: 2, padding: 2)
        }
        expectError(containing: "kernel larger than padded input") { try maxPool2d(x, kernelSize: 9) }
        expectError(containing: "kernelSize must be positive") { try avgPool2d(x, kernelSize: 0) }
        expectError(containing: "divisorOverride must not be zero") { try avgPool2d(x, kernelSize: 2, divisorOverride: 0) }
        expectError(containing: "outputSize must be positive") { try adaptiveAvgPool2d(x, outputSize: 0) }
        expectError(containing: "maxPool1d: input must be (N, C, L)") { try maxPool1d(try Tensor.zeros([5]), kernelSize: 2) }
    }

    @Test func tensorArguments() throws {
        expectError(containing: "shape [2, 3] holds 6 scalars but 5 were given") { try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5]) }
        expectError(containing: "cannot reshape [2, 3, 8, 8] (384 scalars) to [5, -1]") { try x.reshaped(to: [5, -1]) }
        expectError(containing: "shapes [2, 3, 8, 8] and [2, 8] cannot be broadcast together") { try x + (try Tensor.zeros([2, 8])) }
        expectError(containing: "inner sizes differ") { try matmul(try Tensor.zeros([2, 3]), try Tensor.zeros([4, 2])) }
        expectError(containing: "axis must be in -4..<4") { try x.sum(axes: [4]) }
        expectError(containing: "must be a permutation of 0..<4") { try x.permuted([0, 1, 1, 2]) }
        expectError(containing: "range must lie in 0..<2 on axis 0") { try x.slice(axis: 0, 1..<3) }
        expectError(containing: "sizes must match except on axis 1") {
            try Tensor.concatenate([x, try Tensor.zeros([2, 3, 8, 7])], axis: 1)
        }
        expectError(containing: "rows must all have 2 elements") { try Tensor(rows: [[1, 2], [3]]) }
        expectError(containing: "item: expected a tensor with one element") { try x.item() }
    }

    @Test func lossAndNormArguments() throws {
        let logits = try Tensor.zeros([2, 3])
        expectError(containing: "targets must be class indices in 0..<3, got 3") { try crossEntropy(logits, targets: [0, 3]) }
        expectError(containing: "expected 2 targets") { try crossEntropy(logits, targets: [0]) }
        expectError(containing: "labelSmoothing must be in [0, 1]") { try crossEntropy(logits, targets: [0, 1], labelSmoothing: 2) }
        expectError(containing: "mseLoss: input [2, 3] and target [3] must have the same shape") {
            try mseLoss(logits, target: try Tensor.zeros([3]))
        }
        expectError(containing: "expected more than 1 value per channel when training") {
            try batchNorm(try Tensor.zeros([1, 3]), runningMean: nil, runningVar: nil, training: true)
        }
        expectError(containing: "are required when not training") {
            try batchNorm(logits, runningMean: nil, runningVar: nil, training: false)
        }
        expectError(containing: "must end with normalizedShape [4]") { try layerNorm(logits, normalizedShape: [4]) }
        var rng = SeededGenerator(seed: 1)
        expectError(containing: "probability must be in [0, 1], got 1.5") {
            try dropout(logits, probability: 1.5, training: true, using: &rng)
        }
        expectError(containing: "pad: padding 4 must be smaller than the input size 3 for reflect mode") {
            try pad(logits, before: [4], after: [0], mode: .reflect)
        }
    }

    @Test func autogradMisuse() throws {
        expectError(containing: "does not require grad") { try Tensor([1, 2]).sum().backward() }
        let a = try Tensor([1, 2], requiresGrad: true)
        expectError(containing: "gradient can be implicit only for one-element tensors") { try (a * 2).backward() }
        expectError(containing: "gradient has shape [3] but the tensor has shape [2]") {
            try (a * 2).backward(gradient: try Tensor([1, 1, 1]))
        }
    }

    /// N = 0 batches run and return empty outputs of the right shape, as PyTorch.
    @Test func emptyBatches() throws {
        let empty = try Tensor.zeros([0, 3, 8, 8], requiresGrad: true)
        let wg = try Tensor.zeros([4, 3, 3, 3], requiresGrad: true)
        let y = try conv2d(empty, weight: wg, padding: 1)
        #expect(y.shape == [0, 4, 8, 8])
        try y.sum().backward()
        #expect(empty.grad?.shape == [0, 3, 8, 8])
        #expect(wg.grad?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(try maxPool2d(empty, kernelSize: 2).shape == [0, 3, 4, 4])
        #expect(try avgPool2d(empty, kernelSize: 2).shape == [0, 3, 4, 4])
        #expect(try convTranspose2d(empty, weight: try Tensor.zeros([3, 2, 2, 2]), stride: 2).shape == [0, 2, 16, 16])
        #expect(try conv1d(try Tensor.zeros([0, 2, 5]), weight: try Tensor.zeros([1, 2, 3])).shape == [0, 1, 3])
        #expect(try pad(empty, before: [1, 1], after: [1, 1], mode: .reflect).shape == [0, 3, 10, 10])
        #expect(try linear(try Tensor.zeros([0, 4]), weight: try Tensor.zeros([2, 4])).shape == [0, 2])
    }
}
