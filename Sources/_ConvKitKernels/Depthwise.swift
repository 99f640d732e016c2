import _ConvKitMicroKernels

/// Direct depthwise convolution (groups = C = K, one filter per channel), without im2col:
/// each output row accumulates `w[tap] · input row` through the same `AxisTable`s, so every
/// padding mode, stride and dilation behaves as in the im2col path (tests compare the two).
/// Channels are split across workers; batch items loop inside, so weight gradients of a
/// channel are summed by one worker.
///
/// 2-D planes with zero padding, a column stride of 1 or 2 and rows of 12 outputs or more (every
/// depthwise layer of MobileNetV2 and EfficientNet-B0 above 7²) go to C whole (`ck_dw_plane`,
/// `ck_dw_weight_plane2d`, see `plane(_:)`): read from the unpadded input with the padding as
/// masked-off lanes, in tiles of up to 12 independent sums, the next plane prefetched meanwhile
/// (3 × 3 and 5 × 5 kernels at dilation 1 with their weights in registers and each input row's
/// loads shared by the tile's output rows). Where the input gradient is such a pass too (stride 1),
/// `backward` takes both gradients plane by plane, reading each output gradient plane once.
/// Elsewhere an output row is an interior span, where every tap reads inside the input at the
/// stride (`ow · step + offset`), and edges, which go through the column table; where the CPU has
/// them, whole planes go to C (`ck_dw_forward_plane`, `ck_dw_weight_plane`: all of a row's taps
/// in one SIMD pass over its interior, steps 1 and 2 vectorised); else (`CONVKIT_KERNELS=portable`,
/// rows of more than 64 taps) the loops here do the same.
/// The input gradient at stride 1 with zero padding is the forward pass of the flipped kernel
/// over the output gradient (as `backwardInputFlipped` does for other convolutions).
enum DepthwiseKernel {
    /// Whether `g` is a depthwise convolution with channel multiplier 1 (and not a plain
    /// single-channel convolution, which the GEMM path serves).
    static func applies(_ g: ConvGeometry) -> Bool {
        g.groups > 1 && g.groups == g.inChannels && g.groups == g.outChannels
    }

    /// Channel chunks for `g`'s passes: the channels split over the cores even at batch 1 (each
    /// channel's planes are independent), 8 chunks per core taken as cores come free, so that a
    /// core slowed by other work does not hold up the region's end.
    static func chunks(_ g: ConvGeometry) -> Int {
        let t = ConvolutionKernel.parallelism(g)
        return t > 1 ? 8 * t : 1
    }

    /// What every plane of `g` does, computed once per call: for each output row, the input
    /// rows it reads with their tap rows; the column table, its runs at the stride, and the
    /// output columns inside every run.
    struct Plan {
        /// (output row offset, input row offset, first tap index of that kernel row), grouped by output row.
        var rows: [(output: Int, input: Int, tap: Int)] = []
        /// Per output row that any tap reads into: its entries `rows[first..<end]`.
        var outputRows: [(first: Int, end: Int)] = []
        let columns: [Int]
        let runs: [(lower: Int, upper: Int, offset: Int, step: Int)]
        /// Output columns where every kernel column kw reads input column `ow · step + runs[kw].offset`
        /// (empty when there are none: every column then goes through the table).
        let interior: Range<Int>
        let kW: Int, oW: Int, step: Int

        init(_ g: ConvGeometry) {
            let t = AxisTable.tables(for: g)
            let n = g.lifted(g.inputSize, fill: 1)
            step = g.stride.last!
            (kW, oW, columns) = (t[2].kernel, t[2].outputLength, t[2].index)
            runs = Im2Col.contiguousRuns(t[2], step: step)
            let lower = runs.map(\.lower).max() ?? 0, upper = runs.map(\.upper).min() ?? 0
            interior = lower < upper ? lower..<upper : 0..<0
            for od in 0..<t[0].outputLength {
                for oh in 0..<t[1].outputLength {
                    let first = rows.count
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
                    if rows.count > first { outputRows.append((first, rows.count)) }
                }
            }
            let limit = Int(Int32.max)
            if g.inputPlane < limit, g.outputPlane < limit, g.kernelVolume < limit, outputRows.count < limit {
                let (rows, outputRows) = (self.rows, self.outputRows)
                packed = (outputRows.map { Int32($0.first) } + [Int32(rows.count)], outputRows.map { Int32(rows[$0.first].output) },
                          rows.map { Int32($0.input) }, rows.map { Int32($0.tap) }, columns.map { Int32($0) }, runs.map { Int32($0.offset) })
            } else {
                packed = nil
            }
        }

