import ConvKit
import Testing

/// The README's "taste of the API" snippet, verbatim, so the README stays true.
@Suite struct ReadmeExampleTests {
    @Test func readmeSnippetRuns() throws {
        var rng = SeededGenerator(seed: 0)
        let x = try Tensor.randomNormal([8, 1, 28, 28], using: &rng)                  // (N, C, H, W)
        let w = try Tensor.randomNormal([32, 1, 3, 3], std: 0.3, using: &rng, requiresGrad: true)
        let b = try Tensor.zeros([32], requiresGrad: true)

        let h = try conv2d(x, weight: w, bias: b, padding: .same, paddingMode: .reflect).relu()
        let p = try maxPool2d(h, kernelSize: 2)                                           // (8, 32, 14, 14)
        let loss = try crossEntropy(try p.mean(axes: [2, 3]), targets: Array(repeating: 3, count: 8))
        try loss.backward()                                                               // fills w.grad, b.grad

        #expect(p.shape == [8, 32, 14, 14])
        #expect(w.grad?.shape == [32, 1, 3, 3])
        #expect(b.grad?.scalars.contains { $0 != 0 } == true)
        expectError(containing: "conv2d: input has 3 channels but weight expects 4 (4 per group × groups 1)") {
            try conv2d(try Tensor.zeros([1, 3, 5, 5]), weight: try Tensor.zeros([2, 4, 3, 3]))
        }
        expectError(containing: "conv2d: padding 'same' requires stride 1, got stride [2, 2]") {
            try conv2d(x, weight: w, stride: 2, padding: .same)
        }
    }
}
