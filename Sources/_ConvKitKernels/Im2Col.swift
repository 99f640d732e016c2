/// Gathers sliding windows into columns and scatters them back.
///
/// For `channels` planes of `geometry.inputSize`, the column matrix has shape
/// (channels · prod(kernel), prod(out)): row `(c, taps...)`, column `(out...)`.
/// Padded positions read through `PaddingMode.sourceIndex`, so one gather serves every
/// padding mode, every rank (lifted to 3) and `pad` itself (a window of size 1).
public enum Im2Col {
    /// Fills `columns` from `input`.
    /// - Parameters:
    ///   - input: `channels` planes of the geometry's input size, contiguous.
    ///   - columns: (channels · prod(kernel), lines.count · out_W), overwritten.
    ///   - padValue: the value of padded positions in `.zeros` mode.
    ///   - lines: the output lines (flattened (out_D, out_H) indices, each out_W positions
    ///     wide) whose columns to fill; all of them by default. Convolutions over large
    ///     planes gather a few lines at a time so that the chunk stays in cache.
    ///   - channelStride: floats from one channel's first row to the next one's, at least
    ///     prod(kernel) · lines.count · out_W (the default); the floats between are not written.
    public static func gather(
        _ g: ConvGeometry, channels: Int, input: UnsafePointer<Float>,
        columns: UnsafeMutablePointer<Float>, padValue: Float = 0, lines: Range<Int>? = nil, channelStride: Int? = nil
    ) {
        let t = AxisTable.tables(for: g)
        let n = g.lifted(g.inputSize, fill: 1)
        let (oD, oH, oW) = (t[0].outputLength, t[1].outputLength, t[2].outputLength)
        let (kD, kH, kW) = (t[0].kernel, t[1].kernel, t[2].kernel)
        let lines = lines ?? 0..<(oD * oH)
        let plane = n[0] * n[1] * n[2]
        let width = lines.count * oW
        let runs = contiguousRuns(t[2], step: g.stride.last!)
        t[0].index.withUnsafeBufferPointer { tD in
        t[1].index.withUnsafeBufferPointer { tH in
        t[2].index.withUnsafeBufferPointer { tW in
            let channelStride = channelStride ?? kD * kH * kW * width
            for c in 0..<channels {
                let src = input + c * plane
                var row = columns + c * channelStride
                for kd in 0..<kD { for kh in 0..<kH { for kw in 0..<kW {
                    let wIdx = tW.baseAddress! + kw * oW
                    let run = runs[kw]
                    var dst = row
                    for line in lines {
                        let (od, oh) = line.quotientAndRemainder(dividingBy: oH)
                        let sd = tD[kd * oD + od]
                        let sh = tH[kh * oH + oh]
                        if sd < 0 || sh < 0 {
                            dst.update(repeating: padValue, count: oW)
                        } else {
                            let srcRow = src + (sd * n[1] + sh) * n[2]
                            for ow in 0..<run.lower {
                                let sw = wIdx[ow]
                                dst[ow] = sw >= 0 ? srcRow[sw] : padValue
                            }
                            copyStrided(srcRow + run.lower * run.step + run.offset, step: run.step,
                                        to: dst + run.lower, count: run.upper - run.lower)
                            for ow in run.upper..<oW {
                                let sw = wIdx[ow]
                                dst[ow] = sw >= 0 ? srcRow[sw] : padValue
                            }
                        }
                        dst += oW
                    }
                    row += width
                }}}
            }
        }}}
    }

