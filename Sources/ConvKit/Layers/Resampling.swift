/// `nn.PixelShuffle`: (N, C·r², H, W) → (N, C, H·r, W·r).
public final class PixelShuffle: Module {
    public let upscaleFactor: Int
    public init(upscaleFactor: Int) { self.upscaleFactor = upscaleFactor }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try pixelShuffle(input, upscaleFactor: upscaleFactor) }
}

/// `nn.Upsample` on (N, C, H, W): to `size` or by `scaleFactor`, nearest or bilinear.
public final class Upsample: Module {
    public let size: [Int]?, scaleFactor: Double?
    public let mode: UpsampleMode, alignCorners: Bool
    public init(size: [Int]? = nil, scaleFactor: Double? = nil, mode: UpsampleMode = .nearest, alignCorners: Bool = false) {
        (self.size, self.scaleFactor, self.mode, self.alignCorners) = (size, scaleFactor, mode, alignCorners)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try upsample(input, size: size, scaleFactor: scaleFactor, mode: mode, alignCorners: alignCorners)
    }
}
