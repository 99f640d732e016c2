import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Weights rearranged once (`ConvolutionKernel.prepareWeight`) and passed to `forward(…, prepared:)`
/// give the same output, bit for bit, as weights rearranged inside the call, on every path that
/// has them (direct with grouped and partial panels, gathered, Winograd with a partial row panel)
/// and on the paths that have none. Run at every kernel level by CI.
@Suite struct PreparedWeightTests {
    @Test(arguments: [
        (ConvolutionPlanTests.geometry(c: 8, k: 20, size: 30), ConvolutionAlgorithm.direct),  // 20 = 16 + 4 channels
        (ConvolutionPlanTests.geometry(n: 1, c: 12, k: 18, size: 40, groups: 3), .direct),  // 3 groups of 6 channels
        (ConvolutionPlanTests.geometry(n: 3, c: 9, k: 40, size: 7), .automatic),  // gathered: 32 + 8 channels
        (ConvolutionPlanTests.geometry(c: 9, k: 13, size: 22), .winograd),  // 13 filters: a partial micro-kernel row panel
        (ConvolutionPlanTests.geometry(c: 12, k: 12, size: 17, groups: 12), .automatic),  // depthwise: nothing to prepare
        (ConvolutionPlanTests.geometry(n: 3, c: 5, k: 7, size: 11, stride: 2), .automatic),  // im2col: nothing to prepare
    ])
    func preparedWeightsGiveTheSameOutput(geometry: ConvGeometry, algorithm: ConvolutionAlgorithm) throws {
        var g = geometry
        g.algorithm = algorithm
        let x = TestRandom.values(g.inputCount, seed: 51), w = TestRandom.values(g.weightCount, seed: 52)
        let b = TestRandom.values(g.outChannels, seed: 53)
        var ws = [Float](repeating: 0, count: max(ConvolutionKernel.workspaceCount(g), 1))
        var plain = [Float](repeating: 0, count: g.outputCount)
        ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &plain, workspace: &ws)
        guard let layout = ConvolutionKernel.preparedWeightLayout(g) else {
            #expect([.depthwise, .pointwise, .im2colGEMM].contains(ConvolutionPlan(g).forward))
            return
        }
        #expect(layout.algorithm == ConvolutionPlan(g).forward)
        var prepared = [Float](repeating: .nan, count: layout.count)  // every element must be written
        w.withUnsafeBufferPointer { pw in prepared.withUnsafeMutableBufferPointer { ConvolutionKernel.prepareWeight(g, weight: pw.baseAddress!, into: $0.baseAddress!) } }
        #expect(!prepared.contains { $0.isNaN }, "\(layout.algorithm): unwritten prepared weights")
        // The workspace scribbled over, so nothing left from the plain call can stand in for them.
        ws.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) }
        var output = [Float](repeating: 7, count: g.outputCount)
        // With garbage in `weight`: the prepared weights alone must carry them.
        let garbage = [Float](repeating: .nan, count: w.count)
        ConvolutionKernel.forward(g, input: x, weight: garbage, bias: b, output: &output, workspace: &ws, prepared: prepared)
        #expect(output == plain, "\(layout.algorithm): \(zip(output, plain).filter { $0 != $1 }.count) of \(plain.count) differ")
    }
}
