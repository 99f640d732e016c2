import Testing
import _ConvKitKernels

/// The input gradient of a stride-1 convolution runs as a forward convolution with flipped
/// weights (8+ input channels per group). Checked against a direct loop written from the
/// definition on random geometries: ranks 1–3, groups, dilation, padding up to and beyond
/// the dilated kernel (beyond it the scatter path must take over), empty batches, odd sizes.
@Suite struct FlippedInputGradientTests {
    /// dx[n, c, i] = Σ W[k, c, t] · dy[n, k, o] over i = o − padBefore + t·dilation.
    static func direct(_ g: ConvGeometry, dy: [Float], w: [Float]) -> [Float] {
        let r = 3 - g.rank
        let n = [Int](repeating: 1, count: r) + g.inputSize, out = [Int](repeating: 1, count: r) + g.outputSize
        let k = [Int](repeating: 1, count: r) + g.kernelSize, d = [Int](repeating: 1, count: r) + g.dilation
        let p = [Int](repeating: 0, count: r) + g.padBefore
        let (kg, cg, kv) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.kernelVolume)
        var dx = [Float](repeating: 0, count: g.inputCount)
        for b in 0..<g.batch { for ko in 0..<g.outChannels {
            let grp = ko / kg
            for cl in 0..<cg {
                let c = grp * cg + cl
                for o0 in 0..<out[0] { for o1 in 0..<out[1] { for o2 in 0..<out[2] {
                    let v = dy[((b * g.outChannels + ko) * out[0] + o0) * out[1] * out[2] + o1 * out[2] + o2]
                    for t0 in 0..<k[0] { for t1 in 0..<k[1] { for t2 in 0..<k[2] {
                        let (i0, i1, i2) = (o0 - p[0] + t0 * d[0], o1 - p[1] + t1 * d[1], o2 - p[2] + t2 * d[2])
                        guard (0..<n[0]).contains(i0), (0..<n[1]).contains(i1), (0..<n[2]).contains(i2) else { continue }
                        let tap = (t0 * k[1] + t1) * k[2] + t2
                        dx[((b * g.inChannels + c) * n[0] + i0) * n[1] * n[2] + i1 * n[2] + i2] += w[(ko * cg + cl) * kv + tap] * v
                    }}}
                }}}
            }
        }}
        return dx
    }

    @Test func matchesTheDefinition() {
        var seed: UInt64 = 3
        func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1; return Int(seed >> 33) % n }
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(next(2001)) / 1000 - 1 } }
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
            var dx = [Float](repeating: .nan, count: g.inputCount)
            var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
            dy.withUnsafeBufferPointer { pdy in
                w.withUnsafeBufferPointer { pw in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        workspace.withUnsafeMutableBufferPointer { ws in
                            ConvolutionKernel.backwardInput(g, gradOutput: pdy.baseAddress!, weight: pw.baseAddress!,
                                                            gradInput: pdx.baseAddress!, workspace: ws.baseAddress!)
                        }
                    }
                }
            }
            let expected = Self.direct(g, dy: dy, w: w)
            let worst = zip(dx, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-4 && !dx.contains(where: \.isNaN), "trial \(trial): \(g): error \(worst)")
        }
    }
}
