import _ConvKitKernels

/// Convolution written from its definition, in Double, over any `ConvGeometry` (ranks 1–3,
/// groups, stride, dilation, asymmetric padding, every padding mode): the reference the
/// kernels' fast paths are checked against.
///
/// Shapes: x (N, C, in...), w (K, C/G, kernel...), y and dy (N, K, out...).
public enum ReferenceConvolution {
    /// The input index that padded position `i` of an axis of length `n` reads, or nil for a
    /// zero: PyTorch's padding modes written out here, apart from the kernels' own mapping.
    public static func source(_ i: Int, length n: Int, mode: PaddingMode) -> Int? {
        if (0..<n).contains(i) { return i }
        switch mode {
        case .zeros: return nil
        case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
        case .replicate: return min(max(i, 0), n - 1)
        case .circular: return ((i % n) + n) % n
        }
    }

    /// Calls `body(output, weight, input)` with the flat indices of every term
    /// `W[k, c, t] · x[n, grp·C/G + c, o·s − padBefore + t·d]` of every output y[n, k, o]
    /// (padded positions read through the padding mode; the constant's terms are skipped).
    public static func forEachTerm(_ g: ConvGeometry, _ body: (Int, Int, Int) -> Void) {
        let r = 3 - g.rank
        let n = [Int](repeating: 1, count: r) + g.inputSize, out = [Int](repeating: 1, count: r) + g.outputSize
        let k = [Int](repeating: 1, count: r) + g.kernelSize, d = [Int](repeating: 1, count: r) + g.dilation
        let s = [Int](repeating: 1, count: r) + g.stride, p = [Int](repeating: 0, count: r) + g.padBefore
        let (kg, cg, kv) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.kernelVolume)
        for b in 0..<g.batch { for ko in 0..<g.outChannels {
            let grp = ko / kg
            for o0 in 0..<out[0] { for o1 in 0..<out[1] { for o2 in 0..<out[2] {
                let y = ((b * g.outChannels + ko) * out[0] + o0) * out[1] * out[2] + o1 * out[2] + o2
                for cl in 0..<cg { for t0 in 0..<k[0] { for t1 in 0..<k[1] { for t2 in 0..<k[2] {
                    let i = [o0 * s[0] - p[0] + t0 * d[0], o1 * s[1] - p[1] + t1 * d[1], o2 * s[2] - p[2] + t2 * d[2]]
                    guard let i0 = source(i[0], length: n[0], mode: g.paddingMode),
                          let i1 = source(i[1], length: n[1], mode: g.paddingMode),
                          let i2 = source(i[2], length: n[2], mode: g.paddingMode) else { continue }
                    let c = grp * cg + cl, tap = (t0 * k[1] + t1) * k[2] + t2
                    body(y, (ko * cg + cl) * kv + tap, ((b * g.inChannels + c) * n[0] + i0) * n[1] * n[2] + i1 * n[2] + i2)
                }}}}
            }}}
        }}
    }

    /// y[n, k, o] = bias[k] + Σ W[k, c, t] · x[n, grp·C/G + c, o·s − padBefore + t·d].
    public static func forward(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
        let plane = g.outputPlane
        var y = (0..<g.outputCount).map { Double(bias?[$0 / plane % g.outChannels] ?? 0) }
        forEachTerm(g) { out, weight, input in y[out] += Double(w[weight]) * Double(x[input]) }
        return y.map { Float($0) }
    }

    /// dW[k, c, t] = Σ over batch and output positions of dy[n, k, o] · x[n, grp·C/G + c, o·s − padBefore + t·d].
    public static func weightGradient(_ g: ConvGeometry, x: [Float], dy: [Float]) -> [Float] {
        var dw = [Double](repeating: 0, count: g.weightCount)
        forEachTerm(g) { out, weight, input in dw[weight] += Double(dy[out]) * Double(x[input]) }
        return dw.map { Float($0) }
    }

    /// dx[n, c, i] = Σ W[k, c, t] · dy[n, k, o] over every term that reads x[n, c, i]
    /// (through the padding mode: a reflected position sends its gradient to its source).
    public static func inputGradient(_ g: ConvGeometry, w: [Float], dy: [Float]) -> [Float] {
        var dx = [Double](repeating: 0, count: g.inputCount)
        forEachTerm(g) { out, weight, input in dx[input] += Double(w[weight]) * Double(dy[out]) }
        return dx.map { Float($0) }
    }
}
