import _ConvKitMicroKernels

/// Max pooling of 1-D and 2-D planes by the C kernel (`ck_max_pool_plane`), and of 3-D volumes
/// whose windows lie inside the input (no padding, no ceil-mode overhang): window positions are
/// computed from the output position instead of looked up tap by tap.
extension PoolingKernel {
    /// Whether every tap of every window reads a real input position.
    static func isInterior(_ g: ConvGeometry) -> Bool {
        (0..<g.rank).allSatisfy { (a: Int) -> Bool in
            let lastTap: Int = (g.outputSize[a] - 1) * g.stride[a] + (g.kernelSize[a] - 1) * g.dilation[a]
            return g.padBefore[a] == 0 && lastTap < g.inputSize[a]
        }
    }

    /// `maxForward` for ranks 1 and 2: one C call per plane, planes split across workers.
    static func maxForwardPlanes(
        _ g: ConvGeometry, planes: Int, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>?
    ) {
        let lift = { (values: [Int], fill: Int) in g.rank == 2 ? values : [fill] + values }
        let n = lift(g.inputSize, 1), out = lift(g.outputSize, 1), k = lift(g.kernelSize, 1)
        let s = lift(g.stride, 1), d = lift(g.dilation, 1), p = lift(g.padBefore, 0)
        let (inPlane, outPlane, level) = (g.inputPlane, g.outputPlane, Int32(MicroKernel.level))
        let (x0, y0, i0) = (SharedPointer(input), SharedPointer(output), indices.map { SharedPointer($0) })
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            for c in chunk {
                ck_max_pool_plane(level, x0.base + c * inPlane, n[0], n[1], y0.base + c * outPlane,
                                  i0.map { $0.base + c * outPlane }, out[0], out[1], k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
            }
        }
    }

    /// `maxForward` for 3-D interior geometries; same results (first maximum in row-major
    /// window order, NaN wins and stops the window).
    static func maxForwardInterior(
        _ g: ConvGeometry, planes: Int, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>?
    ) {
        let n = g.lifted(g.inputSize, fill: 1), out = g.lifted(g.outputSize, fill: 1)
        let k = g.lifted(g.kernelSize, fill: 1), s = g.lifted(g.stride, fill: 1), d = g.lifted(g.dilation, fill: 1)
        // Each tap's offset from the window's first tap, in row-major window order.
        var taps = [Int]()
        for kd in 0..<k[0] {
            for kh in 0..<k[1] {
                for kw in 0..<k[2] { taps.append((kd * d[0] * n[1] + kh * d[1]) * n[2] + kw * d[2]) }
            }
        }
        let offsets = taps
        let (inPlane, outPlane) = (g.inputPlane, g.outputPlane)
        let (x0, y0, i0) = (SharedPointer(input), SharedPointer(output), indices.map { SharedPointer($0) })
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            offsets.withUnsafeBufferPointer { offsets in
                for c in chunk {
                    let x = x0.base + c * inPlane
                    var y = y0.base + c * outPlane, yi = i0.map { $0.base + c * outPlane }
                    for od in 0..<out[0] {
                        for oh in 0..<out[1] {
                            let rowBase = (od * s[0] * n[1] + oh * s[1]) * n[2]
                            for ow in 0..<out[2] {
                                let base = rowBase + ow * s[2]
                                var best = x[base], bestIndex = base
                                if !best.isNaN {
                                    for t in 1..<offsets.count {
                                        let v = x[base + offsets[t]]
                                        if v > best || v.isNaN {
                                            best = v
                                            bestIndex = base + offsets[t]
                                            if v.isNaN { break }
                                        }
                                    }
                                }
                                y[ow] = best
                                yi?[ow] = bestIndex
                            }
                            y += out[2]
                            yi = yi.map { $0 + out[2] }
                        }
                    }
                }
            }
        }
    }
}
