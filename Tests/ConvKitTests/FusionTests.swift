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

    /// A fused ResNet adds each block's shortcut as its last convolution stores its output, yet
    /// every module's own output is still reported (`namedOutputs` calls the modules one by one)
    /// and gives the same final output; the same holds with gradients recorded.
    @Test(arguments: ["resnet18", "resnet50"])
    func fusedResidualBlocksStillReportEveryModule(name: String) throws {
        let model = try Zoo.entry(name).build(classes: 10, seed: 7)
        try Self.randomizeBatchNorms(model, seed: 8)
        var g = SeededGenerator(seed: 9)
        let x = try Tensor.randomNormal([2, 3, 32, 32], using: &g)
        _ = try model.fuseForInference(exampleInput: x)
        let fused = try withGradientsDisabled { try model(x) }
        let outputs = try model.namedOutputs(x)
        let last = name == "resnet18" ? "layer4.1.conv2" : "layer4.2.conv3"
        #expect(outputs.contains { $0.path == last } && outputs.contains { $0.path == "layer1.0.downsample.0" } == (name == "resnet50"))
        expectClose(outputs.last?.output, fused, rtol: 1e-5, atol: 1e-5, "\(name) traced")
        expectClose(try model(x), fused, rtol: 1e-5, atol: 1e-5, "\(name) recorded")
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

/// Fusing the activation that follows a (folded) convolution into its stores
/// (`Convolution.fusedActivation`): found where a ReLU or ReLU6 is the output's only use,
/// never where the output also goes elsewhere, and the same numbers and gradients either way.
@Suite struct ActivationFusionTests {
    static func fusedConvolutions(_ model: any Module) -> [String: OutputClamp] {
        var found: [String: OutputClamp] = [:]
        for (path, module) in model.namedModules() {
            if let conv = module as? Convolution, let activation = conv.fusedActivation { found[path] = activation }
        }
        return found
    }

    /// ResNet-18: the stem and each block's first convolution (its ReLU is a tensor method in
    /// the block's code), not the second (added to the shortcut first) nor the downsamples.
    /// MobileNetV2: every convolution followed by ReLU6 (stem, expansions, depthwise, last).
    @Test func zooModelsFuseWhereTheActivationIsTheOnlyUse() throws {
        let resnet = try Zoo.entry("resnet18").build(classes: 10, seed: 1)
        try resnet.fuseForInference(exampleInput: try Tensor.zeros([1, 3, 32, 32]))
        let r = Self.fusedConvolutions(resnet)
        #expect(r.count == 9 && r["conv1"] == .relu && r["layer1.0.conv1"] == .relu && r["layer4.1.conv1"] == .relu, "\(r.keys.sorted())")
        #expect(r["layer1.0.conv2"] == nil && r["layer2.0.downsample.0"] == nil)
        let mobile = try Zoo.entry("mobilenet_v2").build(classes: 10, seed: 1)
        try mobile.fuseForInference(exampleInput: try Tensor.zeros([1, 3, 32, 32]))
        let m = Self.fusedConvolutions(mobile)
        #expect(m.count == 35 && m.values.allSatisfy { $0 == .relu6 }, "\(m.count)")
        let efficient = try Zoo.entry("efficientnet_b0").build(classes: 10, seed: 1)
        try efficient.fuseForInference(exampleInput: try Tensor.zeros([1, 3, 32, 32]))
        #expect(Self.fusedConvolutions(efficient).isEmpty)  // SiLU is not fused
    }

    /// The fused course CNN gives the unfused outputs, and the ReLU after a fused convolution
    /// returns its input as it is when nothing is recorded; with gradients recorded (an input
    /// that requires one) the clamp is a recorded op and the input gradient is the unfused one.
    @Test func fusedCourseCNNMatchesOutputsAndGradients() throws {
        let fused = try Zoo.courseCNN(seed: 4), plain = try Zoo.courseCNN(seed: 4)
        var g = SeededGenerator(seed: 5)
        let x = try Tensor.randomNormal([3, 1, 28, 28], using: &g)
        try fused.fuseForInference(exampleInput: x)
        #expect(Self.fusedConvolutions(fused).count == 3)
        plain.eval()
        let y = try Tensor.randomNormal([3, 1, 28, 28], using: &g)
        expectClose(try withGradientsDisabled { try fused(y) }, try withGradientsDisabled { try plain(y) }, rtol: 1e-5, atol: 1e-6, "fused")
        let conv = try #require(fused.namedModules().compactMap { $0.module as? Convolution }.first)
        let out = try withGradientsDisabled { try conv(y) }
        #expect(out.scalars.allSatisfy { $0 >= 0 } && withGradientsDisabled { out.relu() } === out)
        let a = try Tensor(shape: y.shape, scalars: y.scalars, requiresGrad: true)
        let b = try Tensor(shape: y.shape, scalars: y.scalars, requiresGrad: true)
        try fused(a).sum().backward()
        try plain(b).sum().backward()
        expectClose(try #require(a.grad), try #require(b.grad), rtol: 1e-4, atol: 1e-5, "input gradient")
    }

    /// A convolution whose output goes to a ReLU and elsewhere keeps its output unclamped.
    @Test func anOutputWithAnotherUseIsNotFused() throws {
        final class Twice: Module {
            let conv: Conv2d
            init(_ conv: Conv2d) { self.conv = conv }
            func callAsFunction(_ input: Tensor) throws -> Tensor {
                let c = try conv.forward(input)
                return try c.relu() + c
            }
            var children: [(name: String, module: any Module)] { [("conv", conv)] }
        }
        let model = Twice(try Conv2d(1, 2, kernelSize: 3, padding: 1))
        var g = SeededGenerator(seed: 7)
        let x = try Tensor.randomNormal([1, 1, 6, 6], using: &g)
        let before = try withGradientsDisabled { try model(x) }
        #expect(try model.fuseForInference(exampleInput: x).isEmpty)
        #expect(model.conv.fusedActivation == nil)
        #expect(try withGradientsDisabled { try model(x) }.scalars == before.scalars)
    }
}
