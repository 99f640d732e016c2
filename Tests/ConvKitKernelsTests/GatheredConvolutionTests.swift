import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Forward passes with lines narrower than 12 (and at least half a panel of output channels per
/// group) run as gathered tiles, output channels on the vector lanes and positions taken from
/// anywhere in the padded batch (`Convolution+Gathered.swift`), and so do their weight
/// gradients (`Convolution+GatheredWeightGradient.swift`) and the input gradients of stride-1
/// layers whose flipped forward pass has such lines. Checked against loops written from
/// the definition, in Double, on random geometries that reach every branch: ranks 1–3, groups,
/// dilation, strides 1–4 (the last axis split into phases), every padding mode, widths 1–11,
/// output channels that fill one panel, leave a partial one or several, a last tile of
/// positions (or column-matrix rows) that is partial, bias or none, batches split into passes,
/// forward work split between workers by panels or by positions, and weight-gradient sums over
/// more positions than one register chain holds (`gatheredChain`). Run at every kernel level by CI (portable: other paths).
@Suite struct GatheredConvolutionTests {
    static var gathers: Bool { ConvolutionPlanTests.level != "portable" }

    /// The plan takes the gathered tiles (where the CPU has them); then forward pass and weight
    /// gradient against the definition, as for the direct tiles.
    static func check(_ g: ConvGeometry, withBias: Bool, values: (Int) -> [Float]) {
        let plan = ConvolutionPlan(g)
        if gathers { #expect(plan.forward == .gathered && plan.weightGradient == .gathered, "\(g): \(plan)") }
        DirectConvolutionTests.check(g, withBias: withBias, values: values)
    }

    @Test func forwardAndWeightGradientMatchTheDefinition() {
        var random = TestRandom(seed: 23)
        func values(_ count: Int) -> [Float] { random.values(count) }
        var (widths, channels, checked) = (Set<Int>(), Set<Int>(), 0)
        for trial in 0..<40 {
            // 16…72 output channels per group: one panel of 32 (AVX-512) or 16 (AVX2), partial ones, several.
            let g = random.convolutionGeometry(trial: trial, lastKernel: 1...4, width: 1...11, batch: 1...3, outChannels: 16...72)
            guard g.isValid, !g.outputSize.contains(0), g.outputSize.last! < 12 else { continue }
            widths.insert(g.outputSize.last!)
            channels.insert(g.outChannelsPerGroup)
            checked += 1
            Self.check(g, withBias: trial % 3 != 0, values: values)
        }
        #expect(checked >= 30 && widths.count >= 8 && channels.contains { $0 % 32 != 0 && $0 > 32 })
    }

    /// ResNet's last stage, smaller: 7 × 7 planes, 3 × 3 and 1 × 1, stride 1 and 2 into it, and
    /// the input gradient of the 3 × 3 layer (a flipped forward pass on 7-wide lines).
    @Test func sevenBySevenStageMatchesTheDefinition() {
        var seed: UInt64 = 31
        func values(_ count: Int) -> [Float] {
            seed += 1
            return TestRandom.values(count, seed: seed)
        }
        let conv3 = ConvolutionPlanTests.geometry(n: 5, c: 40, k: 80, size: 7)
        let cases = [
            conv3,
            ConvolutionPlanTests.geometry(n: 3, c: 24, k: 48, size: 14, stride: 2),
            ConvolutionPlanTests.geometry(n: 4, c: 96, k: 40, size: 7, kernel: 1, pad: 0),
            ConvolutionPlanTests.geometry(n: 3, c: 16, k: 64, size: 14, kernel: 1, stride: 2, pad: 0),
        ]
        for g in cases { Self.check(g, withBias: true, values: values) }
        if Self.gathers { #expect(ConvolutionPlan(conv3).flippedForward == .gathered, "\(ConvolutionPlan(conv3))") }
        let w = values(conv3.weightCount), dy = values(conv3.outputCount)
        let dx = KernelCalls.inputGradient(conv3, w: w, dy: dy), expected = ReferenceConvolution.inputGradient(conv3, w: w, dy: dy)
        let wrong = zip(dx, expected).filter { !(abs($0 - $1) <= 1e-4 * Float(conv3.outChannels * 9)) }
        #expect(wrong.isEmpty, "\(wrong.count) of \(dx.count) input gradients differ")
    }

    /// A batch whose padded slabs exceed one pass (`gatheredItems`), and a single item whose
    /// one panel of output channels is split between the workers by positions.
    @Test func passesAndSplitsMatchTheDefinition() {
        var random = TestRandom(seed: 37)
        func values(_ count: Int) -> [Float] { random.values(count) }
        let tall = ConvGeometry(batch: 11, inChannels: 40, outChannels: 16, inputSize: [3_000, 7], kernelSize: [1, 1],
                                stride: [1, 1], dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
        if Self.gathers { #expect(ConvolutionKernel.gatheredItems(tall) < tall.batch) }
        Self.check(tall, withBias: true, values: values)
        let single = ConvGeometry(batch: 1, inChannels: 64, outChannels: 24, inputSize: [600, 9], kernelSize: [3, 3],
                                  stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], paddingMode: .replicate)
        #expect(2 * single.outChannels * single.outputPlane * single.columnRows >= 1 << 22)  // the size at which workers split
        Self.check(single, withBias: false, values: values)
    }
}
