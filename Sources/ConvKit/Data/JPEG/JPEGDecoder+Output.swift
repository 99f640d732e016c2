/// From coefficients to samples exactly as libjpeg-turbo's defaults: the accurate integer
/// inverse DCT (`jidctint.c`, `jpeg_idct_islow`), "fancy" upsampling (`jdsample.c`) and
/// fixed-point YCbCr → RGB (`jdcolor.c`).
extension JPEGDecoder {
    /// Every component's samples at full resolution, colour-converted and interleaved.
    mutating func output() throws -> JPEG.Samples {
        for (i, c) in components.enumerated() where quantTables[c.quantTable] == nil {
            throw fail("component \(i) uses quantisation table \(c.quantTable), never defined")
        }
        let planes = components.map { c in upsample(c, plane: inverseTransform(c)) }
        let count = width * height
        var out = [UInt8](repeating: 0, count: count * planes.count)
        let (width, height) = (self.width, self.height)
        if planes.count == 1 {
            out.withUnsafeMutableBufferPointer { o in planes[0].samples.withUnsafeBufferPointer { p in
                for y in 0..<height { (o.baseAddress! + y * width).update(from: p.baseAddress! + y * planes[0].stride, count: width) }
            }}
            return JPEG.Samples(unchecked: width, height, 1, out)
        }
        // Three components: RGB as stored (Adobe transform 0, or ids 'R', 'G', 'B'), else YCbCr (libjpeg's rules).
        let ids = components.map(\.id)
        let rgb = !sawJFIF && (adobeTransform == 0 || (adobeTransform == nil && ids == [82, 71, 66]))
        let (p0, p1, p2) = (planes[0], planes[1], planes[2])
        let t = JPEGDecoder.colorTables
        out.withUnsafeMutableBufferPointer { o in
            p0.samples.withUnsafeBufferPointer { a0 in p1.samples.withUnsafeBufferPointer { a1 in p2.samples.withUnsafeBufferPointer { a2 in
                t.crR.withUnsafeBufferPointer { crR in t.cbB.withUnsafeBufferPointer { cbB in
                    t.crG.withUnsafeBufferPointer { crG in t.cbG.withUnsafeBufferPointer { cbG in
                        for y in 0..<height {
                            let r0 = a0.baseAddress! + y * p0.stride, r1 = a1.baseAddress! + y * p1.stride, r2 = a2.baseAddress! + y * p2.stride
                            var dst = o.baseAddress! + y * width * 3
                            for x in 0..<width {
                                let (a, b, c) = (Int(r0[x]), Int(r1[x]), Int(r2[x]))
                                if rgb {
                                    (dst[0], dst[1], dst[2]) = (UInt8(a), UInt8(b), UInt8(c))
                                } else {
                                    dst[0] = JPEGDecoder.clamp(a + crR[c])
                                    dst[1] = JPEGDecoder.clamp(a + ((cbG[b] + crG[c]) >> 16))
                                    dst[2] = JPEGDecoder.clamp(a + cbB[b])
                                }
                                dst += 3
                            }
                        }
                    }}
                }}
            }}}
        }
        return JPEG.Samples(unchecked: width, height, 3, out)
    }

    @inline(__always) static func clamp(_ v: Int) -> UInt8 { UInt8(Swift.min(Swift.max(v, 0), 255)) }

    /// jdcolor.c's tables (SCALEBITS 16): R = Y + 1.402·Cr', G = Y − 0.34414·Cb' − 0.71414·Cr',
    /// B = Y + 1.772·Cb', with Cb' = Cb − 128, each product rounded as libjpeg rounds it.
    static let colorTables: (crR: [Int], cbB: [Int], crG: [Int], cbG: [Int]) = {
        func fix(_ x: Double) -> Int { Int(x * 65536 + 0.5) }
        let half = 1 << 15
        var t = ([Int](repeating: 0, count: 256), [Int](repeating: 0, count: 256), [Int](repeating: 0, count: 256), [Int](repeating: 0, count: 256))
        for i in 0..<256 {
            let x = i - 128
            t.0[i] = (fix(1.40200) * x + half) >> 16
            t.1[i] = (fix(1.77200) * x + half) >> 16
            t.2[i] = -fix(0.71414) * x
            t.3[i] = -fix(0.34414) * x + half
        }
        return t
    }()

    /// A component's samples: `stride` per row, at least `rows` rows.
    struct Plane {
        var samples: [UInt8]
        let stride: Int, rows: Int
    }

