import Foundation

/// Pictures of what a network holds: grids of filters and feature maps, curves.
public enum Pictures {
    /// Tiles 2-D maps (each (H, W), all one size) into one gray image, `columns` wide, with a
    /// 1-pixel white border; each map is min–max scaled on its own (or jointly when `shared`).
    public static func grid(_ maps: [Tensor], columns: Int? = nil, scale: Int = 1, shared: Bool = false) throws -> Image {
        guard let first = maps.first, first.rank == 2, maps.allSatisfy({ $0.shape == first.shape }) else {
            throw ConvKitError.shapeMismatch(op: "Pictures.grid", message: "expected one or more 2-D maps of one shape, got \(maps.map(\.shape))")
        }
        let (h, w) = (first.shape[0] * scale, first.shape[1] * scale)
        let cols = Swift.max(1, columns ?? Int(Double(maps.count).squareRoot().rounded(.up)))
        let rows = (maps.count + cols - 1) / cols
        let (width, height) = (cols * (w + 1) + 1, rows * (h + 1) + 1)
        var pixels = [Float](repeating: 1, count: width * height)
        let all = maps.flatMap(\.scalars)
        for (i, map) in maps.enumerated() {
            let values = shared ? all : map.scalars
            let (lo, hi) = (values.min() ?? 0, values.max() ?? 1)
            let range = Swift.max(hi - lo, 1e-12)
            let (oy, ox) = (1 + (i / cols) * (h + 1), 1 + (i % cols) * (w + 1))
            for y in 0..<h {
                for x in 0..<w {
                    pixels[(oy + y) * width + ox + x] = (map.scalars[(y / scale) * first.shape[1] + x / scale] - lo) / range
                }
            }
        }
        return try Image(width: width, height: height, channels: 1, pixels: pixels)
    }

