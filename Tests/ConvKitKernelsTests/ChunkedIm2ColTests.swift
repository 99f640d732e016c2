import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Convolutions whose column matrix exceeds 2 MiB gather a few output lines at a time
/// (`ConvolutionKernel.chunkLines`), and stride-2 interiors are copied with even-lane
/// shuffles. Forward, input gradient (scatter path) and weight gradient are checked against
/// loops written from the definition on geometries that make several chunks and a remainder
/// chunk: 7 × 7 stride 2 (odd width), 3 × 3 reflect, rank 3 with mixed strides, and a long
/// rank-1 signal (one line, never chunked).
@Suite struct ChunkedIm2ColTests {
    struct Case {
        let g: ConvGeometry
        init(n: Int, c: Int, k: Int, size: [Int], kernel: [Int], stride: [Int], pad: Int, mode: PaddingMode = .zeros) {
            g = ConvGeometry(batch: n, inChannels: c, outChannels: k, inputSize: size, kernelSize: kernel, stride: stride,
                             dilation: kernel.map { _ in 1 }, padBefore: kernel.map { _ in pad },
                             padAfter: kernel.map { _ in pad }, paddingMode: mode)
        }
    }

    static let cases = [
        Case(n: 2, c: 3, k: 5, size: [201, 203], kernel: [7, 7], stride: [2, 2], pad: 3),
        Case(n: 1, c: 4, k: 3, size: [150, 190], kernel: [3, 3], stride: [1, 1], pad: 1, mode: .reflect),
        Case(n: 1, c: 2, k: 2, size: [20, 60, 61], kernel: [3, 3, 3], stride: [1, 2, 2], pad: 1),
        Case(n: 1, c: 3, k: 2, size: [200_001], kernel: [5], stride: [2], pad: 2),
    ]

    @Test(arguments: 0..<cases.count)
    func chunkedConvolutionMatchesTheDefinition(index: Int) {
        let g = Self.cases[index].g
        #expect(g.columnRows * g.outputPlane > 1 << 19, "the case must be large enough to chunk")
        let x = TestRandom.values(g.inputCount, seed: 21), w = TestRandom.values(g.weightCount, seed: 22)
        let b = TestRandom.values(g.outChannels, seed: 23), dy = TestRandom.values(g.outputCount, seed: 24)
        var y = [Float](repeating: .nan, count: g.outputCount), dx = [Float](repeating: .nan, count: g.inputCount)
        var dw = [Float](repeating: .nan, count: g.weightCount)
        var ws = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        ws.withUnsafeMutableBufferPointer { ws in
            let ws = ws.baseAddress!
            ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &y, workspace: ws)
            ConvolutionKernel.backwardInput(g, gradOutput: dy, weight: w, gradInput: &dx, workspace: ws)
            ConvolutionKernel.backwardWeight(g, input: x, gradOutput: dy, gradWeight: &dw, workspace: ws)
        }
        let expected = (y: ReferenceConvolution.forward(g, x: x, w: w, bias: b), dx: ReferenceConvolution.inputGradient(g, w: w, dy: dy),
                        dw: ReferenceConvolution.weightGradient(g, x: x, dy: dy))
        for (name, got, want) in [("forward", y, expected.y), ("input gradient", dx, expected.dx), ("weight gradient", dw, expected.dw)] {
            let worst = zip(got, want).map { $0.isNaN ? .infinity : abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-4, "\(name), \(g): error \(worst)")
        }
    }
}
