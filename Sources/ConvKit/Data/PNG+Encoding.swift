extension PNG {
    /// Encodes `image` (values clamped to [0, 1]) as PNG bytes: gray, gray + alpha, RGB or
    /// RGBA by its channel count; 8 or 16 bits per sample; non-interlaced, each row filtered
    /// with the filter that minimises the sum of absolute differences (the usual heuristic).
    /// - Throws: `ConvKitError.invalidArgument` for a bit depth other than 8 or 16.
    public static func encode(_ image: Image, bitDepth: Int = 8) throws -> [UInt8] {
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ConvKitError.invalidArgument(op: "PNG.encode", argument: "bitDepth", message: "must be 8 or 16, got \(bitDepth)")
        }
        let (w, h, c) = (image.width, image.height, image.channels)
        let colorType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][c]!
        let maxValue = Float((1 << bitDepth) - 1)
        let bytesPerSample = bitDepth / 8
        let rowBytes = w * c * bytesPerSample
        var raw = [UInt8]()
        raw.reserveCapacity(h * (rowBytes + 1))
        var previous = [UInt8](repeating: 0, count: rowBytes)
        let plane = w * h
        for y in 0..<h {
            var row = [UInt8](repeating: 0, count: rowBytes)
            for x in 0..<w {
                for ch in 0..<c {
                    let v = image.pixels[ch * plane + y * w + x]
                    let q = Int((Swift.min(Swift.max(v.isNaN ? 0 : v, 0), 1) * maxValue).rounded())
                    let i = (x * c + ch) * bytesPerSample
                    if bitDepth == 16 { row[i] = UInt8(q >> 8); row[i + 1] = UInt8(q & 0xFF) } else { row[i] = UInt8(q) }
                }
            }
            let (filter, filtered) = bestFilter(row, previous: previous, step: c * bytesPerSample)
            raw.append(filter)
            raw += filtered
            previous = row
        }
        var out = signature
        var ihdr = [UInt8]()
        for v in [w, h] { ihdr += [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        ihdr += [UInt8(bitDepth), colorType, 0, 0, 0]
        out += chunk("IHDR", ihdr) + chunk("IDAT", Zlib.compress(raw)) + chunk("IEND", [])
        return out
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = Zlib.crc32(body)
        let n = data.count
        return [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
            + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }

    /// Filters a row with each of the five filters and keeps the smallest by sum of |signed bytes|.
    static func bestFilter(_ row: [UInt8], previous: [UInt8], step: Int) -> (UInt8, [UInt8]) {
        var best: (UInt8, [UInt8], Int)?
        for filter in UInt8(0)...4 {
            var out = row
            for i in row.indices {
                let a = i >= step ? Int(row[i - step]) : 0, b = Int(previous[i]), c = i >= step ? Int(previous[i - step]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default:
                    let p = a + b - c
                    let (pa, pb, pc) = (Swift.abs(p - a), Swift.abs(p - b), Swift.abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                }
                out[i] = row[i] &- UInt8(predictor)
            }
            let cost = out.reduce(0) { $0 + Swift.abs(Int(Int8(bitPattern: $1))) }
            if best == nil || cost < best!.2 { best = (filter, out, cost) }
        }
        return (best!.0, best!.1)
    }
}
