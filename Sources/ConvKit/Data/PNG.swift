import Foundation

/// An image as float32 planes (C, H, W) with values in [0, 1]: 1 channel (gray), 2 (gray +
/// alpha), 3 (RGB) or 4 (RGBA).
public struct Image: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    /// `channels · height · width` values, plane by plane.
    public var pixels: [Float]

    /// - Throws: `ConvKitError.shapeMismatch` when the count is not channels·height·width.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws {
        guard width > 0, height > 0, (1...4).contains(channels), pixels.count == width * height * channels else {
            throw ConvKitError.shapeMismatch(
                op: "Image", message: "expected \(channels)×\(height)×\(width) values (1–4 channels), got \(pixels.count)")
        }
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// The image as a (C, H, W) tensor.
    public var tensor: Tensor { Tensor(uncheckedShape: [channels, height, width], scalars: pixels) }

    /// An image from a (C, H, W) or (H, W) tensor, values clamped to [0, 1].
    public init(_ tensor: Tensor) throws {
        let shape = tensor.rank == 2 ? [1] + tensor.shape : tensor.shape
        guard shape.count == 3 else {
            throw ConvKitError.shapeMismatch(op: "Image", message: "expected a (C, H, W) or (H, W) tensor, got \(tensor.shape)")
        }
        try self.init(width: shape[2], height: shape[1], channels: shape[0],
                      pixels: tensor.scalars.map { $0.isNaN ? 0 : Swift.min(Swift.max($0, 0), 1) })
    }

    /// Luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B), dropping alpha.
    public var grayscale: Image {
        let plane = width * height
        guard channels >= 3 else { return try! Image(width: width, height: height, channels: 1, pixels: Array(pixels[0..<plane])) }
        let gray = (0..<plane).map { 0.299 * pixels[$0] + 0.587 * pixels[plane + $0] + 0.114 * pixels[2 * plane + $0] }
        return try! Image(width: width, height: height, channels: 1, pixels: gray)
    }

    /// The colour channels without alpha (gray or RGB).
    public var withoutAlpha: Image {
        guard channels == 2 || channels == 4 else { return self }
        return try! Image(width: width, height: height, channels: channels - 1,
                          pixels: Array(pixels[0..<((channels - 1) * width * height)]))
    }
}

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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvKitError.io(path: path, message: "cannot read the file")
        }
        return try decode([UInt8](data), source: path)
    }

    /// Writes `image` as a PNG file atomically, 8 or 16 bits per sample.
    public static func write(_ image: Image, to path: String, bitDepth: Int = 8) throws {
        try AtomicFile.write(try encode(image, bitDepth: bitDepth), to: path)
    }
}

extension Image {
    /// Photos bundled with ConvKit (public domain, from scikit-image's data set): `camera`
    /// (the cameraman, 512×512 gray) and `chelsea` (the cat, 451×300 RGB).
    public enum Sample: String, Sendable, CaseIterable {
        case camera, chelsea
    }

    /// A black-and-white checkerboard (001's edge-detector exercise): `size`×`size` pixels in
    /// squares of `square` pixels, white first.
    public static func checkerboard(size: Int = 64, square: Int = 8) -> Image {
        let s = Swift.max(square, 1)
        let pixels = (0..<(size * size)).map { i in Float(((i / size) / s + (i % size) / s) % 2 == 0 ? 1 : 0) }
        return try! Image(width: size, height: size, channels: 1, pixels: pixels)
    }

    /// A bundled photo, or "checkerboard" (generated), by name; nil for other names.
    public static func named(_ name: String) throws -> Image? {
        if name == "checkerboard" { return checkerboard() }
        return try Sample(rawValue: name).map { try sample($0) }
    }

    /// Loads a bundled photo.
    public static func sample(_ which: Sample) throws -> Image {
        guard let url = Bundle.module.url(forResource: "images", withExtension: nil)?.appendingPathComponent("\(which.rawValue).png") else {
            throw ConvKitError.io(path: "images/\(which.rawValue).png", message: "the bundled photos are missing from ConvKit's resources")
        }
        return try PNG.read(path: url.path)
    }
}
