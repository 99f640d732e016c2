import ConvKit
import Foundation
import Testing

/// Layers: PyTorch's default initialisation, state names, modes, and bad arguments.
@Suite struct LayerTests {
    /// kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in); the bias uses the same bound.
    @Test func defaultInitialisationFollowsPyTorch() throws {
        var g = SeededGenerator(seed: 0)
        let conv = try Conv2d(16, 32, kernelSize: 3, using: &g)
        let bound = 1 / Float(16 * 9).squareRoot()
        for t in [conv.weight, try #require(conv.bias)] {
            #expect(t.scalars.allSatisfy { Swift.abs($0) <= bound })
            #expect(t.scalars.map { Swift.abs($0) }.max()! > 0.9 * bound)
        }
        // Uniform on [−b, b]: variance b²/3.
        let variance = conv.weight.scalars.reduce(0) { $0 + $1 * $1 } / Float(conv.weight.count)
        #expect(Swift.abs(variance - bound * bound / 3) < 0.1 * bound * bound / 3)
        let transposed = try ConvTranspose2d(8, 4, kernelSize: 2, using: &g)  // fan_in from dim 1: 4·2·2
        #expect(transposed.weight.shape == [8, 4, 2, 2] && transposed.weight.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        let linear = try Linear(100, 10, using: &g)
        #expect(linear.weight.scalars.allSatisfy { Swift.abs($0) <= 0.1 })
    }

    @Test func defaultGeneratorMakesModelsReproducible() throws {
        DefaultGenerator.seed(42)
        let a = try Conv2d(3, 8, kernelSize: 3)
        DefaultGenerator.seed(42)
        let b = try Conv2d(3, 8, kernelSize: 3)
        let c = try Conv2d(3, 8, kernelSize: 3)
        #expect(a.weight.scalars == b.weight.scalars && a.weight.scalars != c.weight.scalars)
    }

    @Test func sequentialBuilderNamesChildrenLikePyTorch() throws {
        let useNorm = true
        let model = try Sequential {
            try Conv2d(3, 4, kernelSize: 3, padding: 1, bias: false)
            if useNorm { try BatchNorm2d(4) }
            ReLU()
            for _ in 0..<2 { try Conv2d(4, 4, kernelSize: 1) }
        }
        #expect(model.namedState().map(\.name) == [
            "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "3.weight", "3.bias", "4.weight", "4.bias",
        ])
        #expect(model.parameters.count == 7 && model.parameterCount == 108 + 8 + 20 + 20)
        let y = try model(try Tensor.ones([2, 3, 5, 5]))
        #expect(y.shape == [2, 4, 5, 5])
        #expect(model.namedState()[5].entry.tensor.scalars == [1])  // num_batches_tracked counted the batch
    }

    @Test func trainAndEvalModesReachEveryModule() throws {
        let model = try Zoo.alexNet(classes: 10)
        #expect(model.isInTrainingMode)
        model.eval()
        #expect(!model.isInTrainingMode)
        let dropouts = model.namedModules().compactMap { $0.module as? Dropout }
        #expect(dropouts.count == 2 && dropouts.allSatisfy { !$0.isTraining })
        model.train()
        #expect(dropouts.allSatisfy { $0.isTraining })
        // Batch norm: evaluation uses the running statistics and leaves them alone.
        let bn = try BatchNorm2d(2)
        let x = try Tensor(shape: [2, 2, 1, 1], scalars: [1, 2, 3, 4])
        _ = try bn(x)
        #expect(bn.runningMean.scalars == [0.2, 0.3])
        bn.isTraining = false
        let y = try bn(x)
        #expect(bn.runningMean.scalars == [0.2, 0.3] && bn.numBatchesTracked.scalars == [1])
        #expect(Swift.abs(y.scalars[0] - (1 - 0.2) / (bn.runningVar.scalars[0] + 1e-5).squareRoot()) < 1e-5)
    }

    @Test func residualAndConcatBlocks() throws {
        var g = SeededGenerator(seed: 1)
        let block = Residual(try Conv2d(2, 2, kernelSize: 3, padding: 1, using: &g), activation: ReLU())
        let x = try Tensor.randomNormal([1, 2, 4, 4], using: &g)
        let manual = try (try block.body(x) + x).relu()
        #expect(try block(x).scalars == manual.scalars)
        let concat = Concat(named: [("a", Identity()), ("b", try Conv2d(2, 3, kernelSize: 1, using: &g))])
        #expect(try concat(x).shape == [1, 5, 4, 4])
        #expect(concat.namedParameters().map(\.name) == ["b.weight", "b.bias"])
    }

    @Test func badLayerArgumentsAreClear() {
        expectError(containing: "Conv2d: inChannels/outChannels/groups channels must be positive multiples of groups, got 3, 8, groups 2") {
            try Conv2d(3, 8, kernelSize: 3, groups: 2)
        }
        expectError(containing: "Conv2d: kernelSize must have 1 or 2 values, got [3, 3, 3]") { try Conv2d(3, 8, kernelSize: [3, 3, 3]) }
        expectError(containing: "Dropout: probability must be in [0, 1], got 1.5") { try Dropout(probability: 1.5) }
        expectError(containing: "Conv2d: input has 1 channels but weight expects 3") {
            try Conv2d(3, 8, kernelSize: 3)(try Tensor.zeros([1, 1, 8, 8]))
        }
    }
}
