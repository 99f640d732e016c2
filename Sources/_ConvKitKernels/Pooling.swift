/// Max, average and adaptive-average pooling over `planes` = N·C independent planes.
///
/// Windows come from the same `AxisTable`s as convolution: a tap reads a source index,
/// lies in the padding (max pooling skips it, average pooling counts it when
/// `countIncludePad`), or lies beyond the padding (ceil-mode overhang: never counted).
/// Max-pooling indices are flat positions in the input plane, as PyTorch returns them.
public enum PoolingKernel {
    /// The taps of every output position's window, `kernelVolume` per output in row-major
    /// window order: a flat index into the input plane, or a negative `AxisTable` marker.
    /// Computed once per call and shared by all planes.
    static func windowTaps(_ g: ConvGeometry) -> [Int] {
        let t = AxisTable.tables(for: g)
        let n = g.lifted(g.inputSize, fill: 1)
        var taps = [Int]()
        taps.reserveCapacity(g.outputPlane * g.kernelVolume)
        for od in 0..<t[0].outputLength {
            for oh in 0..<t[1].outputLength {
                for ow in 0..<t[2].outputLength {
                    for kd in 0..<t[0].kernel {
                        let sd = t[0].index[kd * t[0].outputLength + od]
                        for kh in 0..<t[1].kernel {
                            let sh = t[1].index[kh * t[1].outputLength + oh]
                            for kw in 0..<t[2].kernel {
                                let sw = t[2].index[kw * t[2].outputLength + ow]
                                if sd == AxisTable.outside || sh == AxisTable.outside || sw == AxisTable.outside {
                                    taps.append(AxisTable.outside)
                                } else if sd < 0 || sh < 0 || sw < 0 {
                                    taps.append(AxisTable.padded)
                                } else {
                                    taps.append((sd * n[1] + sh) * n[2] + sw)
                                }
                            }
                        }
                    }
                }
            }
        }
        return taps
    }

