import ConvKit
import Testing

/// Folding batch norm into the convolution before it (`fuseForInference`): the fused model
/// gives the unfused one's outputs, every conv–BN pair of the zoo's models is found, and what
/// cannot be folded is refused with the model restored.
@Suite struct FusionTests {
    /// Batch-norm statistics and affine parameters away from 0 and 1, so folding them matters.
    static func randomizeBatchNorms(_ model: any Module, seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        for bn in model.namedModules().compactMap({ $0.module as? BatchNorm }) {
            let n = bn.runningMean.count
            try bn.runningMean.assign((0..<n).map { _ in Float.random(in: -0.5...0.5, using: &g) })
            try bn.runningVar.assign((0..<n).map { _ in Float.random(in: 0.5...2, using: &g) })
            try bn.weight?.assign((0..<n).map { _ in Float.random(in: 0.5...1.5, using: &g) })
            try bn.bias?.assign((0..<n).map { _ in Float.random(in: -0.2...0.2, using: &g) })
        }
    }

    @Test(arguments: [("resnet18", 20, 64), ("resnet50", 53, 64), ("mobilenet_v2", 52, 64), ("efficientnet_b0", 49, 64), ("densenet121", 59, 64)])
    func fusedOutputsEqualUnfused(name: String, folds: Int, side: Int) throws {
        let model = try Zoo.entry(name).build(classes: 10, seed: 1)
        try Self.randomizeBatchNorms(model, seed: 2)
        model.eval()
        var g = SeededGenerator(seed: 3)
        let x = try Tensor.randomNormal([2, 3, side, side], using: &g)
        let folded = try model.fuseForInference(exampleInput: x)
        #expect(folded.count == folds, "\(name): folded \(folded.count): \(folded.prefix(6))")
        let y = try Tensor.randomNormal([2, 3, side, side], using: &g)
        let unfused = try Zoo.entry(name).build(classes: 10, seed: 1)
        try Self.randomizeBatchNorms(unfused, seed: 2)
        unfused.eval()
        // Another input than the one fusion saw: the same numbers within float rounding.
        expectClose(try withGradientsDisabled { try model(y) }, try withGradientsDisabled { try unfused(y) }, rtol: 1e-4, atol: 1e-4, "\(name) fused")
        // Training a folded model is refused (its batch norms no longer hold the statistics).
        model.train()
        expectError(containing: "folded into its convolution") { try model(x) }
    }

    /// ResNet-18's pairs are torchvision's: the stem, two per block, and the three downsamples.
    @Test func resNetPairsAreNamedByTheirPaths() throws {
        let model = try Zoo.entry("resnet18").build(classes: 10)
        let folded = try model.fuseForInference(exampleInput: try Tensor.zeros([1, 3, 32, 32]))
        #expect(folded.first == "bn1" && folded.contains("layer1.0.bn2") && folded.contains("layer4.0.downsample.1"))
        // Fusing again finds nothing left to fold.
        #expect(try model.fuseForInference(exampleInput: try Tensor.zeros([1, 3, 32, 32])).isEmpty)
    }

    /// A convolution whose output also goes elsewhere cannot be folded: the check catches it
    /// and the model is left as it was.
    @Test func aSharedConvolutionOutputIsRefusedAndRestored() throws {
        let conv = try Conv2d(1, 2, kernelSize: 1, bias: false), bn = try BatchNorm2d(2)
        final class Both: Module {
            let conv: Conv2d, bn: BatchNorm2d
            init(_ conv: Conv2d, _ bn: BatchNorm2d) { (self.conv, self.bn) = (conv, bn) }
            func callAsFunction(_ input: Tensor) throws -> Tensor {
                let c = try conv.forward(input)
                return try bn.forward(c) + c  // the raw convolution output is used twice
            }
            var children: [(name: String, module: any Module)] { [("conv", conv), ("bn", bn)] }
        }
        let both = Both(conv, bn)
        try Self.randomizeBatchNorms(both, seed: 5)
        let weights = conv.weight.scalars
        var g = SeededGenerator(seed: 6)
        let x = try Tensor.randomNormal([1, 1, 4, 4], using: &g)
        expectError(containing: "nothing was folded") { try both.fuseForInference(exampleInput: x) }
        #expect(conv.weight.scalars == weights && conv.bias == nil && !bn.isFolded)
    }
}
