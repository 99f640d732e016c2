import ConvKit
import Testing

/// Batch norm with a residual and its ReLU in the same passes (`batchNorm(…, adding:, relu: true)`,
/// `BatchNorm.forwardThenReLU`, `Sequential`'s batch norm–ReLU pairs) against batch norm, `+` and
/// `relu()`: outputs and the gradients of input, γ, β and residual, in training and evaluation,
/// on rows shorter and longer than the vector lanes, with γ and β of both signs (channels that
/// ReLU cuts mostly or not at all). ResNet's blocks run these (InteropTests check its logits).
@Suite struct BatchNormReLUTests {
    @Test(arguments: [[3, 5, 7], [2, 4, 33], [2, 3, 5, 10], [4, 2, 1]], [true, false])
    func fusedEqualsBatchNormThenReLU(shape: [Int], training: Bool) throws {
        let c = shape[1]
        let upstream = try seededTensor(shape, seed: 9)
        func run(fused: Bool) throws -> [Tensor] {
            let x = try seededTensor(shape, seed: 1, requiresGrad: true)
            let gamma = try Tensor(shape: [c], scalars: (0..<c).map { [1.3, -0.7, 0.4, 2, -1.1][$0 % 5] })
            let beta = try Tensor(shape: [c], scalars: (0..<c).map { [0.2, -0.5, 1.5, -2, 0][$0 % 5] })
            gamma.requiresGrad = true
            beta.requiresGrad = true
            let rm = try Tensor(shape: [c], scalars: (0..<c).map { Float($0) * 0.1 - 0.2 })
            let rv = try Tensor(shape: [c], scalars: (0..<c).map { 0.5 + Float($0) * 0.3 })
            let y = fused
                ? try batchNorm(x, runningMean: rm, runningVar: rv, weight: gamma, bias: beta, training: training, relu: true)
                : try batchNorm(x, runningMean: rm, runningVar: rv, weight: gamma, bias: beta, training: training).relu()
            try (y * upstream).sum().backward()
            return [y, x.grad!, gamma.grad!, beta.grad!, rm, rv]
        }
        let (fused, plain) = (try run(fused: true), try run(fused: false))
        for (i, name) in ["output", "input gradient", "γ gradient", "β gradient", "running mean", "running variance"].enumerated() {
            expectClose(fused[i], plain[i], rtol: 1e-5, atol: 1e-6, "\(shape) training \(training): \(name)")
        }
        #expect(fused[0].scalars.contains(0) && fused[0].scalars.contains { $0 > 0 }, "ReLU cuts some values and keeps others")
    }

    /// With a residual (a block's shortcut) added before the ReLU, and added alone: outputs and the
    /// gradients of input, γ, β and the residual against batch norm, `+` and `relu()`.
    @Test(arguments: [[3, 5, 7], [2, 4, 33], [2, 3, 5, 10]], [true, false])
    func residualAddedBeforeTheReLU(shape: [Int], relu: Bool) throws {
        let c = shape[1]
        let upstream = try seededTensor(shape, seed: 19)
        func run(fused: Bool) throws -> [Tensor] {
            let x = try seededTensor(shape, seed: 11, requiresGrad: true), shortcut = try seededTensor(shape, seed: 12, requiresGrad: true)
            let gamma = try Tensor(shape: [c], scalars: (0..<c).map { [1.3, -0.7, 0.4, 2, -1.1][$0 % 5] })
            let beta = try Tensor(shape: [c], scalars: (0..<c).map { [0.2, -0.5, 1.5, -2, 0][$0 % 5] })
            gamma.requiresGrad = true
            beta.requiresGrad = true
            let y: Tensor
            if fused {
                y = try batchNorm(x, runningMean: nil, runningVar: nil, weight: gamma, bias: beta, training: true, adding: shortcut, relu: relu)
            } else {
                let sum = try batchNorm(x, runningMean: nil, runningVar: nil, weight: gamma, bias: beta, training: true) + shortcut
                y = relu ? sum.relu() : sum
            }
            try (y * upstream).sum().backward()
            return [y, x.grad!, gamma.grad!, beta.grad!, shortcut.grad!]
        }
        let (fused, plain) = (try run(fused: true), try run(fused: false))
        for (i, name) in ["output", "input gradient", "γ gradient", "β gradient", "residual gradient"].enumerated() {
            expectClose(fused[i], plain[i], rtol: 1e-5, atol: 1e-6, "\(shape) relu \(relu): \(name)")
        }
        let mismatched = try seededTensor([shape[0] + 1] + shape.dropFirst(), seed: 1)
        expectError(containing: "residual") {
            try batchNorm(seededTensor(shape, seed: 1), runningMean: nil, runningVar: nil, training: true, adding: mismatched, relu: relu)
        }
    }

    /// NaN stays NaN through the fused ReLU, as through `relu()`.
    @Test func nanIsKept() throws {
        let x = try Tensor(shape: [1, 1, 3], scalars: [.nan, -1, 2])
        let y = try batchNorm(x, runningMean: Tensor([0]), runningVar: Tensor([1]), training: false, eps: 0, relu: true)
        #expect(y.scalars[0].isNaN && y.scalars[1] == 0 && y.scalars[2] == 2)
    }

    /// A sequential batch norm–ReLU pair runs fused and gives what the two layers give one by one.
    @Test func sequentialPairMatchesItsLayers() throws {
        let bn = try BatchNorm2d(4)
        try bn.weight!.assign([1, -1, 0.5, 2])
        try bn.bias!.assign([0.1, 0.3, -0.2, 0])
        let model = Sequential([bn, ReLU()])
        let x = try seededTensor([2, 4, 5, 6], seed: 3)
        let pair = try model(x)
        let reference = try BatchNorm2d(4)
        try reference.weight!.assign([1, -1, 0.5, 2])
        try reference.bias!.assign([0.1, 0.3, -0.2, 0])
        expectClose(pair, try reference(x).relu(), rtol: 1e-6, atol: 1e-6, "Sequential(bn, relu)")
        expectClose(bn.runningMean, reference.runningMean, rtol: 1e-6, atol: 1e-7, "running mean")
        #expect(bn.numBatchesTracked.scalars == reference.numBatchesTracked.scalars)
    }
}
