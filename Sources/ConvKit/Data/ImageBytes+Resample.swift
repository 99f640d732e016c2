/// Resizing and cropping 8-bit images exactly as Pillow's `Image.resize` and torchvision's
/// `center_crop` on a PIL image do (what torchvision's ImageNet presets run), so that a
/// photo preprocessed here gives the same bytes as in Python.
///
/// Resampling follows Pillow's `ImagingResample` (libImaging/Resample.c): a separable filter
/// whose support widens by the scale when shrinking (antialiasing), coefficients normalised
/// then rounded to 22-bit fixed point, a horizontal pass into an 8-bit intermediate, then a
/// vertical pass, each output rounded and clipped to 0…255.
extension ImageBytes {
    /// Pillow's resampling filters.
    public enum Filter: String, Sendable, Codable, CaseIterable {
        case nearest, bilinear, bicubic

        var support: Double { self == .bicubic ? 2 : 1 }

        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .nearest: return x < 0.5 ? 1 : 0  // (not used for resampling: nearest picks one pixel)
            case .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    /// The image resized to `width`×`height` as `PIL.Image.resize((width, height), filter)`.
    /// - Throws: `ConvKitError.invalidArgument` for a size below 1 or over the tensor cap.
    public func resized(width newWidth: Int, height newHeight: Int, filter: Filter) throws -> ImageBytes {
        try Limits.check(newWidth, in: 1...Limits.maxAxisValue, op: "ImageBytes.resized", argument: "width")
        try Limits.check(newHeight, in: 1...Limits.maxAxisValue, op: "ImageBytes.resized", argument: "height")
        try Limits.elementCount([newHeight, newWidth, channels], op: "ImageBytes.resized", what: "size")
        if filter == .nearest { return nearest(newWidth, newHeight) }
        var image = self
        let vertical = Self.coefficients(inSize: height, outSize: newHeight, filter: filter)
        if newWidth != width {
            // Only the rows the vertical pass reads go through the horizontal one (as Pillow).
            let first = vertical.bounds[0].start, last = vertical.bounds[newHeight - 1].start + vertical.bounds[newHeight - 1].count
            image = image.horizontal(Self.coefficients(inSize: width, outSize: newWidth, filter: filter), rows: first..<last)
            if newHeight != height || first != 0 {
                image = image.vertical(vertical, shift: first)
            }
        } else if newHeight != height {
            image = image.vertical(vertical, shift: 0)
        }
        return image
    }

    /// Pillow's 22-bit fixed-point coefficients for one axis: for each output position, the
    /// first input it reads, how many, and their weights.
    struct Coefficients {
        var bounds: [(start: Int, count: Int)] = []
        var weights: [[Int32]] = []
    }

    static let precisionBits = 32 - 8 - 2

    /// precompute_coeffs + normalize_coeffs_8bpc (Resample.c).
    static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = Swift.max(scale, 1)
        let support = filter.support * filterScale
        var c = Coefficients()
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            let xmin = Swift.max(Int(center - support + 0.5), 0)
            let xmax = Swift.min(Int(center + support + 0.5), inSize) - xmin
            var w = (0..<Swift.max(xmax, 0)).map { filter.weight((Double($0 + xmin) - center + 0.5) * ss) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            c.bounds.append((xmin, Swift.max(xmax, 0)))
            c.weights.append(w.map { v in
                Int32(v < 0 ? (-0.5 + v * Double(1 << precisionBits)) : (0.5 + v * Double(1 << precisionBits)))
            })
        }
        return c
    }

    @inline(__always) static func clip8(_ v: Int) -> UInt8 {
        let shifted = v >> precisionBits
        return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
    }

