import Testing
import _ConvKitKernels
import _ConvKitTestSupport

@Suite struct GeometryTests {
    @Test func paddingModesMapIndicesLikePyTorch() {
        // Axis [a b c d] (n = 4), indices −3…6.
        let range = Array(-3...6)
        #expect(range.map { PaddingMode.zeros.sourceIndex($0, length: 4) } == [nil, nil, nil, 0, 1, 2, 3, nil, nil, nil])
        #expect(range.map { PaddingMode.reflect.sourceIndex($0, length: 4)! } == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0])
        #expect(range.map { PaddingMode.replicate.sourceIndex($0, length: 4)! } == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3])
        #expect(range.map { PaddingMode.circular.sourceIndex($0, length: 4)! } == [1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
    }

    @Test func outputLengthFloorAndCeil() {
        #expect(ConvGeometry.outputLength(input: 28, kernel: 3, stride: 1, dilation: 1, padBefore: 1, padAfter: 1) == 28)
        #expect(ConvGeometry.outputLength(input: 7, kernel: 2, stride: 2, dilation: 1, padBefore: 0, padAfter: 0) == 3)
        #expect(ConvGeometry.outputLength(input: 7, kernel: 2, stride: 2, dilation: 1, padBefore: 0, padAfter: 0, ceilMode: true) == 4)
        // Ceil mode drops a last window that would start in the right padding: 5, k2, s2, p1.
        #expect(ConvGeometry.outputLength(input: 5, kernel: 2, stride: 2, dilation: 1, padBefore: 1, padAfter: 1, ceilMode: true) == 3)
        #expect(ConvGeometry.outputLength(input: 2, kernel: 5, stride: 1, dilation: 1, padBefore: 0, padAfter: 0) == 0)
    }

    @Test func validityChecksInvariants() {
        var g = ConvGeometry(batch: 1, inChannels: 4, outChannels: 6, groups: 2, inputSize: [5, 5], kernelSize: [3, 3],
                             stride: [1, 1], dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
        #expect(g.isValid)
        #expect(g.columnRows == 18 && g.weightCount == 108 && g.outputSize == [3, 3])
        g.groups = 4
        #expect(!g.isValid)  // 6 output channels are not divisible by 4 groups
    }

    /// im2col and its scatter are adjoint: ⟨gather(x), c⟩ = ⟨x, scatter(c)⟩ for every padding
    /// mode, rank and stride/dilation — the property convolution's backward relies on.
    @Test func gatherAndScatterAreAdjoint() {
        var random = TestRandom(seed: 5)
        func next(_ n: Int) -> Int { random.next(n) }
        for trial in 0..<60 {
            let rank = 1 + next(3)
            let mode = PaddingMode.allCases[next(4)]
            let kernel = (0..<rank).map { _ in 1 + next(3) }
            let dilation = (0..<rank).map { _ in 1 + next(2) }
            let size = (0..<rank).map { a in dilation[a] * (kernel[a] - 1) + 2 + next(4) }
            let before = (0..<rank).map { a in next(min(3, size[a])) }
            let after = (0..<rank).map { a in next(min(3, size[a])) }
            let g = ConvGeometry(batch: 1, inChannels: 2, outChannels: 1, inputSize: size, kernelSize: kernel,
                                 stride: (0..<rank).map { _ in 1 + next(3) }, dilation: dilation,
                                 padBefore: before, padAfter: after, paddingMode: mode)
            let x = TestRandom.values(2 * g.inputPlane, seed: UInt64(trial))
            let c = TestRandom.values(g.columnRows * g.outputPlane, seed: UInt64(trial + 100))
            var cols = [Float](repeating: 0, count: c.count)
            var back = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { px in cols.withUnsafeMutableBufferPointer { pc in
                Im2Col.gather(g, channels: 2, input: px.baseAddress!, columns: pc.baseAddress!)
            }}
            c.withUnsafeBufferPointer { pc in back.withUnsafeMutableBufferPointer { pb in
                Im2Col.scatterAdd(g, channels: 2, columns: pc.baseAddress!, input: pb.baseAddress!)
            }}
            let lhs = zip(cols, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(Swift.abs(lhs - rhs) < 1e-3 * (1 + Swift.abs(lhs)), "\(g)")
        }
    }
}
