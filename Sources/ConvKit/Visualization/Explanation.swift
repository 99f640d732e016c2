import Foundation

/// How `explain` looks inside a network (see `Saliency`, `SmoothGrad`, `GradCAM`, `Occlusion`).
public enum ExplanationMethod: Sendable, Equatable {
    /// |∂score/∂pixel|.
    case saliency
    /// Saliency averaged over `samples` noisy copies, σ = `noiseLevel` · the input's value range.
    case smoothGrad(samples: Int = 50, noiseLevel: Float = 0.15, seed: UInt64 = 0)
    /// Grad-CAM on the module at `layer` (default: `GradCAM.defaultLayer`).
    case gradCAM(layer: String? = nil)
    /// Occlusion with a square `window` moved by `stride` (defaults: ⌊min(H, W) / 7⌋ and half of it,
    /// 169 positions), filled with `baseline`.
    case occlusion(window: Int? = nil, stride: Int? = nil, baseline: Float = 0)

    /// The method's name as the CLI spells it: saliency, smoothgrad, gradcam, occlusion.
    public var name: String {
        switch self {
        case .saliency: "saliency"
        case .smoothGrad: "smoothgrad"
        case .gradCAM: "gradcam"
        case .occlusion: "occlusion"
        }
    }

    /// The methods by CLI name, with their default settings.
    public static let named: [String: ExplanationMethod] = [
        "saliency": .saliency, "smoothgrad": .smoothGrad(), "gradcam": .gradCAM(), "occlusion": .occlusion(),
    ]
}

/// One input explained: the class, the method's raw attributions, and a heat map in [0, 1]
/// to lay over the picture.
public struct Explanation {
    /// The method with the settings used (Grad-CAM's layer and occlusion's window filled in).
    public let method: ExplanationMethod
    /// The class explained.
    public let target: Int
    /// The model's probabilities for the input (softmax of its scores).
    public let probabilities: [Float]
    /// The raw result: (C, H, W) for saliency, SmoothGrad and occlusion (captum's output for
    /// one sample); Grad-CAM's class-activation map (h, w) at its layer's size.
    public let attributions: Tensor
    /// (H, W) in [0, 1] at the input's size. Grad-CAM: pytorch-grad-cam's map. The others as
    /// captum's `visualize_image_attr` draws them: summed over channels, |·| for gradients
    /// and the positive part for occlusion, divided by the value below which 98 % of the
    /// total lies (outliers clipped to 1).
    public let map: Tensor

    /// The map in a jet colour scale (blue low, red high) blended over `image` (resized to
    /// the map when their sizes differ), as pytorch-grad-cam's `show_cam_on_image`.
    /// - Parameter opacity: the heat map's weight, 0…1.
    public func overlay(on image: Image, opacity: Float = 0.5) throws -> Image {
        try Limits.check(opacity, in: 0...1, op: "Explanation.overlay", argument: "opacity")
        let (h, w) = (map.shape[0], map.shape[1])
        let rgb = try image.withChannels(3).resized(width: w, height: h)
        let plane = h * w
        var pixels = rgb.pixels
        for i in 0..<plane {
            let heat = Canvas.Color.jet(map.scalars[i])
            for (c, v) in [heat.r, heat.g, heat.b].enumerated() { pixels[c * plane + i] = (1 - opacity) * rgb.pixels[c * plane + i] + opacity * v }
        }
        return try Image(width: w, height: h, channels: 3, pixels: pixels)
    }

    /// What was explained, in a line: "Grad-CAM at layer4 for class 281 tabby (61.2%)"
    /// (a class name equal to its index is not repeated).
    public func caption(className: String? = nil) -> String {
        let name = className.flatMap { $0 == String(target) ? nil : " " + $0 } ?? ""
        let p = target < probabilities.count ? String(format: "%.1f%%", probabilities[target] * 100) : "?"
        return "\(method.summary) for class \(target)\(name) (\(p))"
    }

    /// A labelled picture: the input as the model sees it and the overlay side by side
    /// (enlarged to at least 224 pixels), a title naming the method, class and probability,
    /// and the colour scale.
    public func picture(of image: Image, className: String? = nil) throws -> Image {
        let (h, w) = (map.shape[0], map.shape[1])
        let scale = Swift.max(1, 224 / Swift.max(h, w))
        let (tileW, tileH, gap) = (w * scale, h * scale, 12)
        let width = Swift.max(2 * tileW + 3 * gap, 420), height = 40 + tileH + 62
        var canvas = try Canvas(width: width, height: height, background: Canvas.Color(0.96, 0.96, 0.97))
        canvas.text(caption(className: className), x: gap, y: 18)
        canvas.text("input, as the model sees it", x: gap, y: 34, .gray)
        canvas.text("evidence for the class", x: 2 * gap + tileW, y: 34, .gray)
        let shown = try image.withChannels(3).resized(width: w, height: h)
        for (i, picture) in [shown, try overlay(on: shown)].enumerated() {
            let ox = gap + i * (tileW + gap), plane = h * w
            for y in 0..<h {
                for x in 0..<w {
                    let j = y * w + x
                    canvas.fill(x: ox + x * scale, y: 40 + y * scale, width: scale, height: scale,
                                Canvas.Color(picture.pixels[j], picture.pixels[plane + j], picture.pixels[2 * plane + j]))
                }
            }
        }
        let barY = 40 + tileH + 14, barW = width - 2 * gap - 80
        for x in 0..<barW { canvas.fill(x: gap + 40 + x, y: barY, width: 1, height: 12, Canvas.Color.jet(Float(x) / Float(Swift.max(barW - 1, 1)))) }
        canvas.text("low", x: gap, y: barY + 10)
        canvas.text("high", x: gap + 44 + barW, y: barY + 10)
        canvas.text(method.scaleNote, x: gap, y: barY + 32, .gray)
        return canvas.image
    }
}

