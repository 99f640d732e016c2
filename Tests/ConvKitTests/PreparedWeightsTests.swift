import ConvKit
import Testing

/// A convolution layer keeps its weights rearranged for its forward path between calls that
/// record no gradient; whatever changes the weights (assigning them, writing them in place, an
/// optimizer step, loading a state, folding a batch norm) must show in the next call's output,
/// which always equals the functional `conv2d` on the layer's current weights.
@Suite struct PreparedWeightsTests {
    /// (input channels, output channels, side, groups, algorithm): the direct tiles, grouped
    /// direct tiles, gathered tiles (7² lines) and Winograd.
    static let layers: [(Int, Int, Int, Int, ConvolutionAlgorithm)] = [
        (8, 20, 30, 1, .direct), (12, 18, 24, 3, .direct), (16, 40, 7, 1, .automatic), (16, 24, 20, 1, .winograd),
    ]

    static func expectLayerMatchesFunctional(_ conv: Conv2d, _ x: Tensor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let layer = try withGradientsDisabled { try conv(x) }
        let functional = try withGradientsDisabled {
            try conv2d(x, weight: conv.weight, bias: conv.bias, padding: 1, groups: conv.groups, algorithm: conv.algorithm)
        }
        let differ = zip(layer.scalars, functional.scalars).filter { $0 != $1 }.count
        #expect(layer.shape == functional.shape && differ == 0, "\(what): \(differ) of \(functional.count) differ", sourceLocation: sourceLocation)
    }

    @Test(arguments: layers.indices)
    func everyChangeToTheWeightsReachesTheOutput(index: Int) throws {
        let (c, k, side, groups, algorithm) = Self.layers[index]
        var g = SeededGenerator(seed: UInt64(60 + index))
        let conv = try Conv2d(c, k, kernelSize: 3, padding: 1, groups: groups, using: &g)
        conv.algorithm = algorithm
        let x = try Tensor.randomNormal([2, c, side, side], using: &g)
        try Self.expectLayerMatchesFunctional(conv, x, "first call")
        try Self.expectLayerMatchesFunctional(conv, x, "second call (prepared weights reused)")
        // Assigned.
        try conv.weight.assign(try Tensor.randomNormal(conv.weight.shape, using: &g).scalars)
        try Self.expectLayerMatchesFunctional(conv, x, "after assign")
        // Written in place.
        try conv.weight.withUnsafeMutableScalars { $0[0] += 1; $0[$0.count - 1] = -3 }
        try Self.expectLayerMatchesFunctional(conv, x, "after writing in place")
        // An optimizer step.
        let optimizer = try SGD(parameters: conv.parameters, learningRate: 0.5)
        try conv(x).sum().backward()
        try optimizer.step()
        try Self.expectLayerMatchesFunctional(conv, x, "after an optimizer step")
        // Another layer's state copied in.
        let other = try Conv2d(c, k, kernelSize: 3, padding: 1, groups: groups, using: &g)
        try conv.copyState(from: other)
        try Self.expectLayerMatchesFunctional(conv, x, "after copying a state")
        // Batch 1 may take another path than batch 2; both kept, both current.
        let one = try Tensor.randomNormal([1, c, side, side], using: &g)
        try Self.expectLayerMatchesFunctional(conv, one, "batch 1")
        try Self.expectLayerMatchesFunctional(conv, x, "batch 2 after batch 1")
        try conv.weight.withUnsafeMutableScalars { $0[1] = 2 }
        try Self.expectLayerMatchesFunctional(conv, one, "batch 1 after a change")
        try Self.expectLayerMatchesFunctional(conv, x, "batch 2 after a change")
    }

    /// Folding a batch norm rewrites the weights of a convolution that has already run in
    /// inference: the fused model's output is the unfused one's, not the stale weights'.
    @Test func foldingAfterInferenceUsesTheFoldedWeights() throws {
        let model = try Zoo.entry("resnet18").build(classes: 10, seed: 4)
        try FusionTests.randomizeBatchNorms(model, seed: 5)
        model.eval()
        var g = SeededGenerator(seed: 6)
        let x = try Tensor.randomNormal([1, 3, 32, 32], using: &g)
        let before = try withGradientsDisabled { try model(x) }
        _ = try model.fuseForInference(exampleInput: x)
        expectClose(try withGradientsDisabled { try model(x) }, before, rtol: 1e-4, atol: 1e-4, "fused after unfused inference")
    }
}
