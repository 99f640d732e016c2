import Foundation

/// An 8-bit image as decoders and torchvision's uint8 pipeline hold it: samples interleaved
/// row by row, pixel by pixel (H, W, C), as `numpy.asarray(PIL.Image)`.
public struct ImageBytes: Sendable, Equatable {
    public let width: Int, height: Int
    /// 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    public var bytes: [UInt8]

    /// - Throws: `ConvKitError.shapeMismatch` unless the count is width·height·channels with 1–4 channels.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) throws {
        guard width > 0, height > 0, (1...4).contains(channels), bytes.count == width * height * channels else {
            throw ConvKitError.shapeMismatch(op: "ImageBytes", message: "expected \(height)×\(width)×\(channels) bytes, got \(bytes.count)")
        }
        (self.width, self.height, self.channels, self.bytes) = (width, height, channels, bytes)
    }

    init(unchecked width: Int, _ height: Int, _ channels: Int, _ bytes: [UInt8]) {
        (self.width, self.height, self.channels, self.bytes) = (width, height, channels, bytes)
    }

    /// An `Image`'s values in [0, 1] rounded to the nearest of 0…255 (exact for 8-bit sources).
    public init(_ image: Image) {
        let plane = image.width * image.height
        var bytes = [UInt8](repeating: 0, count: plane * image.channels)
        for i in 0..<plane {
            for c in 0..<image.channels {
                bytes[i * image.channels + c] = UInt8(Swift.min(Swift.max((image.pixels[c * plane + i] * 255).rounded(), 0), 255))
            }
        }
        self.init(unchecked: image.width, image.height, image.channels, bytes)
    }

    /// As an `Image` (C, H, W) with values sample/255.
    public var image: Image {
        let plane = width * height
        var pixels = [Float](repeating: 0, count: plane * channels)
        for i in 0..<plane { for c in 0..<channels { pixels[c * plane + i] = Float(bytes[i * channels + c]) / 255 } }
        return try! Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// RGB as Pillow's `convert("RGB")` makes it: gray repeated, alpha dropped.
    public var rgb: ImageBytes {
        guard channels != 3 else { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            for c in 0..<3 { out[i * 3 + c] = channels < 3 ? bytes[i * channels] : bytes[i * channels + c] }
        }
        return ImageBytes(unchecked: width, height, 3, out)
    }
}

extension Image {
    /// Reads a PNG or JPEG file as 8-bit samples (PNG's 16-bit samples rounded to 8).
    public static func bytes(contentsOf path: String) throws -> ImageBytes {
        let bytes = try FileBytes.read(path)
        return JPEG.isJPEG(bytes) ? try JPEG.decodeSamples(bytes, source: path) : ImageBytes(try Image(bytes: bytes, source: path))
    }
}
