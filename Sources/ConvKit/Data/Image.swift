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
