import Foundation

/// A line chart people can read: a title, axes with ticks and numbers, axis labels and a
/// legend, drawn as a PNG-ready `Image` or as SVG text from the same layout.
public struct LineChart: Sendable {
    /// One named series; `x` defaults to 1, 2, … (epochs, steps).
    public struct Series: Sendable {
        public var name: String, values: [Float], x: [Float]?
        public init(_ name: String, _ values: [Float], x: [Float]? = nil) { (self.name, self.values, self.x) = (name, values, x) }
    }

    public var title: String, xLabel: String, yLabel: String
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    /// Where things go, shared by the PNG and the SVG.
    struct Layout {
        let width: Int, height: Int
        let left: Int, right: Int, top: Int, bottom: Int
        let xRange: (Double, Double), yRange: (Double, Double)
        let xTicks: [Double], yTicks: [Double]
        func px(_ x: Double) -> Double { Double(left) + (x - xRange.0) / (xRange.1 - xRange.0) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (y - yRange.0) / (yRange.1 - yRange.0) * Double(bottom - top) }
    }

    func layout(width: Int, height: Int) throws -> Layout {
        try Limits.check(width, in: 160...8192, op: "LineChart", argument: "width")
        try Limits.check(height, in: 120...8192, op: "LineChart", argument: "height")
        let points = series.flatMap { s in s.values.indices.compactMap { i -> (Double, Double)? in
            let x = Double(s.x.map { i < $0.count ? $0[i] : .nan } ?? Float(i + 1)), y = Double(s.values[i])
            return x.isFinite && y.isFinite ? (x, y) : nil
        } }
        guard !points.isEmpty else {
            throw ConvKitError.invalidArgument(op: "LineChart", argument: "series", message: "need at least one finite value")
        }
        var (x0, x1) = (points.map(\.0).min()!, points.map(\.0).max()!)
        var (y0, y1) = (points.map(\.1).min()!, points.map(\.1).max()!)
        if x1 - x0 < 1e-9 { (x0, x1) = (x0 - 1, x1 + 1) }
        if y1 - y0 < 1e-9 { (y0, y1) = (y0 - 0.5, y1 + 0.5) }
        let yTicks = Self.niceTicks(y0, y1), xTicks = Self.niceTicks(x0, x1)
        (y0, y1) = (Swift.min(y0, yTicks.first!), Swift.max(y1, yTicks.last!))
        let labelWidth = (yTicks.map { BitmapFont.width(Self.format($0, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1)) }.max() ?? 0)
        return Layout(width: width, height: height, left: 28 + labelWidth, right: width - 16, top: 48, bottom: height - 46,
                      xRange: (x0, x1), yRange: (y0, y1), xTicks: xTicks.filter { $0 >= x0 - 1e-9 && $0 <= x1 + 1e-9 }, yTicks: yTicks)
    }

