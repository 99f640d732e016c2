import Foundation

/// JPEG decoding in Swift (ITU-T T.81 / JFIF), no system library: baseline and extended
/// sequential (SOF0/SOF1) and progressive (SOF2) Huffman-coded images with 8-bit samples,
/// grayscale or YCbCr (or RGB, as Adobe's APP14 marker or component ids say), any integral
/// sampling factors (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1…), restart intervals, and the EXIF
/// orientation on request.
///
/// The output matches libjpeg-turbo's defaults (what Pillow uses): the accurate integer
/// inverse DCT (`jidctint.c`), "fancy" triangle-filter upsampling of chroma (`jdsample.c`)
/// and fixed-point YCbCr → RGB (`jdcolor.c`), so decoded samples are the same bytes.
///
/// Refused with `ConvKitError.invalidFile`: arithmetic coding, lossless and 12-bit JPEGs,
/// CMYK/YCCK, fractional sampling, and any image whose declared size its data cannot
/// justify (each 8×8 block costs at least one bit), before anything large is allocated.
public enum JPEG {
    /// Decoded 8-bit samples, interleaved (row by row, pixel by pixel, channel by channel).
    public typealias Samples = ImageBytes

    /// Whether `bytes` start with a JPEG's SOI marker.
    public static func isJPEG(_ bytes: [UInt8]) -> Bool { bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF }

    /// Decodes JPEG bytes to an image.
    /// - Parameters:
    ///   - applyingOrientation: rotate/flip as the EXIF orientation tag says (as
    ///     `PIL.ImageOps.exif_transpose`); off by default, as `PIL.Image.open` and torchvision.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>", applyingOrientation: Bool = false) throws -> Image {
        try decodeSamples(bytes, source: source, applyingOrientation: applyingOrientation).image
    }

    /// Decodes JPEG bytes to 8-bit samples (what Pillow's `np.asarray(Image.open(f))` holds).
    public static func decodeSamples(_ bytes: [UInt8], source: String = "<memory>", applyingOrientation: Bool = false) throws -> Samples {
        var decoder = JPEGDecoder(bytes: bytes, source: source)
        let samples = try decoder.decode()
        guard applyingOrientation, let orientation = decoder.orientation, orientation != 1 else { return samples }
        return oriented(samples, orientation)
    }

    /// Reads a JPEG file.
    public static func read(path: String, applyingOrientation: Bool = false) throws -> Image {
        let data = try FileBytes.read(path)
        return try decode(data, source: path, applyingOrientation: applyingOrientation)
    }

    /// The EXIF orientation (1–8) applied: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
    /// 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
    static func oriented(_ s: Samples, _ orientation: Int) -> Samples {
        let swap = orientation >= 5
        let (w, h, c) = swap ? (s.height, s.width, s.channels) : (s.width, s.height, s.channels)
        var out = [UInt8](repeating: 0, count: s.bytes.count)
        for y in 0..<h {
            for x in 0..<w {
                // (sx, sy): where output (x, y) comes from in the stored image.
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (s.width - 1 - x, y)
                case 3: (sx, sy) = (s.width - 1 - x, s.height - 1 - y)
                case 4: (sx, sy) = (x, s.height - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, s.height - 1 - x)
                case 7: (sx, sy) = (s.width - 1 - y, s.height - 1 - x)
                case 8: (sx, sy) = (s.width - 1 - y, x)
                default: (sx, sy) = (x, y)
                }
                for k in 0..<c { out[(y * w + x) * c + k] = s.bytes[(sy * s.width + sx) * c + k] }
            }
        }
        return Samples(unchecked: w, h, c, out)
    }
}

extension Image {
    /// Decodes PNG or JPEG bytes, told apart by content.
    /// - Throws: `ConvKitError.invalidFile` when the bytes are neither, or malformed.
    public init(bytes: [UInt8], source: String = "<memory>") throws {
        if JPEG.isJPEG(bytes) {
            self = try JPEG.decode(bytes, source: source)
        } else if bytes.starts(with: PNG.signature) {
            self = try PNG.decode(bytes, source: source)
        } else {
            throw ConvKitError.invalidFile(path: source, message: "not a PNG or JPEG image")
        }
    }

    /// Reads a PNG or JPEG file (told apart by content, not by extension).
    public init(contentsOf path: String) throws {
        let data = try FileBytes.read(path)
        try self.init(bytes: data, source: path)
    }
}