    /// Every stored block of `c` through the inverse DCT: a plane of blocksPerLine·8 columns.
    func inverseTransform(_ c: Component) -> Plane {
        let quant = quantTables[c.quantTable]!.map(Int.init)
        let stride = c.blocksPerLine * 8, rows = c.blocksPerColumn * 8
        var samples = [UInt8](repeating: 0, count: stride * rows)
        samples.withUnsafeMutableBufferPointer { out in
            quant.withUnsafeBufferPointer { q in
                var workspace = [Int](repeating: 0, count: 64)
                workspace.withUnsafeMutableBufferPointer { ws in
                    for by in 0..<c.blocksPerColumn {
                        for bx in 0..<c.blocksPerLine {
                            JPEGDecoder.idctIslow(c.coefficients.pointer + (by * c.blocksPerLine + bx) * 64, q.baseAddress!, ws.baseAddress!,
                                                  out.baseAddress! + by * 8 * stride + bx * 8, stride)
                        }
                    }
                }
            }
        }
        return Plane(samples: samples, stride: stride, rows: rows)
    }

    /// The component at full resolution (maxH/h × maxV/v), as libjpeg-turbo chooses:
    /// triangle filters for 2×1, 1×2 and 2×2 (fancy upsampling, when the component is
    /// more than 2 samples wide for the horizontal ones), replication otherwise.
    func upsample(_ c: Component, plane: Plane) -> Plane {
        let (fh, fv) = (maxH / c.h, maxV / c.v)
        if fh == 1 && fv == 1 { return plane }
        let (w, h) = (c.width, c.height)
        let stride = w * fh, rows = h * fv
        var out = [UInt8](repeating: 0, count: stride * rows)
        let ps = plane.stride
        plane.samples.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { ob in
            let p = pb.baseAddress!, out = ob.baseAddress!
            // Context rows above the first and below the last are the edge rows themselves (jdmainct.c).
            func row(_ y: Int) -> Int { Swift.min(Swift.max(y, 0), h - 1) * ps }
            if fh == 2 && fv == 1 && w > 2 {
                for y in 0..<h {
                    let i = p + y * ps, o = out + y * stride
                    o[0] = i[0]
                    o[1] = UInt8((Int(i[0]) * 3 + Int(i[1]) + 2) >> 2)
                    for x in 1..<(w - 1) {
                        let v = Int(i[x]) * 3
                        o[2 * x] = UInt8((v + Int(i[x - 1]) + 1) >> 2)
                        o[2 * x + 1] = UInt8((v + Int(i[x + 1]) + 2) >> 2)
                    }
                    o[2 * w - 2] = UInt8((Int(i[w - 1]) * 3 + Int(i[w - 2]) + 1) >> 2)
                    o[2 * w - 1] = i[w - 1]
                }
            } else if fh == 1 && fv == 2 {
                for y in 0..<h {
                    for v in 0..<2 {
                        let (i, n, bias) = (p + y * ps, p + row(v == 0 ? y - 1 : y + 1), v == 0 ? 1 : 2)
                        let o = out + (2 * y + v) * stride
                        for x in 0..<w { o[x] = UInt8((Int(i[x]) * 3 + Int(n[x]) + bias) >> 2) }
                    }
                }
            } else if fh == 2 && fv == 2 && w > 2 {
                for y in 0..<h {
                    for v in 0..<2 {
                        let (i, n) = (p + y * ps, p + row(v == 0 ? y - 1 : y + 1))
                        let o = out + (2 * y + v) * stride
                        var this = Int(i[0]) * 3 + Int(n[0]), next = Int(i[1]) * 3 + Int(n[1]), last = this
                        o[0] = UInt8((this * 4 + 8) >> 4)
                        o[1] = UInt8((this * 3 + next + 7) >> 4)
                        last = this
                        this = next
                        for x in 1..<(w - 1) {
                            next = Int(i[x + 1]) * 3 + Int(n[x + 1])
                            o[2 * x] = UInt8((this * 3 + last + 8) >> 4)
                            o[2 * x + 1] = UInt8((this * 3 + next + 7) >> 4)
                            last = this
                            this = next
                        }
                        o[2 * w - 2] = UInt8((this * 3 + last + 8) >> 4)
                        o[2 * w - 1] = UInt8((this * 4 + 7) >> 4)
                    }
                }
            } else {
                for y in 0..<rows { for x in 0..<stride { out[y * stride + x] = p[(y / fv) * ps + x / fh] } }
            }
        }}
        return Plane(samples: out, stride: stride, rows: rows)
    }

    /// One 8-point pass of jpeg_idct_islow (CONST_BITS 13) on x0…x7, before descaling: the even
    /// part from x0, x2, x4, x6, the odd part from x1, x3, x5, x7 (Loeffler–Ligtenberg–Moschytz).
    @inline(__always) static func islowPass(_ x: (Int, Int, Int, Int, Int, Int, Int, Int)) -> (Int, Int, Int, Int, Int, Int, Int, Int) {
        let (f0298, f0390, f0541, f0765, f0899, f1175) = (2446, 3196, 4433, 6270, 7373, 9633)
        let (f1501, f1847, f1961, f2053, f2562, f3072) = (12299, 15137, 16069, 16819, 20995, 25172)
        var z1 = (x.2 + x.6) * f0541
        var tmp2 = z1 + x.6 * -f1847
        var tmp3 = z1 + x.2 * f0765
        var tmp0 = (x.0 + x.4) << 13
        var tmp1 = (x.0 - x.4) << 13
        let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
        (tmp0, tmp1, tmp2, tmp3) = (x.7, x.5, x.3, x.1)
        z1 = tmp0 + tmp3
        var z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3
        let z5 = (z3 + z4) * f1175
        tmp0 *= f0298; tmp1 *= f2053; tmp2 *= f3072; tmp3 *= f1501
        z1 *= -f0899; z2 *= -f2562; z3 *= -f1961; z4 *= -f0390
        z3 += z5; z4 += z5
        tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4
        return (tmp10 + tmp3, tmp11 + tmp2, tmp12 + tmp1, tmp13 + tmp0, tmp13 - tmp0, tmp12 - tmp1, tmp11 - tmp2, tmp10 - tmp3)
    }

    /// jpeg_idct_islow: dequantise, columns then rows (PASS1_BITS 2), output through libjpeg's
    /// range-limit table (x & 1023 after centring). A column or row of zero AC terms takes the
    /// shortcut libjpeg takes; it gives the same values.
    @inline(__always) static func idctIslow(_ coef: UnsafeMutablePointer<Int16>, _ quant: UnsafePointer<Int>, _ ws: UnsafeMutablePointer<Int>,
                                            _ out: UnsafeMutablePointer<UInt8>, _ stride: Int) {
        @inline(__always) func descale(_ x: Int, _ n: Int) -> Int { (x + (1 << (n - 1))) >> n }
        for col in 0..<8 {
            @inline(__always) func q(_ row: Int) -> Int { Int(coef[row * 8 + col]) * quant[row * 8 + col] }
            if coef[8 + col] == 0 && coef[16 + col] == 0 && coef[24 + col] == 0 && coef[32 + col] == 0
                && coef[40 + col] == 0 && coef[48 + col] == 0 && coef[56 + col] == 0 {
                let dc = q(0) << 2
                for row in 0..<8 { ws[row * 8 + col] = dc }
                continue
            }
            let o = islowPass((q(0), q(1), q(2), q(3), q(4), q(5), q(6), q(7)))
            (ws[col], ws[8 + col], ws[16 + col], ws[24 + col]) = (descale(o.0, 11), descale(o.1, 11), descale(o.2, 11), descale(o.3, 11))
            (ws[32 + col], ws[40 + col], ws[48 + col], ws[56 + col]) = (descale(o.4, 11), descale(o.5, 11), descale(o.6, 11), descale(o.7, 11))
        }
        @inline(__always) func limit(_ x: Int) -> UInt8 {
            // libjpeg's post-IDCT range limit: x + 128 clamped for x in −512…511 (masked by 1023).
            let k = x & 1023
            return k < 128 ? UInt8(k + 128) : k < 512 ? 255 : k < 896 ? 0 : UInt8(k - 896)
        }
        for row in 0..<8 {
            let w = ws + row * 8, o = out + row * stride
            if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
                let v = limit(descale(w[0], 5))
                for x in 0..<8 { o[x] = v }
                continue
            }
            let r = islowPass((w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]))
            (o[0], o[1], o[2], o[3]) = (limit(descale(r.0, 18)), limit(descale(r.1, 18)), limit(descale(r.2, 18)), limit(descale(r.3, 18)))
            (o[4], o[5], o[6], o[7]) = (limit(descale(r.4, 18)), limit(descale(r.5, 18)), limit(descale(r.6, 18)), limit(descale(r.7, 18)))
        }
    }
}
