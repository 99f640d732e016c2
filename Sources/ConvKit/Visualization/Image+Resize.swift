extension Image {
    /// The image resampled to `width`×`height` with bilinear interpolation (pixel centres
    /// aligned, as `align_corners=False`).
    public func resized(width newWidth: Int, height newHeight: Int) throws -> Image {
        guard newWidth > 0, newHeight > 0 else {
            throw ConvKitError.invalidArgument(op: "Image.resized", argument: "size", message: "must be positive, got \(newWidth)×\(newHeight)")
        }
        try Limits.elementCount([channels, newHeight, newWidth], op: "Image.resized", what: "size")
        if newWidth == width && newHeight == height { return self }
        var out = [Float](repeating: 0, count: channels * newWidth * newHeight)
        let (sx, sy) = (Float(width) / Float(newWidth), Float(height) / Float(newHeight))
        for c in 0..<channels {
            let base = c * width * height
            for y in 0..<newHeight {
                let fy = Swift.max((Float(y) + 0.5) * sy - 0.5, 0)
                let y0 = Swift.min(Int(fy), height - 1), y1 = Swift.min(y0 + 1, height - 1), wy = fy - Float(y0)
                for x in 0..<newWidth {
                    let fx = Swift.max((Float(x) + 0.5) * sx - 0.5, 0)
                    let x0 = Swift.min(Int(fx), width - 1), x1 = Swift.min(x0 + 1, width - 1), wx = fx - Float(x0)
                    let top = pixels[base + y0 * width + x0] * (1 - wx) + pixels[base + y0 * width + x1] * wx
                    let bottom = pixels[base + y1 * width + x0] * (1 - wx) + pixels[base + y1 * width + x1] * wx
                    out[(c * newHeight + y) * newWidth + x] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return try Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// The image with `count` channels: gray from colour by luminance, colour from gray by
    /// repetition, alpha dropped.
    public func withChannels(_ count: Int) throws -> Image {
        let base = withoutAlpha
        switch (count, base.channels) {
        case (1, 1), (3, 3): return base
        case (1, 3): return base.grayscale
        case (3, 1): return try Image(width: width, height: height, channels: 3, pixels: base.pixels + base.pixels + base.pixels)
        default:
            throw ConvKitError.invalidArgument(op: "Image.withChannels", argument: "count", message: "must be 1 or 3, got \(count)")
        }
    }
}
