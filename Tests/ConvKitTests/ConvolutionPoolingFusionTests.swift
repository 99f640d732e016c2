import ConvKit
import Testing
import _ConvKitKernels

/// `Sequential` runs Conv2d → (ReLU →) MaxPool2d(2) as one op where the convolution takes the
/// direct or Winograd path (`Convolution.pooled`: each block of output lines pooled as it is
/// stored, the ReLU on the pooled map). Against the modules called one by one: outputs, and the
/// gradients of the input, weight and bias, equal bit for bit, in training and in inference,
/// with and without the ReLU, batched and unbatched, for a layer fused for inference (its ReLU
/// clamped in the stores), and where neither path runs (portable builds without `.winograd`:
/// the separate ops).
/// Traced calls (`namedOutputs`) keep every module's own output.
@Suite struct ConvolutionPoolingFusionTests {
    static func sameBits(_ a: Tensor?, _ b: Tensor?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// (in channels, out channels, input shape, with ReLU, algorithm)
    @Test(arguments: [
        (3, 20, [2, 3, 14, 14], true, ConvolutionAlgorithm.automatic), (1, 32, [1, 1, 28, 28], true, .automatic),
        (32, 32, [1, 32, 28, 28], true, .automatic), (4, 9, [2, 4, 13, 17], false, .automatic),
        (2, 5, [2, 15, 16], false, .automatic), (64, 64, [2, 64, 28, 28], false, .winograd),
    ])
    func fusedEqualsTheModulesOneByOne(c: Int, k: Int, shape: [Int], relu: Bool, algorithm: ConvolutionAlgorithm) throws {
        func layers() throws -> [any Module] {
            var g = SeededGenerator(seed: 7)
            let conv = try Conv2d(c, k, kernelSize: 3, padding: 1, using: &g)
            conv.algorithm = algorithm
            return relu ? [conv, ReLU(), MaxPool2d(kernelSize: 2)] : [conv, MaxPool2d(kernelSize: 2)]
        }
        for training in [true, false] {
            func run(fused: Bool) throws -> [Tensor?] {
                let modules = try layers(), conv = modules[0] as! Conv2d
                let x = try seededTensor(shape, seed: 1, requiresGrad: training)  // (C, H, W) unbatched
                let y = fused ? try Sequential(modules)(x) : try modules.reduce(x) { try $1.forward($0) }
                guard training else { return [y] }
                if fused, !relu, shape.count == 4 {  // (unbatched results end in a squeeze)
                    // The pooled convolution ran where the path is the direct or Winograd one, the two
                    // ops elsewhere (no direct path without a micro-kernel: portable builds run the two
                    // ops unless Winograd is asked for).
                    #expect((y.gradFunction == "Conv2d+maxPool2d") == (algorithm == .winograd || MicroKernel.isAvailable),
                            "\(shape): \(y.gradFunction ?? "nil")")
                }
                try y.backward(gradient: try seededTensor(y.shape, seed: 2))
                return [y, x.grad, conv.weight.grad, conv.bias?.grad]
            }
            let (fused, separate) = (try run(fused: true), try run(fused: false))
            for (i, name) in ["output", "input gradient", "weight gradient", "bias gradient"].prefix(fused.count).enumerated() {
                #expect(Self.sameBits(fused[i], separate[i]), "\(shape) relu \(relu) \(algorithm) training \(training): \(name)")
            }
        }
    }

    /// A model fused for inference (its convolutions clamp their ReLU as they store) pools the
    /// clamped output: the same logits as before fusing.
    @Test func inferenceFusedModelPoolsTheClampedOutput() throws {
        let model = try Zoo.courseCNN(seed: 3)
        let x = try seededTensor([4, 1, 28, 28], seed: 5)
        let before = try withGradientsDisabled { try model(x) }
        try model.fuseForInference(exampleInput: x)
        let after = try withGradientsDisabled { try model(x) }
        #expect(Self.sameBits(before, after))
    }

    /// While a trace watches module calls, each module runs on its own and is seen.
    @Test func tracedCallsSeeEveryModule() throws {
        var g = SeededGenerator(seed: 4)
        let model = Sequential([try Conv2d(1, 4, kernelSize: 3, padding: 1, using: &g), ReLU(), MaxPool2d(kernelSize: 2)])
        let x = try seededTensor([2, 1, 14, 14], seed: 3)
        let outputs = try model.namedOutputs(x)
        #expect(outputs.map(\.path) == ["0", "1", "2", ""])
        #expect(outputs[0].output.shape == [2, 4, 14, 14] && outputs[2].output.shape == [2, 4, 7, 7])
        #expect(Self.sameBits(outputs[3].output, try withGradientsDisabled { try model(x) }))
    }
}
