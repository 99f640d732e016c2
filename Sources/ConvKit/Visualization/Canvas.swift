import Foundation

/// An RGB drawing surface for ConvKit's pictures: rectangles, lines and text (a built-in
/// bitmap font, `BitmapFont`), turned into an `Image` at the end. Coordinates are pixels,
/// origin top left; drawing outside the canvas is clipped.
public struct Canvas: Sendable {
    public let width: Int, height: Int
    /// (3, H, W) planes in [0, 1].
    public private(set) var pixels: [Float]

    /// An RGB colour with components in [0, 1].
    public struct Color: Sendable, Equatable {
        public var r: Float, g: Float, b: Float
        public init(_ r: Float, _ g: Float, _ b: Float) { (self.r, self.g, self.b) = (r, g, b) }
        public static let white = Color(1, 1, 1), black = Color(0, 0, 0), gray = Color(0.55, 0.57, 0.62)
        public static let lightGray = Color(0.9, 0.91, 0.93), text = Color(0.13, 0.15, 0.2)
        /// Distinct series colours (Tableau 10).
        public static let series = [Color(0.12, 0.47, 0.71), Color(1, 0.5, 0.05), Color(0.17, 0.63, 0.17), Color(0.84, 0.15, 0.16),
                                    Color(0.58, 0.4, 0.74), Color(0.55, 0.34, 0.29)]
        /// "#rrggbb", for SVG.
        public var hex: String {
            String(format: "#%02x%02x%02x", Int((r * 255).rounded()), Int((g * 255).rounded()), Int((b * 255).rounded()))
        }

        /// A diverging map for signed values: blue at −1, white at 0, red at +1 (clamped).
        public static func diverging(_ t: Float) -> Color {
            let v = t.isFinite ? Swift.min(Swift.max(t, -1), 1) : 0
            return v >= 0 ? Color(1, 1 - 0.85 * v, 1 - 0.85 * v) : Color(1 + 0.85 * v, 1 + 0.85 * v, 1)
        }

        /// A sequential map for values in [0, 1]: white to dark blue.
        public static func sequential(_ t: Float) -> Color {
            let v = t.isFinite ? Swift.min(Swift.max(t, 0), 1) : 0
            return Color(1 - 0.9 * v, 1 - 0.7 * v, 1 - 0.35 * v)
        }
    }

    /// A canvas filled with `background`.
    /// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ width, height ≤ 8,192.
    public init(width: Int, height: Int, background: Color = .white) throws {
        try Limits.check(width, in: 1...8192, op: "Canvas", argument: "width")
        try Limits.check(height, in: 1...8192, op: "Canvas", argument: "height")
        (self.width, self.height) = (width, height)
        let plane = width * height
        pixels = [Float](repeating: background.r, count: plane) + [Float](repeating: background.g, count: plane)
            + [Float](repeating: background.b, count: plane)
    }

