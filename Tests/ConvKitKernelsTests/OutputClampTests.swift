import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// The fused-activation epilogue (`ConvolutionKernel.forward(…, clamp:)`): on every forward
/// path (direct line blocks, gathered tiles, Winograd output rows, depthwise, pointwise and im2col GEMMs, one
/// or several line blocks, batch below and above the core count) the output is exactly the
/// unclamped output clamped element by element, NaN included. Run at every kernel level by CI.
@Suite struct OutputClampTests {
    static let cases: [(ConvGeometry, ConvolutionAlgorithm, ConvolutionPlan.Algorithm)] = [
        (ConvolutionPlanTests.geometry(c: 8, k: 20, size: 30), ConvolutionAlgorithm.direct, ConvolutionPlan.Algorithm.direct),  // 20 = 16 + 4 channels
        (ConvolutionPlanTests.geometry(n: 1, c: 8, k: 20, size: 130), .direct, .direct),  // several line blocks, lines split between workers
        (ConvolutionPlanTests.geometry(n: 1, c: 192, k: 56, size: 14, kernel: 1, pad: 0), .automatic, .direct),  // channel panels split between workers
        (ConvolutionPlanTests.geometry(c: 9, k: 13, size: 22), .winograd, .winograd),  // partial last tile rows
        (ConvolutionPlanTests.geometry(c: 12, k: 12, size: 17, groups: 12), .automatic, .depthwise),
        (ConvolutionPlanTests.geometry(c: 9, k: 14, size: 7, kernel: 1, pad: 0), .automatic, .pointwise),  // < 16 channels: not gathered
        (ConvolutionPlanTests.geometry(n: 3, c: 9, k: 40, size: 7), .automatic, .gathered),  // 32 + 8 channels, 147 = 18⅜ tiles of 8
        (ConvolutionPlanTests.geometry(n: 3, c: 5, k: 7, size: 11, stride: 2), .automatic, .im2colGEMM),
    ]

    @Test(arguments: cases)
    func clampedOutputIsTheOutputClamped(geometry: ConvGeometry, algorithm: ConvolutionAlgorithm, path: ConvolutionPlan.Algorithm) throws {
        var g = geometry
        g.algorithm = algorithm
        // The path each case is meant to exercise (on this CPU; other levels may choose others).
        #expect(ConvolutionPlanTests.level != "best" || ConvolutionPlan(g).forward == path, "\(ConvolutionPlan(g).forward)")
        var x = TestRandom.values(g.inputCount, seed: 41).map { $0 * 3 }
        x[g.inputCount / 2] = .nan  // reaches some outputs as NaN, which pass through the clamp
        let w = TestRandom.values(g.weightCount, seed: 42), b = TestRandom.values(g.outChannels, seed: 43)
        var ws = [Float](repeating: 0, count: max(ConvolutionKernel.workspaceCount(g), 1))
        var plain = [Float](repeating: 0, count: g.outputCount)
        ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &plain, workspace: &ws)
        #expect(OutputClamp(lower: 1, upper: 1) == nil && OutputClamp(lower: .nan, upper: 1) == nil && OutputClamp(lower: 0, upper: .nan) == nil)
        for bounds in [OutputClamp.relu, .relu6, try #require(OutputClamp(lower: -0.5, upper: 0.25))] {
            var clamped = [Float](repeating: 7, count: g.outputCount)
            ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &clamped, workspace: &ws, clamp: bounds)
            var wrong = 0, nans = 0
            for (p, c) in zip(plain, clamped) {
                if p.isNaN { nans += 1 }
                let expected = p.isNaN ? p : Swift.min(Swift.max(p, bounds.lower), bounds.upper)
                if expected.isNaN ? !c.isNaN : c != expected { wrong += 1 }
            }
            #expect(wrong == 0, "\(ConvolutionPlan(g).forward) \(bounds): \(wrong) of \(plain.count) differ")
            #expect(nans > 0 && plain.contains { $0 < bounds.lower })  // the clamp had something to do
        }
    }

    /// With a residual (a residual block's shortcut), the output is the plain output plus the
    /// residual, then clamped, element by element and bit for bit, on every path, with and
    /// without a clamp; the gathered case's 147 positions per pass span all three items.
    @Test(arguments: cases)
    func residualIsAddedBeforeTheClamp(geometry: ConvGeometry, algorithm: ConvolutionAlgorithm, path: ConvolutionPlan.Algorithm) throws {
        var g = geometry
        g.algorithm = algorithm
        #expect(ConvolutionPlanTests.level != "best" || ConvolutionPlan(g).forward == path, "\(ConvolutionPlan(g).forward)")
        let x = TestRandom.values(g.inputCount, seed: 44), w = TestRandom.values(g.weightCount, seed: 45)
        let b = TestRandom.values(g.outChannels, seed: 46), r = TestRandom.values(g.outputCount, seed: 47).map { $0 * 2 }
        var ws = [Float](repeating: 0, count: max(ConvolutionKernel.workspaceCount(g), 1))
        var plain = [Float](repeating: 0, count: g.outputCount)
        ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &plain, workspace: &ws)
        for bounds in [nil, OutputClamp.relu, .relu6] {
            var fused = [Float](repeating: 7, count: g.outputCount)
            ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &fused, workspace: &ws, clamp: bounds, residual: r)
            let expected = zip(plain, r).map { p, q in bounds.map { Swift.min(Swift.max(p + q, $0.lower), $0.upper) } ?? p + q }
            let wrong = zip(fused, expected).filter { $0 != $1 }.count
            #expect(wrong == 0, "\(ConvolutionPlan(g).forward) \(String(describing: bounds)): \(wrong) of \(plain.count) differ")
        }
    }
}
