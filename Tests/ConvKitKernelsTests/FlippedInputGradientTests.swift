import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// The input gradient of a stride-1 convolution runs as a forward convolution with flipped
/// weights (8+ input channels per group). Checked against a direct loop written from the
/// definition on random geometries: ranks 1–3, groups, dilation, padding up to and beyond
/// the dilated kernel (beyond it the scatter path must take over), empty batches, odd sizes.
@Suite struct FlippedInputGradientTests {
    @Test func matchesTheDefinition() {
        var random = TestRandom(seed: 3)
        func next(_ n: Int) -> Int { random.next(n) }
        func values(_ count: Int) -> [Float] { random.values(count) }
        for trial in 0..<60 {
            let rank = 1 + next(3)
            let groups = 1 + next(2)
            let kernel = (0..<rank).map { _ in 1 + next(rank == 3 ? 3 : 4) }
            let dilation = (0..<rank).map { _ in 1 + next(2) }
            // Mostly within the dilated kernel (the flipped path); sometimes wider (the scatter path).
            let padBefore = (0..<rank).map { a in next(dilation[a] * (kernel[a] - 1) + (trial % 6 == 5 ? 3 : 1)) }
            let padAfter = (0..<rank).map { a in next(dilation[a] * (kernel[a] - 1) + 1) }
            let size = (0..<rank).map { a in dilation[a] * (kernel[a] - 1) + 1 + next(rank == 3 ? 4 : 9) }
            let g = ConvGeometry(
                batch: next(3), inChannels: groups * (8 + next(5)), outChannels: groups * (1 + next(5)), groups: groups,
                inputSize: size, kernelSize: kernel, stride: [Int](repeating: 1, count: rank), dilation: dilation,
                padBefore: padBefore, padAfter: padAfter)
            let dy = values(g.outputCount), w = values(g.weightCount)
            let dx = KernelCalls.inputGradient(g, w: w, dy: dy)
            let expected = ReferenceConvolution.inputGradient(g, w: w, dy: dy)
            let worst = zip(dx, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-4 && !dx.contains(where: \.isNaN), "trial \(trial): \(g): error \(worst)")
        }
    }
}
