import ConvKit
import Testing

/// A layer's `algorithm`: Winograd and the direct kernels give the same outputs and gradients
/// within the oracle tolerance, the plan follows the choice, and the course CNN's trained
/// weights classify the bundled test digits identically either way.
@Suite struct ConvolutionAlgorithmTests {
    @Test func winogradLayerMatchesDirect() throws {
        var g = SeededGenerator(seed: 7)
        let x = try Tensor.randomNormal([2, 64, 19, 23], using: &g), dy = try Tensor.randomNormal([2, 48, 19, 23], using: &g)
        var results: [[Tensor?]] = []
        for algorithm in [ConvolutionAlgorithm.direct, .winograd] {
            var init_ = SeededGenerator(seed: 8)
            let conv = try Conv2d(64, 48, kernelSize: 3, padding: 1, using: &init_)
            conv.algorithm = algorithm
            let input = try Tensor(shape: x.shape, scalars: x.scalars, requiresGrad: true)
            let y = try conv(input)
            // A fixed output gradient, so the gradients compare the backward passes alone.
            try y.backward(gradient: dy)
            results.append([y, input.grad, conv.weight.grad, conv.bias?.grad])
        }
        for (i, name) in ["output", "input gradient", "weight gradient", "bias gradient"].enumerated() {
            // A weight gradient sums 874 products per element, so its small elements are differences
            // of large sums: compared within 2e-5 of the gradient's scale (WinogradTests has the
            // error of each direction against float64).
            let scale = results[0][i].map { t in t.scalars.map { abs($0) }.max() ?? 0 } ?? 0
            expectClose(results[1][i], results[0][i], atol: max(1e-5, 2e-5 * scale), "winograd \(name)")
        }
        let plan = { (a: ConvolutionAlgorithm) in
            try convolutionPlan(inputShape: [2, 64, 19, 23], weightShape: [48, 64, 3, 3], padding: 1, algorithm: a)
        }
        #expect(try plan(.winograd).forward == .winograd && plan(.winograd).flippedForward == .winograd)
        #expect(try plan(.direct).forward != .winograd && plan(.direct).flippedForward != .winograd)
    }

    @Test func trainedCourseCNNClassifiesAlikeWithWinograd() throws {
        let test = try MNIST.bundled(.test, normalized: true)
        let x = test.batch(0..<200).images
        var logits: [Tensor] = []
        for algorithm in [ConvolutionAlgorithm.direct, .winograd] {
            let model = try Zoo.bundledCourseCNN()
            model.eval()
            for case let conv as Conv2d in model.namedModules().map({ $0.module }) { conv.algorithm = algorithm }
            logits.append(try withGradientsDisabled { try model(x) })
        }
        expectClose(logits[1], logits[0], "course CNN logits")
        let predictions = logits.map { l in (0..<200).map { i in (0..<10).max { l.scalars[i * 10 + $0] < l.scalars[i * 10 + $1] }! } }
        #expect(predictions[0] == predictions[1])
    }
}
