// U-Net (Ronneberger, Fischer and Brox 2015): a contracting path of double 3×3 convolutions
// and 2×2 max pooling, an expanding path of 2×2 up-convolutions whose output is concatenated
// with the contracting path's features at the same scale, and a 1×1 convolution per pixel.

/// Two 3×3 convolutions, each followed by ReLU (`0`, `1`, `2`, `3`); unpadded in the original.
func doubleConvolution(_ inChannels: Int, _ outChannels: Int, padding: Int, using g: inout SeededGenerator) throws -> Sequential {
    Sequential([try Conv2d(inChannels, outChannels, kernelSize: 3, padding: .explicit(before: [padding], after: [padding]), using: &g), ReLU(),
                try Conv2d(outChannels, outChannels, kernelSize: 3, padding: .explicit(before: [padding], after: [padding]), using: &g), ReLU()])
}

/// One step of the expanding path: a 2×2 up-convolution halving the channels (`up`), the
/// skip connection's features centre-cropped to its size and put in front, then a double
/// convolution (`conv`).
public final class UNetUpBlock: Module {
    public let up: ConvTranspose2d, conv: Sequential

    init(_ inChannels: Int, padding: Int, using g: inout SeededGenerator) throws {
        up = try ConvTranspose2d(inChannels, inChannels / 2, kernelSize: 2, stride: 2, using: &g)
        conv = try doubleConvolution(inChannels, inChannels / 2, padding: padding, using: &g)
    }

    /// Up-samples `input` and joins it with `skip` (cropped to the same height and width).
    public func forward(_ input: Tensor, skip: Tensor) throws -> Tensor {
        let upsampled = try up.forward(input)
        let (h, w) = (upsampled.shape[2], upsampled.shape[3])
        let (top, left) = ((skip.shape[2] - h) / 2, (skip.shape[3] - w) / 2)
        let cropped = try skip.slice(axis: 2, top..<(top + h)).slice(axis: 3, left..<(left + w))
        return try conv.forward(try Tensor.concatenate([cropped, upsampled], axis: 1))
    }

    /// As a module on its own: the up-convolution and convolution without a skip connection are
    /// not a U-Net step, so this is refused.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        throw ConvKitError.invalidArgument(op: "UNetUpBlock", argument: "input", message: "needs the skip connection: call forward(_:skip:)")
    }

    public var children: [(name: String, module: any Module)] { [("up", up), ("conv", conv)] }
}

/// U-Net with `depth` down-sampling steps and `width` channels at the top (doubled at each
/// step): children `inc`, `down1`…, `up1`…, `outc`. The original is width 64, depth 4,
/// unpadded convolutions (`padded: false`): a 572 × 572 tile gives a 388 × 388 map, and at
/// 1 input channel and 2 classes it has 31,030,593 parameters. Padded convolutions keep the
/// map the size of the input (any size divisible by 2^depth).
public final class UNet: Module {
    public let inc: Sequential
    public let downs: [Sequential], ups: [UNetUpBlock]
    public let outc: Conv2d

    /// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ depth ≤ 6 and width, classes and
    ///   input channels are positive (and the widest layer within the tensor limits).
    public init(inputChannels: Int = 1, classes: Int = 2, width: Int = 64, depth: Int = 4, padded: Bool = false, seed: UInt64 = 0) throws {
        try Limits.check(depth, in: 1...6, op: "UNet", argument: "depth")
        try Limits.check(width, in: 1...4096, op: "UNet", argument: "width")
        try Limits.check(classes, in: 1...1_000_000, op: "UNet", argument: "classes")
        try Limits.check(inputChannels, in: 1...4096, op: "UNet", argument: "inputChannels")
        var g = SeededGenerator(seed: seed)
        let p = padded ? 1 : 0
        inc = try doubleConvolution(inputChannels, width, padding: p, using: &g)
        downs = try (1...depth).map { i in
            Sequential([MaxPool2d(kernelSize: 2), try doubleConvolution(width << (i - 1), width << i, padding: p, using: &g)])
        }
        ups = try (1...depth).map { i in try UNetUpBlock(width << (depth - i + 1), padding: p, using: &g) }
        outc = try Conv2d(width, classes, kernelSize: 1, using: &g)
    }

    /// (N, C, H, W) → (N, classes, H′, W′): per-pixel class scores.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var skips = [try inc.forward(input)]
        for down in downs { skips.append(try down.forward(skips.last!)) }
        var x = skips.removeLast()
        for up in ups { x = try up.forward(x, skip: skips.removeLast()) }
        return try outc.forward(x)
    }

    public var children: [(name: String, module: any Module)] {
        [("inc", inc)] + downs.enumerated().map { ("down\($0.offset + 1)", $0.element) }
            + ups.enumerated().map { ("up\($0.offset + 1)", $0.element) } + [("outc", outc)]
    }
}