    /// About five round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi].
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5, magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = (lo / step).rounded(.down) * step
        return stride(from: first, through: hi + step * 0.999, by: step).map { ($0 / step).rounded() * step }
    }

    /// A tick's number with as many decimals as its spacing needs.
    static func format(_ v: Double, step: Double) -> String {
        let decimals = Swift.max(0, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(Swift.min(decimals, 6))f", v)
    }

    /// The chart as an RGB image.
    /// - Throws: `ConvKitError.invalidArgument` for a size outside 160×120…8,192² or no finite value.
    public func image(width: Int = 560, height: Int = 360) throws -> Image {
        let l = try layout(width: width, height: height)
        var c = try Canvas(width: width, height: height)
        let step = l.yTicks.count > 1 ? l.yTicks[1] - l.yTicks[0] : 1, xStep = l.xTicks.count > 1 ? l.xTicks[1] - l.xTicks[0] : 1
        for t in l.yTicks {
            let y = l.py(t)
            c.line(Double(l.left), y, Double(l.right), y, .lightGray)
            c.text(Self.format(t, step: step), x: l.left - 6, y: Int(y) + 4, alignRight: true)
        }
        for t in l.xTicks {
            let x = l.px(t)
            c.line(x, Double(l.bottom), x, Double(l.bottom + 4), .gray)
            c.text(Self.format(t, step: xStep), x: Int(x), y: l.bottom + 17, center: true)
        }
        c.line(Double(l.left), Double(l.top), Double(l.left), Double(l.bottom), .gray)
        c.line(Double(l.left), Double(l.bottom), Double(l.right), Double(l.bottom), .gray)
        for (n, s) in series.enumerated() {
            let color = Canvas.Color.series[n % Canvas.Color.series.count]
            var previous: (Double, Double)?
            for (i, v) in s.values.enumerated() {
                let x = Double(s.x.map { i < $0.count ? $0[i] : .nan } ?? Float(i + 1))
                guard x.isFinite, v.isFinite else { previous = nil; continue }
                let p = (l.px(x), l.py(Double(v)))
                if let q = previous { c.line(q.0, q.1, p.0, p.1, color, thickness: 2) }
                if s.values.count < 50 { c.fill(x: Int(p.0) - 1, y: Int(p.1) - 1, width: 3, height: 3, color) }
                previous = p
            }
        }
        c.text(title, x: width / 2, y: 20, center: true)
        c.text(xLabel, x: (l.left + l.right) / 2, y: height - 10, .gray, center: true)
        c.verticalText(yLabel, x: 4, y: (l.top + l.bottom) / 2, .gray)
        // Legend: one row under the title, right-aligned, so it never covers the data.
        var lx = l.right - series.reduce(0) { $0 + BitmapFont.width($1.name) + 34 }
        for (n, s) in series.enumerated() {
            c.line(Double(lx), 32, Double(lx + 16), 32, Canvas.Color.series[n % Canvas.Color.series.count], thickness: 2)
            c.text(s.name, x: lx + 20, y: 36)
            lx += BitmapFont.width(s.name) + 34
        }
        return c.image
    }

    /// The chart as an SVG document (same layout as `image`).
    /// - Throws: as `image(width:height:)`.
    public func svg(width: Int = 560, height: Int = 360) throws -> String {
        let l = try layout(width: width, height: height)
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let step = l.yTicks.count > 1 ? l.yTicks[1] - l.yTicks[0] : 1, xStep = l.xTicks.count > 1 ? l.xTicks[1] - l.xTicks[0] : 1
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        for t in l.yTicks {
            out.append("<line x1=\"\(l.left)\" x2=\"\(l.right)\" y1=\"\(f(l.py(t)))\" y2=\"\(f(l.py(t)))\" stroke=\"#e6e8ed\"/>")
            out.append("<text x=\"\(l.left - 6)\" y=\"\(f(l.py(t) + 4))\" text-anchor=\"end\">\(Self.format(t, step: step))</text>")
        }
        for t in l.xTicks {
            out.append("<text x=\"\(f(l.px(t)))\" y=\"\(l.bottom + 17)\" text-anchor=\"middle\">\(Self.format(t, step: xStep))</text>")
        }
        out.append("<path d=\"M\(l.left),\(l.top)V\(l.bottom)H\(l.right)\" fill=\"none\" stroke=\"#8c919e\"/>")
        for (n, s) in series.enumerated() {
            let points = s.values.enumerated().compactMap { i, v -> String? in
                let x = Double(s.x.map { i < $0.count ? $0[i] : .nan } ?? Float(i + 1))
                return x.isFinite && v.isFinite ? "\(f(l.px(x))),\(f(l.py(Double(v))))" : nil
            }
            out.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"\(Canvas.Color.series[n % 6].hex)\" points=\"\(points.joined(separator: " "))\"/>")
            out.append("<text x=\"\(l.right)\" y=\"\(36 + 0 * n)\" dx=\"\(-120 * (series.count - 1 - n))\" text-anchor=\"end\" fill=\"\(Canvas.Color.series[n % 6].hex)\">— \(esc(s.name))</text>")
        }
        out.append("<text x=\"\(width / 2)\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">\(esc(title))</text>")
        out.append("<text x=\"\((l.left + l.right) / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\" fill=\"#5b6475\">\(esc(xLabel))</text>")
        out.append("<text transform=\"translate(14,\((l.top + l.bottom) / 2)) rotate(-90)\" text-anchor=\"middle\" fill=\"#5b6475\">\(esc(yLabel))</text>")
        out.append("</svg>")
        return out.joined(separator: "\n")
    }
}
