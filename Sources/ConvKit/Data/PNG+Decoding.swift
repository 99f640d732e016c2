extension PNG {
    struct Header {
        let width: Int, height: Int, bitDepth: Int, colorType: Int, interlaced: Bool
        var samplesPerPixel: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }
        /// Bytes per complete pixel for filtering (at least 1).
        var filterStep: Int { Swift.max(1, samplesPerPixel * bitDepth / 8) }
        func rowBytes(_ w: Int) -> Int { (w * samplesPerPixel * bitDepth + 7) / 8 }
    }

    /// The Adam7 passes: (x0, y0, dx, dy).
    static let adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

    /// Decodes PNG bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> Image {
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "PNG: " + message) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw fail("not a PNG file (bad signature)") }
        var at = 8
        var header: Header?
        var palette: [[Float]] = []
        var transparency: [UInt8] = []
        var compressed: [UInt8] = []
        var ended = false
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        while !ended {
            guard at + 12 <= bytes.count else { throw fail("file ends inside a chunk header (truncated?)") }
            let length = u32(at)
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            guard length <= bytes.count - at - 12 else { throw fail("chunk \(type) of \(length) bytes runs past the end (truncated?)") }
            let data = Array(bytes[(at + 8)..<(at + 8 + length)])
            guard Zlib.crc32(bytes[(at + 4)..<(at + 8 + length)]) == UInt32(u32(at + 8 + length)) else {
                throw fail("chunk \(type) has a bad CRC (corrupt file)")
            }
            at += 12 + length
            switch type {
            case "IHDR":
                guard length == 13 else { throw fail("IHDR must be 13 bytes, got \(length)") }
                let size = { (i: Int) in data[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
                let h = Header(width: size(0), height: size(4), bitDepth: Int(data[8]), colorType: Int(data[9]),
                               interlaced: data[12] == 1)
                let allowed = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard allowed[h.colorType]?.contains(h.bitDepth) == true else {
                    throw fail("colour type \(h.colorType) with bit depth \(h.bitDepth) is not a valid combination")
                }
                guard data[10] == 0, data[11] == 0, data[12] <= 1 else { throw fail("unknown compression, filter or interlace method") }
                let (pixels, overflow) = h.width.multipliedReportingOverflow(by: h.height)
                guard h.width > 0, h.height > 0, !overflow, pixels <= maxPixels else {
                    throw fail("size \(h.width)×\(h.height) is empty or larger than \(maxPixels) pixels")
                }
                header = h
            case "PLTE":
                guard length % 3 == 0, (1...256).contains(length / 3) else { throw fail("PLTE must hold 1–256 RGB entries") }
                palette = stride(from: 0, to: length, by: 3).map { i in (0..<3).map { Float(data[i + $0]) / 255 } }
            case "tRNS":
                transparency = data
            case "IDAT":
                compressed += data
            case "IEND":
                ended = true
            default:
                // Unknown ancillary chunks (lowercase first letter) are skipped; unknown critical ones are errors.
                guard let first = type.unicodeScalars.first, first.properties.isLowercase else {
                    throw fail("unknown critical chunk \(type)")
                }
            }
        }
        guard let h = header else { throw fail("no IHDR chunk") }
        guard h.colorType != 3 || !palette.isEmpty else { throw fail("palette image without a PLTE chunk") }
        let passes = h.interlaced ? adam7 : [(0, 0, 1, 1)]
        var expected = 0
        for (x0, y0, dx, dy) in passes {
            let w = (h.width - x0 + dx - 1) / dx, rows = (h.height - y0 + dy - 1) / dy
            if w > 0 && rows > 0 { expected += rows * (1 + h.rowBytes(w)) }
        }
        // Inflate only what the header declares (extra data is ignored, as libpng does), and
        // refuse at once when the IDAT bytes are too few to hold it even at deflate's best ratio.
        guard expected / Zlib.maxRatio <= compressed.count else {
            throw fail("image data holds \(compressed.count) compressed bytes, too few for \(expected) (truncated?)")
        }
        let raw = try Zlib.decompressPrefix(compressed, count: expected, source: source)
        guard raw.count >= expected else { throw fail("image data holds \(raw.count) bytes, expected \(expected) (truncated?)") }

        // Samples as integers, pixel-major, before palette expansion.
        let spp = h.samplesPerPixel
        var samples = [UInt16](repeating: 0, count: h.width * h.height * spp)
        var offset = 0
        for (x0, y0, dx, dy) in passes {
            let w = (h.width - x0 + dx - 1) / dx, rows = (h.height - y0 + dy - 1) / dy
            guard w > 0 && rows > 0 else { continue }
            let rowBytes = h.rowBytes(w)
            var previous = [UInt8](repeating: 0, count: rowBytes)
            for r in 0..<rows {
                let filter = raw[offset]
                var row = Array(raw[(offset + 1)..<(offset + 1 + rowBytes)])
                offset += 1 + rowBytes
                try unfilter(&row, previous: previous, filter: filter, step: h.filterStep, fail: fail)
                let y = y0 + r * dy
                for i in 0..<(w * spp) {
                    let value: UInt16
                    switch h.bitDepth {
                    case 16: value = UInt16(row[2 * i]) << 8 | UInt16(row[2 * i + 1])
                    case 8: value = UInt16(row[i])
                    default:
                        let bit = i * h.bitDepth
                        value = UInt16(row[bit / 8] >> (8 - h.bitDepth - bit % 8)) & ((1 << h.bitDepth) - 1)
                    }
                    let x = x0 + (i / spp) * dx
                    samples[(y * h.width + x) * spp + i % spp] = value
                }
                previous = row
            }
        }
        return try planes(samples, header: h, palette: palette, transparency: transparency, fail: fail)
    }

    /// Reverses a row filter in place (filter types 0–4 of the PNG specification).
    static func unfilter(_ row: inout [UInt8], previous: [UInt8], filter: UInt8, step: Int,
                         fail: (String) -> ConvKitError) throws {
        switch filter {
        case 0: return
        case 1: for i in step..<Swift.max(row.count, step) { row[i] &+= row[i - step] }
        case 2: for i in row.indices { row[i] &+= previous[i] }
        case 3:
            for i in row.indices {
                let a = i >= step ? Int(row[i - step]) : 0
                row[i] &+= UInt8((a + Int(previous[i])) / 2)
            }
        case 4:
            for i in row.indices {
                let a = i >= step ? Int(row[i - step]) : 0, b = Int(previous[i]), c = i >= step ? Int(previous[i - step]) : 0
                let p = a + b - c
                let (pa, pb, pc) = (Swift.abs(p - a), Swift.abs(p - b), Swift.abs(p - c))
                row[i] &+= UInt8(pa <= pb && pa <= pc ? a : (pb <= pc ? b : c))
            }
        default: throw fail("unknown row filter type \(filter)")
        }
    }

    /// Integer samples → float planes in [0, 1]; palette indices → RGB, or RGBA with tRNS.
    static func planes(_ samples: [UInt16], header h: Header, palette: [[Float]], transparency: [UInt8],
                       fail: (String) -> ConvKitError) throws -> Image {
        let plane = h.width * h.height
        if h.colorType == 3 {
            let channels = transparency.isEmpty ? 3 : 4
            var pixels = [Float](repeating: 0, count: channels * plane)
            for p in 0..<plane {
                let index = Int(samples[p])
                guard index < palette.count else { throw fail("palette index \(index) beyond the \(palette.count) entries") }
                for c in 0..<3 { pixels[c * plane + p] = palette[index][c] }
                if channels == 4 { pixels[3 * plane + p] = index < transparency.count ? Float(transparency[index]) / 255 : 1 }
            }
            return try Image(width: h.width, height: h.height, channels: channels, pixels: pixels)
        }
        let spp = h.samplesPerPixel
        let maxValue = Float((1 << h.bitDepth) - 1)
        var pixels = [Float](repeating: 0, count: spp * plane)
        for p in 0..<plane { for c in 0..<spp { pixels[c * plane + p] = Float(samples[p * spp + c]) / maxValue } }
        return try Image(width: h.width, height: h.height, channels: spp, pixels: pixels)
    }
}
