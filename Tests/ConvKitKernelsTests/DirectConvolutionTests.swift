import Testing
import _ConvKitKernels

/// Convolutions with stride 1 along the last axis and lines at least 12 wide run as direct
/// tiles over a padded copy of the input (`Convolution+Direct.swift`), and so do the
/// input gradients of stride-1 convolutions (a flipped forward convolution). Checked against
/// a loop written from the definition, in Double, on random geometries that reach every
/// branch: ranks 1–3, groups, dilation, strides of leading axes, every padding mode, widths
/// that are multiples of 16, wider (the last tile overlaps) and narrower (a scratch tile),
/// output channels that leave a partial panel of 6, bias or none, and single items large
/// enough that the workers split an item's lines.
@Suite struct DirectConvolutionTests {
    /// y[n, k, o] = bias[k] + Σ W[k, c, t] · x[n, grp·C/G + c, o·s − padBefore + t·d], padded positions read
    /// through the padding mode.
    static func definition(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
        let r = 3 - g.rank
        let n = [Int](repeating: 1, count: r) + g.inputSize, out = [Int](repeating: 1, count: r) + g.outputSize
        let k = [Int](repeating: 1, count: r) + g.kernelSize, d = [Int](repeating: 1, count: r) + g.dilation
        let s = [Int](repeating: 1, count: r) + g.stride, p = [Int](repeating: 0, count: r) + g.padBefore
        let (kg, cg, kv) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.kernelVolume)
        var y = [Float](repeating: 0, count: g.outputCount)
        for b in 0..<g.batch { for ko in 0..<g.outChannels {
            let grp = ko / kg
            for o0 in 0..<out[0] { for o1 in 0..<out[1] { for o2 in 0..<out[2] {
                var sum = Double(bias?[ko] ?? 0)
                for cl in 0..<cg { for t0 in 0..<k[0] { for t1 in 0..<k[1] { for t2 in 0..<k[2] {
                    let i = [o0 * s[0] - p[0] + t0 * d[0], o1 * s[1] - p[1] + t1 * d[1], o2 * s[2] - p[2] + t2 * d[2]]
                    guard let i0 = g.paddingMode.sourceIndex(i[0], length: n[0]),
                          let i1 = g.paddingMode.sourceIndex(i[1], length: n[1]),
                          let i2 = g.paddingMode.sourceIndex(i[2], length: n[2]) else { continue }
                    let c = grp * cg + cl, tap = (t0 * k[1] + t1) * k[2] + t2
                    sum += Double(w[(ko * cg + cl) * kv + tap]) * Double(x[((b * g.inChannels + c) * n[0] + i0) * n[1] * n[2] + i1 * n[2] + i2])
                }}}}
                y[((b * g.outChannels + ko) * out[0] + o0) * out[1] * out[2] + o1 * out[2] + o2] = Float(sum)
            }}}
        }}
        return y
    }

    @Test func forwardMatchesTheDefinition() {
        var seed: UInt64 = 11
        func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1; return Int(seed >> 33) % n }
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(next(2001)) / 1000 - 1 } }
        var widths = Set<Int>()
        for trial in 0..<48 {
            let rank = 1 + trial % 3
            let groups = 1 + next(2)
            let kernel = (0..<rank).map { a in 1 + next(a == rank - 1 ? 5 : 3) }
            let dilation = (0..<rank).map { _ in 1 + next(2) }
            let stride = (0..<rank).map { a in a == rank - 1 ? 1 : 1 + next(2) }
            let mode = PaddingMode.allCases[trial % 4]
            let padBefore = (0..<rank).map { a in next(kernel[a]) }, padAfter = (0..<rank).map { a in next(kernel[a]) }
            // The last axis gives 12…40 outputs; leading axes a few.
            let width = 12 + next(29)
            let size = (0..<rank).map { a in
                a == rank - 1 ? width + dilation[a] * (kernel[a] - 1) - padBefore[a] - padAfter[a] : dilation[a] * (kernel[a] - 1) + 1 + next(4)
            }
            let big = trial % 8 == 7  // one item, enough work for the workers to split its lines
            let g = ConvGeometry(
                batch: big ? 1 : next(3), inChannels: groups * (big ? 24 : 1 + next(6)), outChannels: groups * (1 + next(big ? 20 : 13)),
                groups: groups, inputSize: size, kernelSize: kernel, stride: stride, dilation: dilation,
                padBefore: padBefore, padAfter: padAfter, paddingMode: mode)
            guard g.isValid, !g.outputSize.contains(0) else { continue }
            if g.batch > 0 { widths.insert(g.outputSize.last!) }
            let x = values(g.inputCount), w = values(g.weightCount), bias = trial % 3 == 0 ? nil : values(g.outChannels)
            var y = [Float](repeating: .nan, count: g.outputCount)
            var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in
                workspace.withUnsafeMutableBufferPointer { ws in y.withUnsafeMutableBufferPointer { py in
                    if let bias {
                        bias.withUnsafeBufferPointer { pb in
                            ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!,
                                                      output: py.baseAddress!, workspace: ws.baseAddress!)
                        }
                    } else {
                        ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: nil,
                                                  output: py.baseAddress!, workspace: ws.baseAddress!)
                    }
                }}
            }}
            let expected = Self.definition(g, x: x, w: w, bias: bias)
            // NaN (an output never written) fails the comparison too.
            let tolerance = 1e-4 * Float(g.columnRows)
            let wrong = zip(y, expected).filter { !(abs($0 - $1) <= tolerance) }
            #expect(wrong.isEmpty, "\(g): \(wrong.count) outputs differ, e.g. \(wrong.first.map { "\($0) vs \($1)" } ?? "")")
        }
        // Both tile paths ran: full and overlapping tiles (≥ 16), and the scratch tile (12…15).
        #expect(widths.contains { $0 >= 16 && $0 % 16 != 0 } && widths.contains { $0 < 16 })
    }
}