    /// Blends `color` into one pixel with weight `alpha`.
    public mutating func blend(x: Int, y: Int, _ color: Color, alpha: Float = 1) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let i = y * width + x, plane = width * height, a = Swift.min(alpha, 1)
        pixels[i] += (color.r - pixels[i]) * a
        pixels[plane + i] += (color.g - pixels[plane + i]) * a
        pixels[2 * plane + i] += (color.b - pixels[2 * plane + i]) * a
    }

    /// Fills the rectangle [x, x + w) × [y, y + h).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: Color) {
        for yy in Swift.max(y, 0)..<Swift.max(Swift.min(y + h, height), Swift.max(y, 0)) {
            for xx in Swift.max(x, 0)..<Swift.max(Swift.min(x + w, width), Swift.max(x, 0)) { blend(x: xx, y: yy, color) }
        }
    }

    /// A line from (x0, y0) to (x1, y1), antialiased, `thickness` pixels wide: each pixel's
    /// coverage is the largest over the samples along the line, blended once.
    public mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: Color, thickness: Int = 1) {
        guard [x0, y0, x1, y1].allSatisfy({ $0.isFinite && Swift.abs($0) < 1e6 }) else { return }
        let r = Double(Swift.max(thickness, 1)) / 2
        let left = Swift.max(Int((Swift.min(x0, x1) - r - 1).rounded(.down)), 0), right = Swift.min(Int((Swift.max(x0, x1) + r + 1).rounded(.up)), width - 1)
        let top = Swift.max(Int((Swift.min(y0, y1) - r - 1).rounded(.down)), 0), bottom = Swift.min(Int((Swift.max(y0, y1) + r + 1).rounded(.up)), height - 1)
        guard left <= right, top <= bottom else { return }
        let w = right - left + 1
        var coverage = [Float](repeating: 0, count: w * (bottom - top + 1))
        let (dx, dy) = (x1 - x0, y1 - y0), length2 = dx * dx + dy * dy
        for y in top...bottom {
            for x in left...right {
                // Distance from the pixel centre to the segment.
                let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
                let t = length2 > 0 ? Swift.min(Swift.max(((px - x0) * dx + (py - y0) * dy) / length2, 0), 1) : 0
                let (cx, cy) = (x0 + t * dx, y0 + t * dy)
                let d = ((px - cx) * (px - cx) + (py - cy) * (py - cy)).squareRoot()
                coverage[(y - top) * w + x - left] = Float(Swift.min(Swift.max(r + 0.5 - d, 0), 1))
            }
        }
        for y in top...bottom { for x in left...right { blend(x: x, y: y, color, alpha: coverage[(y - top) * w + x - left]) } }
    }

    /// Writes `text` with its baseline at `y`, starting at `x` (or ending there when
    /// `alignRight`, or centred on it when `center`), `scale` times the font's size.
    public mutating func text(_ text: String, x: Int, y: Int, _ color: Color = .text, scale: Int = 1,
                              alignRight: Bool = false, center: Bool = false) {
        BitmapFont.draw(text, on: &self, x: alignRight ? x - BitmapFont.width(text, scale: scale)
                        : center ? x - BitmapFont.width(text, scale: scale) / 2 : x, baseline: y, color: color, scale: scale)
    }

    /// Writes `text` turned 90° counter-clockwise (for a y-axis label), centred vertically on `y`.
    public mutating func verticalText(_ text: String, x: Int, y: Int, _ color: Color = .text) {
        guard var strip = try? Canvas(width: Swift.max(BitmapFont.width(text), 1), height: BitmapFont.cell.height, background: .white) else { return }
        strip.text(text, x: 0, y: BitmapFont.cell.baseline, color)
        let plane = strip.width * strip.height
        for sy in 0..<strip.height {
            for sx in 0..<strip.width {
                let i = sy * strip.width + sx
                let dark = 1 - Swift.min(strip.pixels[i], strip.pixels[plane + i], strip.pixels[2 * plane + i])
                blend(x: x + sy, y: y + strip.width / 2 - sx, color, alpha: dark)
            }
        }
    }

    /// The canvas as an RGB image.
    public var image: Image { try! Image(width: width, height: height, channels: 3, pixels: pixels.map { Swift.min(Swift.max($0, 0), 1) }) }
}

/// ConvKit's built-in font: printable ASCII from DejaVu Sans Mono, 7 × 13 pixels a character
/// (generated by scripts/generate_font.py). Other characters are drawn as '?'; '×', '−', '→'
/// and '…' as their ASCII look-alikes.
public enum BitmapFont {
    static func glyph(_ ch: Character) -> String {
        let mapped: Character = switch ch { case "×": "x"; case "−", "–": "-"; case "→": ">"; case "…": "."; default: ch }
        guard let v = mapped.asciiValue, (32...126).contains(v) else { return glyphs[Int(Character("?").asciiValue!) - 32] }
        return glyphs[Int(v) - 32]
    }

    /// Width of `text` in pixels.
    public static func width(_ text: String, scale: Int = 1) -> Int { text.count * cell.width * scale }

    static func draw(_ text: String, on canvas: inout Canvas, x: Int, baseline: Int, color: Canvas.Color, scale: Int) {
        let s = Swift.max(scale, 1)
        for (n, ch) in text.enumerated() {
            let g = Array(glyph(ch).utf8)
            for gy in 0..<cell.height {
                for gx in 0..<cell.width {
                    let level = Float(g[gy * cell.width + gx] - 48) / 9
                    guard level > 0 else { continue }
                    for dy in 0..<s {
                        for dx in 0..<s {
                            canvas.blend(x: x + (n * cell.width + gx) * s + dx, y: baseline + (gy - cell.baseline) * s + dy, color, alpha: level)
                        }
                    }
                }
            }
        }
    }
}
