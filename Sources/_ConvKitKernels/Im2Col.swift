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
    ///   - columns: (channels · prod(kernel), prod(out)), overwritten.
    ///   - padValue: the value of padded positions in `.zeros` mode.
    public static func gather(
        _ g: ConvGeometry, channels: Int, input: UnsafePointer<Float>,
        columns: UnsafeMutablePointer<Float>, padValue: Float = 0
    ) {
        let t = AxisTable.tables(for: g)
        let n = g.lifted(g.inputSize, fill: 1)
        let (oD, oH, oW) = (t[0].outputLength, t[1].outputLength, t[2].outputLength)
        let (kD, kH, kW) = (t[0].kernel, t[1].kernel, t[2].kernel)
        let plane = n[0] * n[1] * n[2]
        let outPlane = oD * oH * oW
        let runs = contiguousRuns(t[2])
        t[0].index.withUnsafeBufferPointer { tD in
        t[1].index.withUnsafeBufferPointer { tH in
        t[2].index.withUnsafeBufferPointer { tW in
            var row = columns
            for c in 0..<channels {
                let src = input + c * plane
                for kd in 0..<kD { for kh in 0..<kH { for kw in 0..<kW {
                    let wIdx = tW.baseAddress! + kw * oW
                    let run = runs[kw]
                    var dst = row
                    for od in 0..<oD {
                        let sd = tD[kd * oD + od]
                        for oh in 0..<oH {
                            let sh = tH[kh * oH + oh]
                            if sd < 0 || sh < 0 {
                                dst.update(repeating: padValue, count: oW)
                            } else {
                                let srcRow = src + (sd * n[1] + sh) * n[2]
                                for ow in 0..<run.lower {
                                    let sw = wIdx[ow]
                                    dst[ow] = sw >= 0 ? srcRow[sw] : padValue
                                }
                                (dst + run.lower).update(from: srcRow + run.lower + run.offset, count: run.upper - run.lower)
                                for ow in run.upper..<oW {
                                    let sw = wIdx[ow]
                                    dst[ow] = sw >= 0 ? srcRow[sw] : padValue
                                }
                            }
                            dst += oW
                        }
                    }
                    row += outPlane
                }}}
            }
        }}}
    }

    /// Adds `columns` back into `input` positions (the adjoint of `gather`).
    /// Padded positions that map to real indices (reflect, replicate, circular) add there.
    /// - Parameters:
    ///   - columns: (channels · prod(kernel), prod(out)).
    ///   - input: `channels` planes; accumulated into, so zero it first for a fresh result.
    public static func scatterAdd(
        _ g: ConvGeometry, channels: Int, columns: UnsafePointer<Float>,
        input: UnsafeMutablePointer<Float>
    ) {
        let t = AxisTable.tables(for: g)
        let n = g.lifted(g.inputSize, fill: 1)
        let (oD, oH, oW) = (t[0].outputLength, t[1].outputLength, t[2].outputLength)
        let (kD, kH, kW) = (t[0].kernel, t[1].kernel, t[2].kernel)
        let plane = n[0] * n[1] * n[2]
        let runs = contiguousRuns(t[2])
        t[0].index.withUnsafeBufferPointer { tD in
        t[1].index.withUnsafeBufferPointer { tH in
        t[2].index.withUnsafeBufferPointer { tW in
            var src = columns
            for c in 0..<channels {
                let dst = input + c * plane
                for kd in 0..<kD { for kh in 0..<kH { for kw in 0..<kW {
                    let wIdx = tW.baseAddress! + kw * oW
                    let run = runs[kw]
                    for od in 0..<oD {
                        let sd = tD[kd * oD + od]
                        for oh in 0..<oH {
                            let sh = tH[kh * oH + oh]
                            if sd >= 0 && sh >= 0 {
                                let dstRow = dst + (sd * n[1] + sh) * n[2]
                                for ow in 0..<run.lower {
                                    let sw = wIdx[ow]
                                    if sw >= 0 { dstRow[sw] += src[ow] }
                                }
                                let shifted = dstRow + run.offset
                                for ow in run.lower..<run.upper { shifted[ow] += src[ow] }
                                for ow in run.upper..<oW {
                                    let sw = wIdx[ow]
                                    if sw >= 0 { dstRow[sw] += src[ow] }
                                }
                            }
                            src += oW
                        }
                    }
                }}}
            }
        }}}
    }

    /// Per kernel column, the longest run `lower..<upper` of output columns whose source
    /// index is `ow + offset` (the unpadded interior at stride 1), copied as a block; the
    /// columns outside it go through the index table. Empty runs at other strides.
    static func contiguousRuns(_ table: AxisTable) -> [(lower: Int, upper: Int, offset: Int)] {
        let oW = table.outputLength
        return (0..<table.kernel).map { kw in
            var best = (lower: 0, upper: 0, offset: 0)
            var ow = 0
            while ow < oW {
                let s = table.index[kw * oW + ow]
                guard s >= 0 else { ow += 1; continue }
                let start = ow, offset = s - ow
                while ow < oW && table.index[kw * oW + ow] == ow + offset { ow += 1 }
                if ow - start > best.upper - best.lower { best = (start, ow, offset) }
            }
            return best
        }
    }
}