    func horizontal(_ c: Coefficients, rows: Range<Int>) -> ImageBytes {
        let newWidth = c.bounds.count
        var out = [UInt8](repeating: 0, count: newWidth * rows.count * channels)
        for (oy, y) in rows.enumerated() {
            for xx in 0..<newWidth {
                let (start, count) = c.bounds[xx]
                for ch in 0..<channels {
                    var ss = 1 << (Self.precisionBits - 1)
                    for x in 0..<count { ss += Int(bytes[(y * width + start + x) * channels + ch]) * Int(c.weights[xx][x]) }
                    out[(oy * newWidth + xx) * channels + ch] = Self.clip8(ss)
                }
            }
        }
        return ImageBytes(unchecked: newWidth, rows.count, channels, out)
    }

    /// The vertical pass; `shift` is the first input row kept by the horizontal pass.
    func vertical(_ c: Coefficients, shift: Int) -> ImageBytes {
        let newHeight = c.bounds.count
        var out = [UInt8](repeating: 0, count: width * newHeight * channels)
        for yy in 0..<newHeight {
            let (start, count) = c.bounds[yy]
            for x in 0..<width {
                for ch in 0..<channels {
                    var ss = 1 << (Self.precisionBits - 1)
                    for y in 0..<count { ss += Int(bytes[((start - shift + y) * width + x) * channels + ch]) * Int(c.weights[yy][y]) }
                    out[(yy * width + x) * channels + ch] = Self.clip8(ss)
                }
            }
        }
        return ImageBytes(unchecked: width, newHeight, channels, out)
    }

    /// Pillow's NEAREST: the input pixel under each output pixel's centre.
    func nearest(_ newWidth: Int, _ newHeight: Int) -> ImageBytes {
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            let sy = Swift.min(Int((Double(y) + 0.5) * Double(height) / Double(newHeight)), height - 1)
            for x in 0..<newWidth {
                let sx = Swift.min(Int((Double(x) + 0.5) * Double(width) / Double(newWidth)), width - 1)
                for ch in 0..<channels { out[(y * newWidth + x) * channels + ch] = bytes[(sy * width + sx) * channels + ch] }
            }
        }
        return ImageBytes(unchecked: newWidth, newHeight, channels, out)
    }

    /// The size torchvision's `resize(img, [size])` gives: the shorter side becomes `size`,
    /// the longer one `int(size · long / short)` (truncated, as Python's `int`).
    public func shorterSideSize(_ size: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(size) * Double(long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }

    /// torchvision's `center_crop`: offsets `int(round((size − crop) / 2))` (Python rounds
    /// halves to even); a crop larger than the image pads it with zeros first, as torchvision.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) throws -> ImageBytes {
        try Limits.check(cropWidth, in: 1...Limits.maxAxisValue, op: "ImageBytes.centerCropped", argument: "width")
        try Limits.check(cropHeight, in: 1...Limits.maxAxisValue, op: "ImageBytes.centerCropped", argument: "height")
        try Limits.elementCount([cropHeight, cropWidth, channels], op: "ImageBytes.centerCropped", what: "size")
        func offset(_ size: Int, _ crop: Int) -> Int { Int((Double(size - crop) / 2).rounded(.toNearestOrEven)) }
        // Padding (left, top) as torchvision: [(crop − w) // 2, (crop − h) // 2, (crop − w + 1) // 2, …].
        let (padLeft, padTop) = (Swift.max(cropWidth - width, 0) / 2, Swift.max(cropHeight - height, 0) / 2)
        let (paddedWidth, paddedHeight) = (Swift.max(width, cropWidth), Swift.max(height, cropHeight))
        let (left, top) = (offset(paddedWidth, cropWidth), offset(paddedHeight, cropHeight))
        var out = [UInt8](repeating: 0, count: cropWidth * cropHeight * channels)
        for y in 0..<cropHeight {
            let sy = y + top - padTop
            guard (0..<height).contains(sy) else { continue }
            for x in 0..<cropWidth {
                let sx = x + left - padLeft
                guard (0..<width).contains(sx) else { continue }
                for ch in 0..<channels { out[(y * cropWidth + x) * channels + ch] = bytes[(sy * width + sx) * channels + ch] }
            }
        }
        return ImageBytes(unchecked: cropWidth, cropHeight, channels, out)
    }
}
