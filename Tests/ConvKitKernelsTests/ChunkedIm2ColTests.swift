import Testing
import _ConvKitKernels

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

    /// y, dx and dW from the definition, in Double (padding modes through `source`).
    static func direct(_ g: ConvGeometry, x: [Float], w: [Float], b: [Float], dy: [Float]) -> (y: [Float], dx: [Float], dw: [Float]) {
        let r = 3 - g.rank
        let n = [Int](repeating: 1, count: r) + g.inputSize, out = [Int](repeating: 1, count: r) + g.outputSize
        let k = [Int](repeating: 1, count: r) + g.kernelSize, s = [Int](repeating: 1, count: r) + g.stride
        let p = [Int](repeating: 0, count: r) + g.padBefore
        func source(_ i: Int, _ len: Int) -> Int? {
            if (0..<len).contains(i) { return i }
            if g.paddingMode == .reflect { return i < 0 ? -i : 2 * (len - 1) - i }
            return nil
        }
        var y = [Double](repeating: 0, count: g.outputCount), dx = [Double](repeating: 0, count: g.inputCount)
        var dw = [Double](repeating: 0, count: g.weightCount)
        let (plane, outPlane, kv) = (n[0] * n[1] * n[2], out[0] * out[1] * out[2], g.kernelVolume)
        for bi in 0..<g.batch { for ko in 0..<g.outChannels { for ci in 0..<g.inChannels {
            for o0 in 0..<out[0] { for o1 in 0..<out[1] { for o2 in 0..<out[2] {
                let yi = (bi * g.outChannels + ko) * outPlane + (o0 * out[1] + o1) * out[2] + o2
                for t0 in 0..<k[0] { for t1 in 0..<k[1] { for t2 in 0..<k[2] {
                    guard let i0 = source(o0 * s[0] - p[0] + t0, n[0]), let i1 = source(o1 * s[1] - p[1] + t1, n[1]),
                          let i2 = source(o2 * s[2] - p[2] + t2, n[2]) else { continue }
                    let xi = (bi * g.inChannels + ci) * plane + (i0 * n[1] + i1) * n[2] + i2
                    let wi = (ko * g.inChannels + ci) * kv + (t0 * k[1] + t1) * k[2] + t2
                    y[yi] += Double(w[wi]) * Double(x[xi])
                    dx[xi] += Double(w[wi]) * Double(dy[yi])
                    dw[wi] += Double(dy[yi]) * Double(x[xi])
                }}}
            }}}
        }}}
        for bi in 0..<g.batch { for ko in 0..<g.outChannels { for o in 0..<outPlane { y[(bi * g.outChannels + ko) * outPlane + o] += Double(b[ko]) } } }
        return (y.map(Float.init), dx.map(Float.init), dw.map(Float.init))
    }

    @Test(arguments: 0..<cases.count)
    func chunkedConvolutionMatchesTheDefinition(index: Int) {
        let g = Self.cases[index].g
        #expect(g.columnRows * g.outputPlane > 1 << 19, "the case must be large enough to chunk")
        let x = GEMMTests.values(g.inputCount, seed: 21), w = GEMMTests.values(g.weightCount, seed: 22)
        let b = GEMMTests.values(g.outChannels, seed: 23), dy = GEMMTests.values(g.outputCount, seed: 24)
        var y = [Float](repeating: .nan, count: g.outputCount), dx = [Float](repeating: .nan, count: g.inputCount)
        var dw = [Float](repeating: .nan, count: g.weightCount)
        var ws = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        ws.withUnsafeMutableBufferPointer { ws in
            let ws = ws.baseAddress!
            ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: &y, workspace: ws)
            ConvolutionKernel.backwardInput(g, gradOutput: dy, weight: w, gradInput: &dx, workspace: ws)
            ConvolutionKernel.backwardWeight(g, input: x, gradOutput: dy, gradWeight: &dw, workspace: ws)
        }
        let expected = Self.direct(g, x: x, w: w, b: b, dy: dy)
        for (name, got, want) in [("forward", y, expected.y), ("input gradient", dx, expected.dx), ("weight gradient", dw, expected.dw)] {
            let worst = zip(got, want).map { $0.isNaN ? .infinity : abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-4, "\(name), \(g): error \(worst)")
        }
    }
}