        /// The C rows' view of the plan (`ck_dw_forward_plane`): per output row the start of its
        /// kernel rows, and per kernel row its output, input and tap offsets; the column table and
        /// the interior offsets, all Int32. nil when a plane is too large for Int32 offsets.
        let packed: (start: [Int32], output: [Int32], input: [Int32], tap: [Int32], columns: [Int32], offsets: [Int32])?

        /// Where tap (row, kw) reads the interior's first output column in an input plane.
        func interiorSource(_ row: (output: Int, input: Int, tap: Int), _ kw: Int) -> Int {
            row.input + interior.lowerBound * step + runs[kw].offset
        }
    }

    /// `g` as whole-plane C calls (`ck_dw_plane`, `ck_dw_weight_plane2d`), which read the unpadded
    /// input and zero-pad through masked loads: 2-D, zero padding, a column stride of 1 or 2, and
    /// output rows of at least 12 (narrower rows fill less than ¾ of a vector; `FlatRow` packs
    /// them); nil elsewhere and where the CPU has no vector kernels.
    static func plane(_ g: ConvGeometry) -> ck_dw_plane_geometry? {
        guard MicroKernel.level >= 1, g.rank == 2, (1...2).contains(g.stride[1]), g.outputSize[1] >= 12,
              g.paddingMode == .zeros || (g.padBefore + g.padAfter).allSatisfy({ $0 == 0 }) else { return nil }
        return ck_dw_plane_geometry(
            height: g.inputSize[0], width: g.inputSize[1], out_height: g.outputSize[0], out_width: g.outputSize[1],
            kernel: (g.kernelSize[0], g.kernelSize[1]), stride: (g.stride[0], g.stride[1]),
            dilation: (g.dilation[0], g.dilation[1]), pad: (g.padBefore[0], g.padBefore[1]))
    }