extension ExplanationMethod {
    /// The method and its settings in words, e.g. "Grad-CAM (layer4)".
    public var summary: String {
        switch self {
        case .saliency: "Saliency"
        case let .smoothGrad(samples, noiseLevel, _): "SmoothGrad (\(samples) samples, noise \(number(noiseLevel)))"
        case let .gradCAM(layer): "Grad-CAM at \(layer ?? "the last maps")"
        case let .occlusion(window, stride, _): "Occlusion (window \(window.map(String.init) ?? "?"), stride \(stride.map(String.init) ?? "?"))"
        }
    }

    /// What the heat map's scale means, in a line.
    public var scaleNote: String {
        switch self {
        case .gradCAM: "ReLU of the gradient-weighted maps, scaled to 0-1"
        case .occlusion: "score drop when the patch is hidden, scaled to 0-1"
        case .saliency, .smoothGrad: "|gradient of the class score|, scaled to 0-1"
        }
    }
}

extension Canvas.Color {
    /// The jet colour scale for t in [0, 1]: dark blue, cyan, yellow, red, dark red (OpenCV's
    /// COLORMAP_JET and matplotlib's "jet", piecewise linear).
    public static func jet(_ t: Float) -> Canvas.Color {
        let v = t.isFinite ? Swift.min(Swift.max(t, 0), 1) : 0
        func ramp(_ centre: Float) -> Float { Swift.min(Swift.max(1.5 - Swift.abs(4 * v - centre), 0), 1) }
        return Canvas.Color(ramp(3), ramp(2), ramp(1))
    }
}

extension Module {
    /// Explains the model's score for one input with `method`: the class (the top one unless
    /// `target` is given), the raw attributions and a heat map to draw.
    /// - Parameters:
    ///   - input: (C, H, W), prepared as the model takes it (normalised).
    ///   - target: the class to explain; `nil`: the model's top class.
    /// - Throws: `ConvKitError` for a non-finite input, a target or layer the model does not
    ///   have, or settings out of range (see each method's type).
    public func explain(_ input: Tensor, method: ExplanationMethod, target: Int? = nil) throws -> Explanation {
        guard input.rank == 3 else {
            throw ConvKitError.shapeMismatch(op: "explain", message: "input must be one (C, H, W) image, got \(input.shape)")
        }
        try checkFinite(input, op: "explain")
        let x = try input.unsqueezed(axis: 0)
        let logits = try withFrozenModel(self) { try withGradientsDisabled { try self(x) } }
        let chosen = try targetScore(logits, target: target, op: "explain").targets[0]
        let probabilities = try logits.softmax(axis: 1).scalars
        let (h, w) = (input.shape[1], input.shape[2])
        let attributions: Tensor, map: Tensor, used: ExplanationMethod
        switch method {
        case .saliency:
            attributions = try Saliency(self).attribute(x, target: chosen).squeezed(axis: 0)
            (map, used) = (captumScaled(attributions, positiveOnly: false), method)
        case let .smoothGrad(samples, noiseLevel, seed):
            attributions = try SmoothGrad(self, samples: samples, noiseLevel: noiseLevel, seed: seed).attribute(x, target: chosen).squeezed(axis: 0)
            (map, used) = (captumScaled(attributions, positiveOnly: false), method)
        case let .gradCAM(layer):
            let name = try layer ?? GradCAM.defaultLayer(of: self, input: x)
            let cam = try GradCAM(model: self, targetLayer: name)
            attributions = try cam.activationMaps(x, target: chosen).maps.squeezed(axis: 0)
            map = try cam(x, target: chosen).squeezed(axis: 0)
            used = .gradCAM(layer: name)
        case let .occlusion(window, stride, baseline):
            let k = window ?? Swift.max(1, Swift.min(h, w) / 7)
            let s = stride ?? Swift.max(1, k / 2)
            attributions = try Occlusion(self).attribute(x, target: chosen, window: PerAxis(k), strides: PerAxis(s), baseline: baseline).squeezed(axis: 0)
            (map, used) = (captumScaled(attributions, positiveOnly: true), .occlusion(window: k, stride: s, baseline: baseline))
        }
        return Explanation(method: used, target: chosen, probabilities: probabilities, attributions: attributions, map: map)
    }
}

/// captum's `_normalize_attr` for a (C, H, W) attribution: summed over channels, |·| or the
/// positive part, divided by the smallest value v such that the values ≤ v hold 98 % of the
/// total (`_cumulative_sum_threshold`), clipped to [0, 1]. (H, W).
func captumScaled(_ attributions: Tensor, positiveOnly: Bool) -> Tensor {
    let (c, h, w) = (attributions.shape[0], attributions.shape[1], attributions.shape[2])
    let plane = h * w
    let summed = (0..<plane).map { i in (0..<c).reduce(Float(0)) { $0 + attributions.scalars[$1 * plane + i] } }
    let values = summed.map { positiveOnly ? Swift.max($0, 0) : Swift.abs($0) }
    let sorted = values.sorted()
    let total = sorted.reduce(0, +)
    var running: Float = 0, threshold: Float = sorted.last ?? 0
    for v in sorted {
        running += v
        if running >= total * 0.98 { threshold = v; break }
    }
    return Tensor(uncheckedShape: [h, w], scalars: values.map { threshold > 0 ? Swift.min($0 / threshold, 1) : 0 })
}
