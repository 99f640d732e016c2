import ConvKit
import Testing

/// Tape semantics: accumulation, shared inputs, inference mode, retained and zeroed gradients.
@Suite struct AutogradTests {
    @Test func gradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor([1, 2, 3], requiresGrad: true)
        try (x * 2).sum().backward()
        try (x * 3).sum().backward()
        #expect(x.grad?.scalars == [5, 5, 5])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func sharedInputsSumTheirContributions() throws {
        // y = x·x + x  →  dy/dx = 2x + 1
        let x = try Tensor([1, -2, 0.5], requiresGrad: true)
        try (x * x + x).sum().backward()
        #expect(x.grad?.scalars == [3, -3, 2])
    }

    @Test func deepGraphsDoNotOverflowTheStack() throws {
        let x = try Tensor([1], requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1 }
        try y.sum().backward()
        #expect(x.grad?.scalars == [1])
    }

    @Test func inferenceModeRecordsNothing() throws {
        let w = try Tensor([2], requiresGrad: true)
        let y = try withGradientsDisabled { try w * w }
        #expect(!y.requiresGrad)
        #expect(y.isLeaf)
        #expect(GradMode.isRecording)
        expectError(containing: "does not require grad") { try y.sum().backward() }
    }

    @Test func retainGradKeepsIntermediateGradients() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        let h = x * 3
        h.retainGrad()
        try (h * h).sum().backward()
        #expect(h.grad?.scalars == [6, 12])
        #expect(x.grad?.scalars == [18, 36])
    }

    @Test func detachedTensorsStopGradients() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        let y = try (x.detached() * x).sum()
        try y.backward()
        #expect(x.grad?.scalars == [1, 2])
    }

    @Test func onlyInputsThatRequireGradientsReceiveThem() throws {
        let x = try Tensor.ones([1, 1, 4, 4])
        let w = try Tensor.ones([1, 1, 3, 3], requiresGrad: true)
        try conv2d(x, weight: w).sum().backward()
        #expect(x.grad == nil)
        #expect(w.grad?.scalars == Array(repeating: 4, count: 9))
    }
}
