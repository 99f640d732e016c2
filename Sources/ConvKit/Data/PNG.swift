import Foundation

/// PNG reading and writing (ISO/IEC 15948), over the system zlib: every colour type (gray,
/// gray + alpha, RGB, RGBA, palette with tRNS transparency), bit depths 1–16, all five row
/// filters, non-interlaced and Adam7. CRCs, sizes and the compressed stream are checked.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The largest image accepted (pixels), so a forged header cannot ask for unbounded memory.
    public static let maxPixels = 1 << 26

    /// Reads a PNG file.
    /// - Throws: `ConvKitError.io` when it cannot be read, `ConvKitError.invalidFile` when it
    ///   is not a valid PNG (message says what is wrong).
    public static func read(path: String) throws -> Image {
        let data = try FileBytes.read(path)
        return try decode(data, source: path)
    }

    /// Writes `image` as a PNG file atomically, 8 or 16 bits per sample.
    public static func write(_ image: Image, to path: String, bitDepth: Int = 8) throws {
        try AtomicFile.write(try encode(image, bitDepth: bitDepth), to: path)
    }
}
