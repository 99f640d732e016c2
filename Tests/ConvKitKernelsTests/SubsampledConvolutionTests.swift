import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// 1 × 1 convolutions with a stride above 1 run as stride-1 convolutions on the subsampled input
/// (`ConvolutionKernel.subsampledGeometry`): against the definition in 1-D, 2-D and 3-D, strides
/// 2 and 3 (odd sizes, so the last position of a line is read), groups, a bias, a residual and a
/// ReLU, with and without prepared weights; and the plan says so.
@Suite struct SubsampledConvolutionTests {
    static let geometries: [ConvGeometry] = [
        ConvGeometry(batch: 2, inChannels: 24, outChannels: 40, inputSize: [29, 31], kernelSize: [1, 1], stride: [2, 2],
                     dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
        ConvGeometry(batch: 1, inChannels: 64, outChannels: 128, inputSize: [56, 56], kernelSize: [1, 1], stride: [2, 2],
                     dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
        ConvGeometry(batch: 3, inChannels: 16, outChannels: 8, inputSize: [13, 14], kernelSize: [1, 1], stride: [3, 2],
                     dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
        ConvGeometry(batch: 2, inChannels: 12, outChannels: 18, groups: 3, inputSize: [15, 9], kernelSize: [1, 1], stride: [2, 2],
                     dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
        ConvGeometry(batch: 2, inChannels: 10, outChannels: 20, inputSize: [101], kernelSize: [1], stride: [2],
                     dilation: [1], padBefore: [0], padAfter: [0]),
        ConvGeometry(batch: 1, inChannels: 8, outChannels: 16, inputSize: [7, 9, 11], kernelSize: [1, 1, 1], stride: [2, 1, 2],
                     dilation: [1, 1, 1], padBefore: [0, 0, 0], padAfter: [0, 0, 0]),
    ]

    @Test(arguments: 0..<geometries.count) func matchesTheDefinition(index: Int) {
        let g = Self.geometries[index]
        #expect(ConvolutionPlan(g).forwardSubsamples, "\(g)")
        var random = TestRandom(seed: 50 + UInt64(index))
        let x = random.values(g.inputCount), w = random.values(g.weightCount), bias = random.values(g.outChannels)
        let residual = random.values(g.outputCount)
        let expected = zip(ReferenceConvolution.forward(g, x: x, w: w, bias: bias), residual).map { max($0 + $1, 0) }
        var prepared = [Float](repeating: .nan, count: ConvolutionKernel.preparedWeightLayout(g)?.count ?? 0)
        if !prepared.isEmpty {
            w.withUnsafeBufferPointer { pw in prepared.withUnsafeMutableBufferPointer { ConvolutionKernel.prepareWeight(g, weight: pw.baseAddress!, into: $0.baseAddress!) } }
        }
        for usePrepared in [false, true] where usePrepared == false || !prepared.isEmpty {
            var y = [Float](repeating: .nan, count: g.outputCount)
            var workspace = [Float](repeating: .nan, count: ConvolutionKernel.workspaceCount(g))
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in bias.withUnsafeBufferPointer { pb in
                residual.withUnsafeBufferPointer { pr in prepared.withUnsafeBufferPointer { pp in
                    y.withUnsafeMutableBufferPointer { py in workspace.withUnsafeMutableBufferPointer { ws in
                        ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!,
                                                  output: py.baseAddress!, workspace: ws.baseAddress!, clamp: .relu,
                                                  prepared: usePrepared ? pp.baseAddress! : nil, residual: pr.baseAddress!)
                    }}
                }}
            }}}
            let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-20)
            let error = zip(y, expected).map { $0.isNaN ? Float.infinity : abs($0 - $1) }.max()! / scale
            #expect(error < 1e-5, "\(g), prepared \(usePrepared): error \(error)")
        }
    }

    /// Padding or a wider kernel keeps the stride in the tiles.
    @Test func onlyUnpaddedPointwiseLayersSubsample() {
        let padded = ConvGeometry(batch: 1, inChannels: 8, outChannels: 8, inputSize: [9, 9], kernelSize: [1, 1], stride: [2, 2],
                                  dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
        let wide = ConvGeometry(batch: 1, inChannels: 8, outChannels: 8, inputSize: [9, 9], kernelSize: [3, 3], stride: [2, 2],
                                dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
        let unit = ConvGeometry(batch: 1, inChannels: 8, outChannels: 8, inputSize: [9, 9], kernelSize: [1, 1], stride: [1, 1],
                                dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
        #expect(!ConvolutionPlan(padded).forwardSubsamples && !ConvolutionPlan(wide).forwardSubsamples && !ConvolutionPlan(unit).forwardSubsamples)
        #expect(ConvolutionPlan(ConvGeometry(batch: 1, inChannels: 8, outChannels: 8, inputSize: [9, 9], kernelSize: [1, 1], stride: [2, 2],
                                             dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])).description.contains("subsampled input"))
    }
}
