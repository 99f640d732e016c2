/// Max pooling when every window lies inside the input (no padding, no ceil-mode overhang),
/// the usual case (`MaxPool2d(2)` in every course model): window positions are computed
/// from the output position instead of looked up tap by tap, and a 2×2 window is unrolled.
extension PoolingKernel {
    /// Whether every tap of every window reads a real input position.
    static func isInterior(_ g: ConvGeometry) -> Bool {
        (0..<g.rank).allSatisfy { (a: Int) -> Bool in
            let lastTap: Int = (g.outputSize[a] - 1) * g.stride[a] + (g.kernelSize[a] - 1) * g.dilation[a]
            return g.padBefore[a] == 0 && lastTap < g.inputSize[a]
        }
    }

    /// `maxForward` for interior geometries; same results (first maximum in row-major
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
        let twoByTwo = offsets == [0, 1, n[2], n[2] + 1]
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            offsets.withUnsafeBufferPointer { offsets in
                for c in chunk {
                    let x = x0.base + c * inPlane
                    var y = y0.base + c * outPlane, yi = i0.map { $0.base + c * outPlane }
                    for od in 0..<out[0] {
                        for oh in 0..<out[1] {
                            let rowBase = (od * s[0] * n[1] + oh * s[1]) * n[2]
                            if twoByTwo {
                                maxRow2x2(x, rowBase: rowBase, width: n[2], stride: s[2], count: out[2], y, yi)
                            } else {
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
                            }
                            y += out[2]
                            yi = yi.map { $0 + out[2] }
                        }
                    }
                }
            }
        }
    }

    /// One output row of a 2×2, dilation-1 window, taps compared in row-major order.
    @inline(__always)
    private static func maxRow2x2(
        _ x: UnsafePointer<Float>, rowBase: Int, width: Int, stride: Int, count: Int,
        _ y: UnsafeMutablePointer<Float>, _ yi: UnsafeMutablePointer<Int>?
    ) {
        for ow in 0..<count {
            let p = rowBase + ow * stride
            let a = x[p], b = x[p + 1], c = x[p + width], d = x[p + width + 1]
            var best = a, index = p
            if (a + b + c + d).isNaN {
                // Rare: a NaN wins and keeps its place (the sum is also NaN for +∞ and −∞).
                for q in [p + 1, p + width, p + width + 1] where !best.isNaN && (x[q] > best || x[q].isNaN) {
                    best = x[q]
                    index = q
                }
            } else {
                // Branch-free selects: on real data the comparisons are unpredictable.
                index = b > best ? p + 1 : index
                best = max(best, b)
                index = c > best ? p + width : index
                best = max(best, c)
                index = d > best ? p + width + 1 : index
                best = max(best, d)
            }
            y[ow] = best
            yi?[ow] = index
        }
    }
}
