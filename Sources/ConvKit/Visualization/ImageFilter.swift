/// Applies a kernel to every channel of an image (a depthwise `conv2d`), as the course's
/// filter examples do, and scales results for display.
public enum ImageFilter {
    /// The filtered channels (C, H_out, W_out), raw values. For `.sobel`, √(gx² + gy²).
    /// - Throws: `ConvKitError` for impossible geometry (e.g. a kernel larger than the padded image).
    public static func apply(
        _ kernel: [[Float]], to image: Image, stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1,
        paddingMode: PaddingMode = .zeros, magnitudeWith second: [[Float]]? = nil
    ) throws -> Tensor {
        let c = image.channels
        func run(_ k: [[Float]]) throws -> Tensor {
            let (kh, kw) = (k.count, k.first?.count ?? 0)
            let w = try Tensor(shape: [1, 1, kh, kw], scalars: k.flatMap { $0 })
            let weight = try Tensor.concatenate(Array(repeating: w, count: c), axis: 0)  // (C, 1, kh, kw)
            return try conv2d(try image.tensor.unsqueezed(axis: 0), weight: weight, stride: stride, padding: padding,
                              dilation: dilation, groups: c, paddingMode: paddingMode).squeezed(axis: 0)
        }
        let gx = try run(kernel)
        guard let second else { return gx }
        let gy = try run(second)
        return try (gx.squared() + gy.squared()).sqrt()
    }

    /// Applies a named kernel (`sobel` gives the gradient magnitude).
    public static func apply(
        _ named: NamedKernel, sigma: Float = 1, to image: Image, stride: PerAxis = 1, padding: Padding = 0,
        dilation: PerAxis = 1, paddingMode: PaddingMode = .zeros
    ) throws -> Tensor {
        try apply(named.matrix(sigma: sigma), to: image, stride: stride, padding: padding, dilation: dilation,
                  paddingMode: paddingMode, magnitudeWith: named == .sobel ? NamedKernel.sobelY.matrix() : nil)
    }

    /// Maps values to [0, 1] for display: kernels whose output has both signs (edges) show
    /// |value| / max |value|; non-negative outputs (blur, sharpen of an image) are clamped to [0, 1]
    /// when they fit, else min–max scaled.
    public static func displayScaled(_ t: Tensor) -> Tensor {
        let values = t.scalars.filter(\.isFinite)
        let (lo, hi) = (values.min() ?? 0, values.max() ?? 1)
        let scaled: [Float]
        if lo < -1e-6 {
            let m = Swift.max(Swift.abs(lo), Swift.abs(hi), 1e-12)
            scaled = t.scalars.map { Swift.abs($0) / m }
        } else if hi <= 1 {
            scaled = t.scalars.map { Swift.min(Swift.max($0, 0), 1) }
        } else {
            scaled = t.scalars.map { ($0 - lo) / Swift.max(hi - lo, 1e-12) }
        }
        return Tensor(uncheckedShape: t.shape, scalars: scaled)
    }
}
