/// Direct depthwise convolution (groups = C = K, one filter per channel), without im2col:
/// each output row accumulates `w[tap] · input row` through the same `AxisTable`s, so every
/// padding mode, stride and dilation behaves as in the im2col path (tests compare the two).
/// Channels are split across workers; batch items loop inside, so weight gradients of a
/// channel are summed by one worker.
enum DepthwiseKernel {
    /// Whether `g` is a depthwise convolution with channel multiplier 1 (and not a plain
    /// single-channel convolution, which the GEMM path serves).
    static func applies(_ g: ConvGeometry) -> Bool {
        g.groups > 1 && g.groups == g.inChannels && g.groups == g.outChannels
    }

    /// What every plane of `g` does, computed once per call: for each output row, the input
    /// rows it reads with their tap rows, plus the column table and its contiguous runs.
    struct Plan {
        /// (output row offset, input row offset, first tap index of that kernel row).
        var rows: [(output: Int, input: Int, tap: Int)] = []
        let columns: [Int]
        let runs: [(lower: Int, upper: Int, offset: Int, step: Int)]
        let kW: Int, oW: Int

        init(_ g: ConvGeometry) {
            let t = AxisTable.tables(for: g)
            let n = g.lifted(g.inputSize, fill: 1)
            (kW, oW, columns, runs) = (t[2].kernel, t[2].outputLength, t[2].index, Im2Col.contiguousRuns(t[2]))
            for od in 0..<t[0].outputLength {
                for oh in 0..<t[1].outputLength {
                    for kd in 0..<t[0].kernel {
                        let sd = t[0].index[kd * t[0].outputLength + od]
                        guard sd >= 0 else { continue }
                        for kh in 0..<t[1].kernel {
                            let sh = t[1].index[kh * t[1].outputLength + oh]
                            guard sh >= 0 else { continue }
                            rows.append(((od * t[1].outputLength + oh) * oW, (sd * n[1] + sh) * n[2],
                                         (kd * t[1].kernel + kh) * kW))
                        }
                    }
                }
            }
        }
    }

    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let (c, inPlane, outPlane, kv, oW) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume, g.outputSize.last!)
        let (x0, w0, y0) = (SharedPointer(input), SharedPointer(weight), SharedPointer(output))
        let b0 = bias.map { SharedPointer($0) }
        let plan = Plan(g)
        Parallel.forEachChunk(c, workers: ConvolutionKernel.workers(g)) { channels, _ in
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    for n in 0..<g.batch {
                        let x = x0.base + (n * c + ch) * inPlane, y = y0.base + (n * c + ch) * outPlane, w = w0.base + ch * kv
                        y.update(repeating: b0?.base[ch] ?? 0, count: outPlane)
                        for row in plan.rows {
                            let (dst, src) = (y + row.output, x + row.input)
                            for kw in 0..<plan.kW {
                                let (v, columns, run) = (w[row.tap + kw], table.baseAddress! + kw * oW, plan.runs[kw])
                                for ow in 0..<run.lower where columns[ow] >= 0 { dst[ow] += v * src[columns[ow]] }
                                let shifted = src + run.offset
                                for ow in run.lower..<run.upper { dst[ow] += v * shifted[ow] }
                                for ow in run.upper..<oW where columns[ow] >= 0 { dst[ow] += v * src[columns[ow]] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardInput(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        let (c, inPlane, outPlane, kv, oW) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume, g.outputSize.last!)
        let (dy0, w0, dx0) = (SharedPointer(gradOutput), SharedPointer(weight), SharedPointer(gradInput))
        let plan = Plan(g)
        Parallel.forEachChunk(c, workers: ConvolutionKernel.workers(g)) { channels, _ in
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    for n in 0..<g.batch {
                        let dx = dx0.base + (n * c + ch) * inPlane, dy = dy0.base + (n * c + ch) * outPlane
                        let w = w0.base + ch * kv
                        dx.update(repeating: 0, count: inPlane)
                        for row in plan.rows {
                            let (src, dst) = (dy + row.output, dx + row.input)
                            for kw in 0..<plan.kW {
                                let (v, columns, run) = (w[row.tap + kw], table.baseAddress! + kw * oW, plan.runs[kw])
                                for ow in 0..<run.lower where columns[ow] >= 0 { dst[columns[ow]] += v * src[ow] }
                                let shifted = dst + run.offset
                                for ow in run.lower..<run.upper { shifted[ow] += v * src[ow] }
                                for ow in run.upper..<oW where columns[ow] >= 0 { dst[columns[ow]] += v * src[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func backwardWeight(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>
    ) {
        let (c, inPlane, outPlane, kv, oW) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume, g.outputSize.last!)
        let (x0, dy0, dw0) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(gradWeight))
        let plan = Plan(g)
        Parallel.forEachChunk(c, workers: ConvolutionKernel.workers(g)) { channels, _ in
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    let dw = dw0.base + ch * kv
                    dw.update(repeating: 0, count: kv)
                    for n in 0..<g.batch {
                        let x = x0.base + (n * c + ch) * inPlane, dy = dy0.base + (n * c + ch) * outPlane
                        for row in plan.rows {
                            let (d, src) = (dy + row.output, x + row.input)
                            for kw in 0..<plan.kW {
                                let (columns, run) = (table.baseAddress! + kw * oW, plan.runs[kw])
                                var s: Float = 0
                                for ow in 0..<run.lower where columns[ow] >= 0 { s += d[ow] * src[columns[ow]] }
                                let shifted = src + run.offset
                                for ow in run.lower..<run.upper { s += d[ow] * shifted[ow] }
                                for ow in run.upper..<oW where columns[ow] >= 0 { s += d[ow] * src[columns[ow]] }
                                dw[row.tap + kw] += s
                            }
                        }
                    }
                }
            }
        }
    }
}