    /// `g` read from a zero-padded copy of each input plane: the same convolution without
    /// padding, over planes grown by the padding. nil unless `g` is 2-D with zero padding of
    /// at least one element.
    static func paddedGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard g.rank == 2, g.paddingMode == .zeros, (g.padBefore + g.padAfter).allSatisfy({ $0 >= 0 }),
              (g.padBefore + g.padAfter).contains(where: { $0 > 0 }) else { return nil }
        return ConvGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, groups: g.groups,
                            inputSize: (0..<2).map { g.inputSize[$0] + g.padBefore[$0] + g.padAfter[$0] },
                            kernelSize: g.kernelSize, stride: g.stride, dilation: g.dilation,
                            padBefore: [0, 0], padAfter: [0, 0], outputSize: g.outputSize)
    }

    /// A stride-1 unpadded 2-D depthwise plane as one long row: output (oh, ow) reads input
    /// oh·W + ow + kh·dh·W + kw·dw, so all output rows are one run over flat positions
    /// oh·W + ow (the W − oW positions between rows are computed and dropped). One vector pass
    /// with every tap instead of a pass per output row: short rows (14² and 7² planes) spent
    /// more on each row's setup than on its arithmetic.
    struct FlatRow {
        let width: Int, outHeight: Int, outWidth: Int, length: Int, kW: Int
        let start: [Int32], output: [Int32], input: [Int32], tap: [Int32], offsets: [Int32]

        /// nil unless `g` (unpadded) has stride 1 and rows short enough to gain (at most 32 outputs).
        init?(_ g: ConvGeometry) {
            guard g.rank == 2, g.stride == [1, 1], g.outputSize[1] <= 32, g.inputPlane < Int(Int32.max) else { return nil }
            (width, outHeight, outWidth) = (g.inputSize[1], g.outputSize[0], g.outputSize[1])
            (length, kW) = ((outHeight - 1) * width + outWidth, g.kernelSize[1])
            let (kH, kw, w) = (g.kernelSize[0], g.kernelSize[1], g.inputSize[1])
            (start, output) = ([0, Int32(kH)], [0])
            input = (0..<kH).map { Int32($0 * g.dilation[0] * w) }
            tap = (0..<kH).map { Int32($0 * kw) }
            offsets = (0..<kw).map { Int32($0 * g.dilation[1]) }
        }

        /// Writes the plane's output (bias added) through `scratch` (`length` floats); false
        /// when the CPU has no C rows (the caller then loops itself).
        func forward(level: Int32, input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: Float,
                     output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> Bool {
            scratch.update(repeating: bias, count: length)
            guard ck_dw_forward_plane(level, x, w, scratch, 1, start, output, input, tap, kW, length,
                                      offsets, offsets, 0, length, 1) != 0 else { return false }
            for r in 0..<outHeight { (y + r * outWidth).update(from: scratch + r * width, count: outWidth) }
            return true
        }
    }

    /// output = depthwise conv(input, weight) + bias, clamped to `clamp` when given. Where `plane(g)`
    /// applies, one C call per plane, clamped as it is stored. Else zero-padded 2-D planes are first
    /// copied into a padded plane (one per worker, its border zeroed once), so that every output row
    /// takes all its taps in the vector pass: edge columns through the column table cost more
    /// than the copy (EfficientNet-B0's 5 × 5 layers at 14² and 7² have 4 edge columns of 14 and 7).
    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, clamp: OutputClamp? = nil
    ) {
        let (c, inPlane, outPlane, kv) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume)
        let (x0, w0, y0) = (SharedPointer(input), SharedPointer(weight), SharedPointer(output))
        let b0 = bias.map { SharedPointer($0) }
        if let p = plane(g) {
            let level = Int32(MicroKernel.level), bounds = clamp.map { [$0.lower, $0.upper] } ?? []
            Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
                withUnsafePointer(to: p) { p in
                    bounds.withUnsafeBufferPointer { bounds in
                        let clamp = bounds.isEmpty ? nil : bounds.baseAddress  // an empty array's address is not nil
                        for ch in channels {
                            for n in 0..<g.batch {
                                let x = x0.base + (n * c + ch) * inPlane, y = y0.base + (n * c + ch) * outPlane
                                let (next, nextOut) = n + 1 < g.batch ? (x + c * inPlane, y + c * outPlane)
                                    : ch + 1 < channels.upperBound ? (x0.base + (ch + 1) * inPlane, y0.base + (ch + 1) * outPlane) : (nil, nil)
                                _ = ck_dw_plane(level, p, x, w0.base + ch * kv, b0?.base[ch] ?? 0, clamp, y, next, nextOut)
                            }
                        }
                    }
                }
            }
            return
        }
        let padded = paddedGeometry(g)
        let plan = Plan(padded ?? g)
        let (level, lo, hi) = (Int32(MicroKernel.level), plan.interior.lowerBound, plan.interior.upperBound)
        let flat = padded.flatMap { FlatRow($0) }
        Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (padded?.inputPlane ?? 0) + (flat?.length ?? 0))
            defer { scratch.deallocate() }
            if let padded { scratch.initialize(repeating: 0, count: padded.inputPlane) }
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    for n in 0..<g.batch {
                        var x = UnsafePointer(x0.base + (n * c + ch) * inPlane)
                        let y = y0.base + (n * c + ch) * outPlane, w = w0.base + ch * kv
                        if let padded {
                            let (h, width, wide) = (g.inputSize[0], g.inputSize[1], padded.inputSize[1])
                            let corner = scratch + g.padBefore[0] * wide + g.padBefore[1]
                            for r in 0..<h { (corner + r * wide).update(from: x + r * width, count: width) }
                            x = UnsafePointer(scratch)
                        }
                        if let flat, flat.forward(level: level, input: x, weight: w, bias: b0?.base[ch] ?? 0, output: y,
                                                  scratch: scratch + padded!.inputPlane) { continue }
                        y.update(repeating: b0?.base[ch] ?? 0, count: outPlane)
                        if let p = plan.packed, ck_dw_forward_plane(
                            level, x, w, y, plan.outputRows.count, p.start, p.output, p.input, p.tap, plan.kW, plan.oW,
                            p.columns, p.offsets, lo, hi, plan.step) != 0 { continue }
                        for row in plan.rows {
                            let (dst, src) = (y + row.output, x + row.input)
                            for kw in 0..<plan.kW {
                                let (v, columns) = (w[row.tap + kw], table.baseAddress! + kw * plan.oW)
                                for ow in 0..<lo where columns[ow] >= 0 { dst[ow] += v * src[columns[ow]] }
                                for ow in hi..<plan.oW where columns[ow] >= 0 { dst[ow] += v * src[columns[ow]] }
                                guard lo < hi else { continue }
                                let interior = x + plan.interiorSource(row, kw)
                                for i in 0..<(hi - lo) { dst[lo + i] += v * interior[i * plan.step] }
                            }
                        }
                    }
                }
            }
        }
        if let clamp { ClampKernel.forward(input: output, output: output, lower: clamp.lower, upper: clamp.upper, count: g.outputCount) }
    }

    /// `g`'s input gradient as a forward pass: the stride-1, zero-padded depthwise convolution of
    /// the output gradient with the kernel flipped along every axis, padded by d(k−1) − before
    /// before and n − out + before after; nil where that does not apply.
    static func flippedGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard let (padBefore, padAfter) = ConvolutionKernel.flippedPadding(g) else { return nil }
        let t = ConvGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, groups: g.groups,
                             inputSize: g.outputSize, kernelSize: g.kernelSize, stride: g.stride, dilation: g.dilation,
                             padBefore: padBefore, padAfter: padAfter)
        return t.outputSize == g.inputSize ? t : nil
    }

    /// Both gradients in one pass over the planes where `plane(_:)` takes the convolution and its
    /// flipped input gradient (stride 1): per plane, the input gradient (the flipped forward,
    /// prefetching the plane's input), then the weight gradient while the output gradient and the
    /// input are still in cache, so each is read from memory once (separate passes read the
    /// output gradient twice). False, with nothing written, where that does not apply.
    static func backward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, gradWeight: UnsafeMutablePointer<Float>
    ) -> Bool {
        guard let t = flippedGeometry(g), let q = plane(t), let p = plane(g) else { return false }
        let (c, inPlane, outPlane, kv) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume)
        var flipped = [Float](repeating: 0, count: c * kv)
        for ch in 0..<c { for tap in 0..<kv { flipped[ch * kv + kv - 1 - tap] = weight[ch * kv + tap] } }
        let (x0, dy0, dx0, dw0) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(gradInput), SharedPointer(gradWeight))
        let level = Int32(MicroKernel.level)
        flipped.withUnsafeBufferPointer { flipped in
            let k0 = SharedPointer(flipped.baseAddress!)
            Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
                withUnsafePointer(to: p) { p in
                    withUnsafePointer(to: q) { q in
                        for ch in channels {
                            let dw = dw0.base + ch * kv
                            dw.update(repeating: 0, count: kv)
                            for n in 0..<g.batch {
                                let x = x0.base + (n * c + ch) * inPlane, dy = dy0.base + (n * c + ch) * outPlane
                                let next = n + 1 < g.batch ? dy + c * outPlane : ch + 1 < channels.upperBound ? dy0.base + (ch + 1) * outPlane : nil
                                let dx = dx0.base + (n * c + ch) * inPlane
                                let nextOut = n + 1 < g.batch ? dx + c * inPlane : ch + 1 < channels.upperBound ? dx0.base + (ch + 1) * inPlane : nil
                                _ = ck_dw_plane(level, q, dy, k0.base + ch * kv, 0, nil, dx, x, nextOut)
                                _ = ck_dw_weight_plane2d(level, p, x, dy, dw, next)
                            }
                        }
                    }
                }
            }
        }
        return true
    }

    static func backwardInput(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        let (c, inPlane, outPlane, kv) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume)
        if let t = flippedGeometry(g) {
            var flipped = [Float](repeating: 0, count: c * kv)
            for ch in 0..<c { for tap in 0..<kv { flipped[ch * kv + kv - 1 - tap] = weight[ch * kv + tap] } }
            return flipped.withUnsafeBufferPointer {
                forward(t, input: gradOutput, weight: $0.baseAddress!, bias: nil, output: gradInput)
            }
        }
        let (dy0, w0, dx0) = (SharedPointer(gradOutput), SharedPointer(weight), SharedPointer(gradInput))
        let plan = Plan(g)
        let (lo, span) = (plan.interior.lowerBound, plan.interior.count)
        Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    for n in 0..<g.batch {
                        let dx = dx0.base + (n * c + ch) * inPlane, dy = dy0.base + (n * c + ch) * outPlane
                        let w = w0.base + ch * kv
                        dx.update(repeating: 0, count: inPlane)
                        for row in plan.rows {
                            let (src, dst) = (dy + row.output, dx + row.input)
                            for kw in 0..<plan.kW {
                                let (v, columns) = (w[row.tap + kw], table.baseAddress! + kw * plan.oW)
                                for ow in 0..<lo where columns[ow] >= 0 { dst[columns[ow]] += v * src[ow] }
                                for ow in plan.interior.upperBound..<plan.oW where columns[ow] >= 0 { dst[columns[ow]] += v * src[ow] }
                                guard span > 0 else { continue }
                                let interior = dx + plan.interiorSource(row, kw)
                                for i in 0..<span { interior[i * plan.step] += v * src[lo + i] }
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
        let (c, inPlane, outPlane, kv) = (g.inChannels, g.inputPlane, g.outputPlane, g.kernelVolume)
        let (x0, dy0, dw0) = (SharedPointer(input), SharedPointer(gradOutput), SharedPointer(gradWeight))
        if let p = plane(g) {
            let level = Int32(MicroKernel.level)
            Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
                withUnsafePointer(to: p) { p in
                    for ch in channels {
                        let dw = dw0.base + ch * kv
                        dw.update(repeating: 0, count: kv)
                        for n in 0..<g.batch {
                            _ = ck_dw_weight_plane2d(level, p, x0.base + (n * c + ch) * inPlane, dy0.base + (n * c + ch) * outPlane, dw, nil)
                        }
                    }
                }
            }
            return
        }
        let plan = Plan(g)
        let (level, lo, hi) = (Int32(MicroKernel.level), plan.interior.lowerBound, plan.interior.upperBound)
        Parallel.forEachChunk(c, workers: chunks(g)) { channels, _ in
            plan.columns.withUnsafeBufferPointer { table in
                for ch in channels {
                    let dw = dw0.base + ch * kv
                    dw.update(repeating: 0, count: kv)
                    for n in 0..<g.batch {
                        let x = x0.base + (n * c + ch) * inPlane, dy = dy0.base + (n * c + ch) * outPlane
                        if let p = plan.packed, ck_dw_weight_plane(
                            level, x, dy, dw, plan.outputRows.count, p.start, p.output, p.input, p.tap, plan.kW, plan.oW,
                            p.columns, p.offsets, lo, hi, plan.step) != 0 { continue }
                        for row in plan.rows {
                            let (d, src) = (dy + row.output, x + row.input)
                            for kw in 0..<plan.kW {
                                let columns = table.baseAddress! + kw * plan.oW
                                var s: Float = 0
                                for ow in 0..<lo where columns[ow] >= 0 { s += d[ow] * src[columns[ow]] }
                                for ow in hi..<plan.oW where columns[ow] >= 0 { s += d[ow] * src[columns[ow]] }
                                if lo < hi {
                                    let interior = x + plan.interiorSource(row, kw)
                                    for i in 0..<(hi - lo) { s += d[lo + i] * interior[i * plan.step] }
                                }
                                dw[row.tap + kw] += s
                            }
                        }
                    }
                }
            }
        }
    }
}
