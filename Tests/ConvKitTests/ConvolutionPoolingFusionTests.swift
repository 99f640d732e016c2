import ConvKit
import Testing
import _ConvKitKernels

/// `Sequential` runs Conv2d → (ReLU →) MaxPool2d(2) as one op where the convolution takes the
/// direct or Winograd path (`Convolution.pooled`: each block of output lines clamped and pooled
/// as it is stored), and a convolution (any rank) → ReLU as one op clamping in its stores.
/// Against the modules called one by one: outputs, and the gradients of the input, weight and
/// bias, equal bit for bit, in training and in inference, with and without the ReLU, batched and
/// unbatched, for a layer fused for inference (its ReLU clamped in the stores), and where neither
/// pooled path runs (portable builds without `.winograd`: the separate ops).
/// Traced calls (`namedOutputs`) keep every module's own output.
@Suite struct ConvolutionPoolingFusionTests {
    static func sameBits(_ a: Tensor?, _ b: Tensor?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// (in channels, out channels, input shape (its rank picks Conv1d/2d/3d), with ReLU, with the
    /// pool, algorithm)
    @Test(arguments: [
        (3, 20, [2, 3, 14, 14], true, true, ConvolutionAlgorithm.automatic), (1, 32, [1, 1, 28, 28], true, true, .automatic),
        (32, 32, [1, 32, 28, 28], true, true, .automatic), (4, 9, [2, 4, 13, 17], false, true, .automatic),
        (2, 5, [2, 15, 16], false, true, .automatic), (64, 64, [2, 64, 28, 28], false, true, .winograd),
        (16, 16, [2, 16, 14, 14], true, true, .winograd), (1, 32, [2, 1, 28, 28], true, false, .automatic),
        (8, 8, [2, 8, 12, 12], true, false, .winograd), (3, 6, [2, 3, 40], true, false, .automatic),
        (2, 4, [1, 2, 6, 7, 5], true, false, .automatic), (9, 5, [3, 9, 11], true, false, .direct),
    ])
    func fusedEqualsTheModulesOneByOne(c: Int, k: Int, shape: [Int], relu: Bool, pool: Bool, algorithm: ConvolutionAlgorithm) throws {
        let rank = shape.count == 3 && !pool ? 1 : shape.count == 5 ? 3 : 2
        func layers() throws -> [any Module] {
            var g = SeededGenerator(seed: 7)
            let conv: Convolution = rank == 1 ? try Conv1d(c, k, kernelSize: 3, padding: 1, using: &g)
                : rank == 3 ? try Conv3d(c, k, kernelSize: 3, padding: 1, using: &g) : try Conv2d(c, k, kernelSize: 3, padding: 1, using: &g)
            conv.algorithm = algorithm
            return [conv] + (relu ? [ReLU()] : []) + (pool ? [MaxPool2d(kernelSize: 2)] : [])
        }
        for training in [true, false] {
            func run(fused: Bool) throws -> [Tensor?] {
                let modules = try layers(), conv = modules[0] as! Convolution
                let x = try seededTensor(shape, seed: 1, requiresGrad: training)  // (C, H, W) unbatched
                let y = fused ? try Sequential(modules)(x) : try modules.reduce(x) { try $1.forward($0) }
                guard training else { return [y] }
                if fused, pool, shape.count == 4 {  // (unbatched results end in a squeeze)
                    // The pooled convolution ran where the path is the direct or Winograd one, the two
                    // ops elsewhere (no direct path without a micro-kernel: portable builds run the two
                    // ops unless Winograd is asked for).
                    #expect((y.gradFunction == "Conv2d+maxPool2d") == (algorithm == .winograd || MicroKernel.isAvailable),
                            "\(shape): \(y.gradFunction ?? "nil")")
                }
                if fused, !pool, shape.count == rank + 2 {
                    #expect(y.gradFunction == "Conv\(rank)d+relu", "\(shape): \(y.gradFunction ?? "nil")")
                }
                try y.backward(gradient: try seededTensor(y.shape, seed: 2))
                return [y, x.grad, conv.weight.grad, conv.bias?.grad]
            }
            let (fused, separate) = (try run(fused: true), try run(fused: false))
            for (i, name) in ["output", "input gradient", "weight gradient", "bias gradient"].prefix(fused.count).enumerated() {
                #expect(Self.sameBits(fused[i], separate[i]), "\(shape) relu \(relu) pool \(pool) \(algorithm) training \(training): \(name)")
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