    /// Max pooling. Padding acts as −∞; NaN propagates; ties keep the first tap in
    /// row-major window order (as PyTorch).
    /// - Parameters:
    ///   - input: (planes, in...). output, indices: (planes, out...).
    ///   - indices: where each maximum was, or nil when nobody needs them (inference).
    public static func maxForward(
        _ g: ConvGeometry, planes: Int, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>?
    ) {
        if g.rank <= 2 {
            return maxForwardPlanes(g, planes: planes, input: input, output: output, indices: indices)
        }
        if isInterior(g) {
            return maxForwardInterior(g, planes: planes, input: input, output: output, indices: indices)
        }
        let (inPlane, outPlane, kv) = (g.inputPlane, g.outputPlane, g.kernelVolume)
        let taps = windowTaps(g)
        let (x0, y0, i0) = (SharedPointer(input), SharedPointer(output), indices.map { SharedPointer($0) })
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            taps.withUnsafeBufferPointer { taps in
                for c in chunk {
                    let x = x0.base + c * inPlane
                    let y = y0.base + c * outPlane, yi = i0.map { $0.base + c * outPlane }
                    for o in 0..<outPlane {
                        var best = -Float.infinity
                        var bestIndex = -1
                        for t in (o * kv)..<((o + 1) * kv) {
                            let s = taps[t]
                            guard s >= 0 else { continue }
                            let v = x[s]
                            if bestIndex < 0 || v > best || v.isNaN {
                                best = v
                                bestIndex = s
                                if v.isNaN { break }
                            }
                        }
                        y[o] = best
                        yi?[o] = max(bestIndex, 0)
                    }
                }
            }
        }
    }

    /// One worker per core for large pooling work, one otherwise.
    static func workers(_ g: ConvGeometry, planes: Int) -> Int {
        planes * g.outputPlane * g.kernelVolume >= 1 << 18 ? MicroKernel.threads : 1
    }

    /// Routes each output gradient to the input position recorded in `indices`.
    /// Overwrites `gradInput` (planes, in...).
    public static func maxBackward(
        _ g: ConvGeometry, planes: Int, gradOutput: UnsafePointer<Float>,
        indices: UnsafePointer<Int>, gradInput: UnsafeMutablePointer<Float>
    ) {
        let (inPlane, outPlane) = (g.inputPlane, g.outputPlane)
        let (dy, index, dx) = (SharedPointer(gradOutput), SharedPointer(indices), SharedPointer(gradInput))
        // Each plane's scatter stays within the plane, so the planes split across workers.
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            (dx.base + chunk.lowerBound * inPlane).update(repeating: 0, count: chunk.count * inPlane)
            for c in chunk {
                for o in 0..<outPlane {
                    dx.base[c * inPlane + index.base[c * outPlane + o]] += dy.base[c * outPlane + o]
                }
            }
        }
    }

    /// The divisor of each output window: `divisorOverride`, or the taps within the padded
    /// input (`countIncludePad`), or the taps on real input.
    static func divisors(_ g: ConvGeometry, taps: [Int], countIncludePad: Bool, divisorOverride: Int?) -> [Float] {
        let kv = g.kernelVolume
        return (0..<g.outputPlane).map { o in
            if let divisorOverride { return Float(divisorOverride) }
            var count = 0
            for s in taps[(o * kv)..<((o + 1) * kv)] where s >= 0 || (countIncludePad && s == AxisTable.padded) {
                count += 1
            }
            return Float(max(count, 1))
        }
    }

    /// Average pooling (PyTorch's `avg_pool`, which has no dilation: pass dilation 1).
    public static func averageForward(
        _ g: ConvGeometry, planes: Int, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, countIncludePad: Bool, divisorOverride: Int?
    ) {
        let (inPlane, outPlane, kv) = (g.inputPlane, g.outputPlane, g.kernelVolume)
        let taps = windowTaps(g)
        let d = divisors(g, taps: taps, countIncludePad: countIncludePad, divisorOverride: divisorOverride)
        let (x0, y0) = (SharedPointer(input), SharedPointer(output))
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            taps.withUnsafeBufferPointer { taps in
                for c in chunk {
                    let x = x0.base + c * inPlane, y = y0.base + c * outPlane
                    for o in 0..<outPlane {
                        var s: Float = 0
                        for t in (o * kv)..<((o + 1) * kv) where taps[t] >= 0 { s += x[taps[t]] }
                        y[o] = s / d[o]
                    }
                }
            }
        }
    }

    /// Spreads each output gradient evenly (÷ divisor) over its window. Overwrites `gradInput`.
    public static func averageBackward(
        _ g: ConvGeometry, planes: Int, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, countIncludePad: Bool, divisorOverride: Int?
    ) {
        let (inPlane, outPlane, kv) = (g.inputPlane, g.outputPlane, g.kernelVolume)
        gradInput.update(repeating: 0, count: planes * inPlane)
        let taps = windowTaps(g)
        let d = divisors(g, taps: taps, countIncludePad: countIncludePad, divisorOverride: divisorOverride)
        let (dx0, dy0) = (SharedPointer(gradInput), SharedPointer(gradOutput))
        Parallel.forEachChunk(planes, workers: workers(g, planes: planes)) { chunk, _ in
            taps.withUnsafeBufferPointer { taps in
                for c in chunk {
                    let dx = dx0.base + c * inPlane, dy = dy0.base + c * outPlane
                    for o in 0..<outPlane {
                        let v = dy[o] / d[o]
                        for t in (o * kv)..<((o + 1) * kv) where taps[t] >= 0 { dx[taps[t]] += v }
                    }
                }
            }
        }
    }

    /// Adaptive average pooling: output cell `o` of an axis of length `n` averages
    /// `[floor(o·n/out), ceil((o+1)·n/out))`, as PyTorch.
    /// - Parameters:
    ///   - inputSize, outputSize: spatial sizes (rank 1...3).
    ///   - input: (planes, in...). output: (planes, out...), overwritten.
    public static func adaptiveAverageForward(
        inputSize: [Int], outputSize: [Int], planes: Int,
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        adaptiveWindows(inputSize: inputSize, outputSize: outputSize) { o, cells in
            let inPlane = inputSize.reduce(1, *), outPlane = outputSize.reduce(1, *)
            let d = Float(cells.count)
            for c in 0..<planes {
                var s: Float = 0
                for i in cells { s += input[c * inPlane + i] }
                output[c * outPlane + o] = s / d
            }
        }
    }

    /// Adjoint of `adaptiveAverageForward`. Overwrites `gradInput`.
    public static func adaptiveAverageBackward(
        inputSize: [Int], outputSize: [Int], planes: Int,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>
    ) {
        let inPlane = inputSize.reduce(1, *), outPlane = outputSize.reduce(1, *)
        gradInput.update(repeating: 0, count: planes * inPlane)
        adaptiveWindows(inputSize: inputSize, outputSize: outputSize) { o, cells in
            let d = Float(cells.count)
            for c in 0..<planes {
                let v = gradOutput[c * outPlane + o] / d
                for i in cells { gradInput[c * inPlane + i] += v }
            }
        }
    }

    private static func adaptiveWindows(
        inputSize: [Int], outputSize: [Int], _ body: (_ out: Int, _ cells: [Int]) -> Void
    ) {
        let pad = 3 - inputSize.count
        let n = Array(repeating: 1, count: pad) + inputSize
        let m = Array(repeating: 1, count: pad) + outputSize
        func range(_ o: Int, _ a: Int) -> Range<Int> {
            (o * n[a] / m[a])..<(((o + 1) * n[a] + m[a] - 1) / m[a])
        }
        var cells = [Int]()
        var out = 0
        for od in 0..<m[0] { for oh in 0..<m[1] { for ow in 0..<m[2] {
            cells.removeAll(keepingCapacity: true)
            for d in range(od, 0) { for h in range(oh, 1) { for w in range(ow, 2) {
                cells.append((d * n[1] + h) * n[2] + w)
            }}}
            body(out, cells)
            out += 1
        }}}
    }
}
