import _ConvKitKernels

/// From coefficients to samples exactly as libjpeg-turbo's defaults: the accurate integer
/// inverse DCT (`jidctint.c`, `jpeg_idct_islow`), "fancy" upsampling (`jdsample.c`) and
/// fixed-point YCbCr → RGB (`jdcolor.c`), by the kernels of `JPEGSampleKernel`.
extension JPEGDecoder {
    /// Every component's samples at full resolution, colour-converted and interleaved, row by
    /// row: each row of a subsampled component is upsampled into a row buffer just before use.
    mutating func output() throws -> JPEG.Samples {
        for (i, c) in components.enumerated() where quantTables[c.quantTable] == nil {
            throw fail("component \(i) uses quantisation table \(c.quantTable), never defined")
        }
        let planes = components.map { inverseTransform($0) }
        let (width, height, channels) = (self.width, self.height, planes.count)
        // Three components: RGB as stored (Adobe transform 0, or ids 'R', 'G', 'B'), else YCbCr (libjpeg's rules).
        let ids = components.map(\.id)
        let rgb = !sawJFIF && (adobeTransform == 0 || (adobeTransform == nil && ids == [82, 71, 66]))
        // Row buffers of the upsampled components: 2 × ⌈w/2⌉ or more samples (≥ width).
        let rowBuffers = components.map { c in Plane(stride: c.width * (maxH / c.h) + 16, rows: 1) }
        let out = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, initialized in
            let o = buffer.baseAddress!
            var rows = [UnsafePointer<UInt8>](repeating: UnsafePointer(o), count: channels)
            for y in 0..<height {
                for i in 0..<channels { rows[i] = fullResolutionRow(y, of: components[i], plane: planes[i], into: rowBuffers[i].samples) }
                let dst = o + y * width * channels
                if channels == 1 {
                    dst.update(from: rows[0], count: width)
                } else if rgb {
                    for x in 0..<width { (dst[3 * x], dst[3 * x + 1], dst[3 * x + 2]) = (rows[0][x], rows[1][x], rows[2][x]) }
                } else {
                    JPEGSampleKernel.yccToRGB(count: width, y: rows[0], cb: rows[1], cr: rows[2], rgb: dst)
                }
            }
            initialized = width * height * channels
        }
        return JPEG.Samples(unchecked: width, height, channels, out)
    }

    /// A component's samples after the inverse DCT: `stride` per row, `rows` rows.
    final class Plane {
        let samples: UnsafeMutablePointer<UInt8>
        let stride: Int, rows: Int
        init(stride: Int, rows: Int) {
            (self.stride, self.rows) = (stride, rows)
            samples = .allocate(capacity: Swift.max(stride * rows, 1))
        }
        deinit { samples.deallocate() }
    }

    /// Every stored block of `c` through the inverse DCT: a plane of blocksPerLine·8 columns.
    func inverseTransform(_ c: Component) -> Plane {
        let plane = Plane(stride: c.blocksPerLine * 8, rows: c.blocksPerColumn * 8)
        quantTables[c.quantTable]!.withUnsafeBufferPointer { q in
            for by in 0..<c.blocksPerColumn {
                JPEGSampleKernel.inverseDCT(blocks: c.blocksPerLine, coefficients: c.coefficients.pointer + by * c.blocksPerLine * 64,
                                            quantization: q.baseAddress!, output: plane.samples + by * 8 * plane.stride, stride: plane.stride)
            }
        }
        return plane
    }

    /// Output row `y` of component `c` at full resolution (maxH/h × maxV/v), as libjpeg-turbo
    /// upsamples: triangle filters for 2×1 and 2×2 (fancy upsampling, when the component is
    /// more than 2 samples wide) and 1×2, replication otherwise. Points into the plane when
    /// the component is not subsampled, else into `buffer`.
    func fullResolutionRow(_ y: Int, of c: Component, plane: Plane, into buffer: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8> {
        let (fh, fv, w) = (maxH / c.h, maxV / c.v, c.width)
        let p = plane.samples, ps = plane.stride
        if fh == 1 && fv == 1 { return UnsafePointer(p + y * ps) }
        // Context rows above the first and below the last are the edge rows themselves (jdmainct.c).
        let (row, upper) = (y / fv, y % fv == 0)
        let neighbour = UnsafePointer(p + Swift.min(Swift.max(upper ? row - 1 : row + 1, 0), c.height - 1) * ps)
        let input = UnsafePointer(p + row * ps)
        if fh == 2 && fv == 1 && w > 2 {
            JPEGSampleKernel.upsampleAcross(width: w, row: input, neighbour: nil, output: buffer)
        } else if fh == 2 && fv == 2 && w > 2 {
            JPEGSampleKernel.upsampleAcross(width: w, row: input, neighbour: neighbour, output: buffer)
        } else if fh == 1 && fv == 2 {
            JPEGSampleKernel.upsampleDown(width: w, row: input, neighbour: neighbour, upper: upper, output: buffer)
        } else {
            for x in 0..<(w * fh) { buffer[x] = input[x / fh] }
        }
        return UnsafePointer(buffer)
    }
}
