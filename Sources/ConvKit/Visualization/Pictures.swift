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

    /// The filters of a convolution (weight (K, C, kH, kW)) as a grid: one tile per filter
    /// (channels averaged, or RGB when C = 3 is not needed here), enlarged `scale` times.
    public static func filters(_ conv: Convolution, scale: Int = 8) throws -> Image {
        try grid(try filterMaps(conv), scale: scale, shared: true)
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

    /// The feature maps of one sample (C, H, W) or (1, C, H, W) as a grid.
    public static func featureMaps(_ t: Tensor, scale: Int = 2) throws -> Image {
        let x = t.rank == 4 ? try t.squeezed(axis: 0) : t
        guard x.rank == 3 else { throw ConvKitError.shapeMismatch(op: "Pictures.featureMaps", message: "expected (C, H, W), got \(t.shape)") }
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        return try grid((0..<c).map { Tensor(uncheckedShape: [h, w], scalars: Array(x.scalars[($0 * h * w)..<(($0 + 1) * h * w)])) }, scale: scale)
    }

    /// A line chart of one or more series (e.g. loss per epoch for training and test) on
    /// shared axes, as an RGB image: white background, gray axes and gridlines, one colour per series.
    public static func lineChart(_ series: [[Float]], width: Int = 480, height: Int = 320) throws -> Image {
        let colors: [[Float]] = [[0.12, 0.47, 0.71], [1, 0.5, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16]]
        let values = series.flatMap { $0 }.filter(\.isFinite)
        guard !values.isEmpty, width > 40, height > 40 else {
            throw ConvKitError.invalidArgument(op: "Pictures.lineChart", argument: "series", message: "need finite values and a size above 40×40")
        }
        var (lo, hi) = (values.min()!, values.max()!)
        if hi - lo < 1e-6 { (lo, hi) = (lo - 0.5, hi + 0.5) }
        let margin = 20
        let plane = width * height
        var pixels = [Float](repeating: 1, count: 3 * plane)
        func dot(_ x: Int, _ y: Int, _ c: [Float]) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            for ch in 0..<3 { pixels[ch * plane + y * width + x] = c[ch] }
        }
        for i in 0...4 {  // gridlines
            let y = margin + (height - 2 * margin) * i / 4
            for x in margin..<(width - margin) { dot(x, y, i == 4 ? [0.3, 0.3, 0.3] : [0.88, 0.88, 0.88]) }
        }
        for y in margin..<(height - margin) { dot(margin, y, [0.3, 0.3, 0.3]) }
        let longest = Swift.max(series.map(\.count).max() ?? 1, 2)
        for (s, points) in series.enumerated() {
            let color = colors[s % colors.count]
            func position(_ i: Int) -> (Double, Double) {
                (Double(margin) + Double(width - 2 * margin) * Double(i) / Double(longest - 1),
                 Double(height - margin) - Double(height - 2 * margin) * Double((points[i] - lo) / (hi - lo)))
            }
            for i in points.indices where points[i].isFinite {
                let (x0, y0) = position(i)
                for dy in -1...1 { for dx in -1...1 { dot(Int(x0) + dx, Int(y0) + dy, color) } }
                guard i + 1 < points.count, points[i + 1].isFinite else { continue }
                let (x1, y1) = position(i + 1)
                let steps = Int(Swift.max(Swift.abs(x1 - x0), Swift.abs(y1 - y0))) + 1
                for t in 0...steps {
                    let f = Double(t) / Double(steps)
                    dot(Int(x0 + (x1 - x0) * f), Int(y0 + (y1 - y0) * f), color)
                    dot(Int(x0 + (x1 - x0) * f), Int(y0 + (y1 - y0) * f) + 1, color)
                }
            }
        }
        return try Image(width: width, height: height, channels: 3, pixels: pixels)
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