    /// `dst[i] = src[i · step]` for i in 0..<count; stride 2 (a stride-2 convolution's
    /// interior) with 8-wide even-lane shuffles, reading no element past the last one used.
    @inline(__always)
    static func copyStrided(_ src: UnsafePointer<Float>, step: Int, to dst: UnsafeMutablePointer<Float>, count: Int) {
        if step == 1 { return dst.update(from: src, count: count) }
        var i = 0
        if step == 2 {
            let raw = UnsafeRawPointer(src), out = UnsafeMutableRawPointer(dst)
            // A block reads src[2i ..< 2i + 16]; the last element used is src[2(count − 1)].
            while i + 9 <= count {
                let v = raw.loadUnaligned(fromByteOffset: 8 * i, as: SIMD16<Float>.self)
                out.storeBytes(of: v.evenHalf, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
        }
        while i < count {
            dst[i] = src[i * step]
            i += 1
        }
    }

    /// Adds `columns` back into `input` positions (the adjoint of `gather`).
    /// Padded positions that map to real indices (reflect, replicate, circular) add there.
    /// - Parameters:
    ///   - columns: (channels · prod(kernel), lines.count · out_W).
    ///   - input: `channels` planes; accumulated into, so zero it first for a fresh result.
    ///   - lines: the output lines the columns hold (as in `gather`); all by default.
    public static func scatterAdd(
        _ g: ConvGeometry, channels: Int, columns: UnsafePointer<Float>,
        input: UnsafeMutablePointer<Float>, lines: Range<Int>? = nil
    ) {
        let t = AxisTable.tables(for: g)
        let n = g.lifted(g.inputSize, fill: 1)
        let (oD, oH, oW) = (t[0].outputLength, t[1].outputLength, t[2].outputLength)
        let (kD, kH, kW) = (t[0].kernel, t[1].kernel, t[2].kernel)
        let lines = lines ?? 0..<(oD * oH)
        let plane = n[0] * n[1] * n[2]
        let runs = contiguousRuns(t[2], step: g.stride.last!)
        t[0].index.withUnsafeBufferPointer { tD in
        t[1].index.withUnsafeBufferPointer { tH in
        t[2].index.withUnsafeBufferPointer { tW in
            var src = columns
            for c in 0..<channels {
                let dst = input + c * plane
                for kd in 0..<kD { for kh in 0..<kH { for kw in 0..<kW {
                    let wIdx = tW.baseAddress! + kw * oW
                    let run = runs[kw]
                    for line in lines {
                        let (od, oh) = line.quotientAndRemainder(dividingBy: oH)
                        let sd = tD[kd * oD + od]
                        let sh = tH[kh * oH + oh]
                        if sd >= 0 && sh >= 0 {
                            let dstRow = dst + (sd * n[1] + sh) * n[2]
                            for ow in 0..<run.lower {
                                let sw = wIdx[ow]
                                if sw >= 0 { dstRow[sw] += src[ow] }
                            }
                            let shifted = dstRow + run.offset
                            for ow in run.lower..<run.upper { shifted[ow * run.step] += src[ow] }
                            for ow in run.upper..<oW {
                                let sw = wIdx[ow]
                                if sw >= 0 { dstRow[sw] += src[ow] }
                            }
                        }
                        src += oW
                    }
                }}}
            }
        }}}
    }

    /// Per kernel column, the longest run `lower..<upper` of output columns whose source
    /// index is `ow · step + offset` (the unpadded interior at stride `step`), copied as a
    /// block; the columns outside it go through the index table. Runs never span a reflected
    /// or wrapped index, which breaks the arithmetic progression.
    static func contiguousRuns(_ table: AxisTable, step: Int = 1) -> [(lower: Int, upper: Int, offset: Int, step: Int)] {
        let oW = table.outputLength
        return (0..<table.kernel).map { kw in
            var best = (lower: 0, upper: 0, offset: 0, step: step)
            var ow = 0
            while ow < oW {
                let s = table.index[kw * oW + ow]
                guard s >= 0 else { ow += 1; continue }
                let start = ow, offset = s - ow * step
                while ow < oW && table.index[kw * oW + ow] == ow * step + offset { ow += 1 }
                if ow - start > best.upper - best.lower { best = (start, ow, offset, step) }
            }
            return best
        }
    }
}
