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

    /// A filter's output made visible, with the mapping used, so a picture says what its
    /// colours mean.
    public struct Display: Sendable {
        public let image: Image
        /// e.g. "blue < 0 < red, |value| up to 4.0000".
        public let mapping: String
    }

    /// Chooses a mapping by what the values are, never hiding their sign:
    /// - outputs of a kernel whose weights sum to 1 (box, gaussian, sharpen: they keep the
    ///   photo's brightness), and others that lie in [0, 1], are clamped to [0, 1], as the
    ///   photo itself would be shown;
    /// - signed outputs (edges, Laplacian) use a diverging map for one channel (blue negative,
    ///   white 0, red positive) or mid-gray at 0 for several;
    /// - other non-negative outputs (magnitudes) are scaled from 0 (black) to their maximum (white).
    /// - Parameters:
    ///   - t: (C, H, W) with C = 1 or 3.
    ///   - kernel: the kernel that made `t`, when known (its sum tells brightness-keeping kernels apart).
    /// - Throws: `ConvKitError.shapeMismatch` for other shapes.
    public static func display(_ t: Tensor, kernel: [[Float]]? = nil) throws -> Display {
        guard t.rank == 3, t.shape[0] == 1 || t.shape[0] == 3 else {
            throw ConvKitError.shapeMismatch(op: "ImageFilter.display", message: "expected (1 or 3, H, W), got \(t.shape)")
        }
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        let finite = t.scalars.filter(\.isFinite)
        let (lo, hi) = (finite.min() ?? 0, finite.max() ?? 0)
        let keepsBrightness = kernel.map { Swift.abs($0.joined().reduce(0, +) - 1) < 1e-3 } ?? false
        if keepsBrightness || (lo >= 0 && hi <= 1) {
            return Display(image: try Image(width: w, height: h, channels: c, pixels: t.scalars.map { $0.isFinite ? Swift.min(Swift.max($0, 0), 1) : 0 }),
                           mapping: "values clamped to [0, 1] (\(number(lo))…\(number(hi)) before)")
        }
        if lo < 0 {
            // The scale is the 99th percentile of |value|, so a few strong edges do not wash
            // the rest out; larger values are clamped (and the caption says so).
            let magnitudes = finite.map(Swift.abs).sorted()
            let m = Swift.max(magnitudes.isEmpty ? 0 : magnitudes[Swift.min(magnitudes.count - 1, magnitudes.count * 99 / 100)], 1e-12)
            if c == 1 {
                let plane = h * w
                var rgb = [Float](repeating: 0, count: 3 * plane)
                for i in 0..<plane {
                    let color = Canvas.Color.diverging(t.scalars[i].isFinite ? t.scalars[i] / m : 0)
                    (rgb[i], rgb[plane + i], rgb[2 * plane + i]) = (color.r, color.g, color.b)
                }
                return Display(image: try Image(width: w, height: h, channels: 3, pixels: rgb), mapping: "blue < 0 < red, full colour at |value| ≥ \(number(m)) (99th percentile; max \(number(Swift.max(-lo, hi))))")
            }
            return Display(image: try Image(width: w, height: h, channels: c, pixels: t.scalars.map { $0.isFinite ? Swift.min(Swift.max(0.5 + $0 / (2 * m), 0), 1) : 0.5 }),
                           mapping: "0 is mid-gray, ±\(number(m)) (99th percentile of |value|) black/white")
        }
        let m = Swift.max(hi, 1e-12)
        return Display(image: try Image(width: w, height: h, channels: c, pixels: t.scalars.map { $0.isFinite ? $0 / m : 0 }),
                       mapping: "0 black, \(number(m)) white")
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