    /// The filters of a 2-D convolution as a labelled grid people can read: each filter
    /// enlarged to about 48 pixels with gaps between them; single-channel (or channel-averaged)
    /// filters in a diverging map (blue negative, white 0, red positive, shared scale, stated
    /// under the grid); three-channel filters (a first layer on RGB photos) in colour, each
    /// min–max scaled.
    /// - Parameters:
    ///   - scale: pixels per weight (default: 48 / kernel size, at least 4).
    ///   - title: the caption above (default "K filters, kH×kW").
    public static func filters(_ conv: Convolution, scale: Int? = nil, title: String? = nil) throws -> Image {
        let w = conv.weight
        guard w.rank == 4 else { throw ConvKitError.shapeMismatch(op: "Pictures.filters", message: "expected a 2-D convolution, got weight \(w.shape)") }
        let (k, c, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let s = try scale.map { v in try Limits.check(v, in: 1...64, op: "Pictures.filters", argument: "scale"); return v } ?? Swift.max(4, 48 / Swift.max(kh, kw))
        let columns = Swift.min(k, 16), rows = (k + columns - 1) / columns, gap = 4
        let (tileW, tileH) = (kw * s, kh * s)
        let width = Swift.max(columns * (tileW + gap) + gap, 300), height = 28 + rows * (tileH + gap) + gap + 22
        var canvas = try Canvas(width: width, height: height, background: Canvas.Color(0.96, 0.96, 0.97))
        canvas.text(title ?? "\(k) filters, \(kh)×\(kw)\(c == 3 ? ", RGB" : c > 1 ? ", \(c) input channels averaged" : "")", x: gap, y: 18)
        let maps = try filterMaps(conv)
        let bound = Swift.max(maps.flatMap(\.scalars).map(Swift.abs).max() ?? 1, 1e-12)
        for f in 0..<k {
            let (ox, oy) = (gap + (f % columns) * (tileW + gap), 28 + (f / columns) * (tileH + gap))
            let rgb: [Float]? = c == 3 ? Array(w.scalars[(f * 3 * kh * kw)..<((f + 1) * 3 * kh * kw)]) : nil
            let (lo, hi) = (rgb?.min() ?? 0, rgb?.max() ?? 1)
            for y in 0..<kh {
                for x in 0..<kw {
                    let color: Canvas.Color = if let rgb {
                        Canvas.Color((rgb[y * kw + x] - lo) / Swift.max(hi - lo, 1e-12), (rgb[kh * kw + y * kw + x] - lo) / Swift.max(hi - lo, 1e-12),
                                     (rgb[2 * kh * kw + y * kw + x] - lo) / Swift.max(hi - lo, 1e-12))
                    } else { Canvas.Color.diverging(maps[f].scalars[y * kw + x] / bound) }
                    canvas.fill(x: ox + x * s, y: oy + y * s, width: s, height: s, color)
                }
            }
        }
        canvas.text(c == 3 ? "each filter's weights min-max scaled to RGB" : "blue < 0 < red, |w| up to \(number(bound))", x: gap, y: height - 8, .gray)
        return canvas.image
    }

    /// Each filter of a 2-D convolution (weight (K, C, kH, kW)) as one (kH, kW) map, its input
    /// channels averaged: what the pictures and the lab's digit page show.
    /// - Throws: `ConvKitError.shapeMismatch` for a convolution of another rank.
    public static func filterMaps(_ conv: Convolution) throws -> [Tensor] {
        let w = conv.weight
        guard w.rank == 4 else { throw ConvKitError.shapeMismatch(op: "Pictures.filters", message: "expected a 2-D convolution, got weight \(w.shape)") }
        let (k, c, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        return (0..<k).map { f in
            Tensor(uncheckedShape: [kh, kw], scalars: (0..<(kh * kw)).map { i in
                (0..<c).reduce(0) { $0 + w.scalars[((f * c) + $1) * kh * kw + i] } / Float(c)
            })
        }
    }

    /// The feature maps of one sample (C, H, W) or (1, C, H, W) as a labelled grid: each map
    /// min–max scaled to gray on its own (dark = low), numbered, under a title such as
    /// "0 (Conv2d) → 32×28×28".
    public static func featureMaps(_ t: Tensor, scale: Int = 2, title: String? = nil) throws -> Image {
        let x = t.rank == 4 ? try t.squeezed(axis: 0) : t
        guard x.rank == 3 else { throw ConvKitError.shapeMismatch(op: "Pictures.featureMaps", message: "expected (C, H, W), got \(t.shape)") }
        try Limits.check(scale, in: 1...64, op: "Pictures.featureMaps", argument: "scale")
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let columns = Swift.min(c, 8), rows = (c + columns - 1) / columns, gap = 4, label = 14
        let (tileW, tileH) = (w * scale, h * scale)
        let width = Swift.max(columns * (tileW + gap) + gap, 260), height = 26 + rows * (tileH + gap + label) + gap
        var canvas = try Canvas(width: width, height: height, background: Canvas.Color(0.96, 0.96, 0.97))
        canvas.text(title ?? "\(c) feature maps, \(h)×\(w)", x: gap, y: 17)
        for ch in 0..<c {
            let values = x.scalars[(ch * h * w)..<((ch + 1) * h * w)]
            let (lo, hi) = (values.min() ?? 0, values.max() ?? 1)
            let (ox, oy) = (gap + (ch % columns) * (tileW + gap), 26 + (ch / columns) * (tileH + gap + label))
            canvas.text("\(ch)", x: ox, y: oy + 10, .gray)
            for yy in 0..<h {
                for xx in 0..<w {
                    let v = (values[values.startIndex + yy * w + xx] - lo) / Swift.max(hi - lo, 1e-12)
                    canvas.fill(x: ox + xx * scale, y: oy + label + yy * scale, width: scale, height: scale, Canvas.Color(v, v, v))
                }
            }
        }
        return canvas.image
    }

    /// A confusion matrix as a picture: rows the true class, columns the predicted one, each
    /// cell shaded by the fraction of its row and labelled with its count; the accuracy in the title.
    public static func confusionMatrix(_ evaluation: Evaluation, classNames: [String]? = nil) throws -> Image {
        let n = evaluation.confusion.count
        try Limits.check(n, in: 1...100, op: "Pictures.confusionMatrix", argument: "classes")
        let names = (classNames ?? []).count == n ? classNames! : (0..<n).map(String.init)
        let nameWidth = Swift.min(names.map { BitmapFont.width($0) }.max() ?? 7, 100)
        let cellSize = Swift.max(28, (evaluation.confusion.flatMap { $0 }.map { BitmapFont.width(String($0)) }.max() ?? 7) + 8)
        let (left, top) = (nameWidth + 40, 56)
        let width = Swift.max(left + n * cellSize + 16, 320), height = top + n * cellSize + 40
        var canvas = try Canvas(width: width, height: height)
        canvas.text(String(format: "Confusion matrix: accuracy %.2f%% on %d samples", evaluation.accuracy * 100, evaluation.count), x: 8, y: 18)
        canvas.text("predicted class", x: left + n * cellSize / 2, y: 40, .gray, center: true)
        canvas.verticalText("true class", x: 6, y: top + n * cellSize / 2, .gray)
        for (t, row) in evaluation.confusion.enumerated() {
            let total = Swift.max(row.reduce(0, +), 1)
            canvas.text(String(names[t].prefix(14)), x: left - 6, y: top + t * cellSize + cellSize / 2 + 4, alignRight: true)
            for (p, count) in row.enumerated() {
                let fraction = Float(count) / Float(total)
                let (x, y) = (left + p * cellSize, top + t * cellSize)
                canvas.fill(x: x, y: y, width: cellSize - 1, height: cellSize - 1, Canvas.Color.sequential(fraction))
                canvas.text("\(count)", x: x + cellSize / 2, y: y + cellSize / 2 + 4, fraction > 0.55 ? .white : .text, center: true)
            }
        }
        for (p, name) in names.enumerated() {
            canvas.text(String(name.prefix(3)), x: left + p * cellSize + cellSize / 2, y: top + n * cellSize + 14, center: true)
        }
        canvas.text("shade: fraction of the true class's samples", x: 8, y: height - 8, .gray)
        return canvas.image
    }

    /// A line chart of one or more series on shared axes (see `LineChart` for titles, axis
    /// labels and a legend); series are named "series 1", "series 2", ….
    public static func lineChart(_ series: [[Float]], width: Int = 480, height: Int = 320) throws -> Image {
        try LineChart(title: "", xLabel: "", yLabel: "", series: series.enumerated().map { LineChart.Series("series \($0.offset + 1)", $0.element) })
            .image(width: width, height: height)
    }

    /// Activation maximisation ("what a filter learns"): starting from faint noise, gradient
    /// ascent on the input to maximise the mean activation of `channel` at the output of
    /// `layers[0...layerIndex]`, with a small L2 penalty; returns the input (C, H, W), min–max scaled.
    public static func maximizeActivation(
        _ model: Sequential, layerIndex: Int, channel: Int, inputShape: [Int], steps: Int = 60, learningRate: Float = 0.1,
        seed: UInt64 = 0
    ) throws -> Tensor {
        guard (0..<model.count).contains(layerIndex) else {
            throw ConvKitError.invalidArgument(op: "maximizeActivation", argument: "layerIndex", message: "must be in 0..<\(model.count), got \(layerIndex)")
        }
        let wasTraining = model.isInTrainingMode
        model.eval()
        defer { model.train(wasTraining) }
        var g = SeededGenerator(seed: seed)
        var x = try Tensor.randomNormal([1] + inputShape, std: 0.01, using: &g)
        for _ in 0..<steps {
            let input = Tensor(uncheckedShape: x.shape, scalars: x.scalars, requiresGrad: true)
            var h = input
            for i in 0...layerIndex { h = try model[i](h) }
            guard h.rank == 4, (0..<h.shape[1]).contains(channel) else {
                throw ConvKitError.invalidArgument(op: "maximizeActivation", argument: "channel",
                                                   message: "layer \(layerIndex) output \(h.shape) has no channel \(channel)")
            }
            let objective = try h.slice(axis: 1, channel..<(channel + 1)).mean() - (try input.squared().mean()) * 0.01
            try objective.backward()
            guard let grad = input.grad else { break }
            let norm = Swift.max(grad.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() / Float(grad.count).squareRoot(), 1e-8)
            x = Tensor(uncheckedShape: x.shape, scalars: zip(x.scalars, grad.scalars).map { $0 + learningRate * $1 / norm })
        }
        let values = x.scalars
        let (lo, hi) = (values.min() ?? 0, values.max() ?? 1)
        return Tensor(uncheckedShape: inputShape, scalars: values.map { ($0 - lo) / Swift.max(hi - lo, 1e-12) })
    }
}
