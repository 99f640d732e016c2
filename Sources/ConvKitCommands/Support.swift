import ArgumentParser
import ConvKit
import Foundation

/// `--json`: print the result as one JSON document instead of text.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result as JSON.")
    var json = false

    /// Prints `value` as JSON (the library's `Encodable` result) or `text()`.
    func emit(_ value: some Encodable, text: () -> String) throws {
        print(json ? try jsonText(value) : text())
    }
}

/// One JSON document, keys in a stable order; NaN and ±∞ as strings.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Geometry options shared by conv1d, conv2d and filter; parsed by the library's parsers.
struct GeometryOptions: ParsableArguments {
    @Option(help: "Stride (one value, or h,w).") var stride = "1"
    @Option(help: "Padding: an amount (or h,w), 'same' or 'valid'.") var padding = "0"
    @Option(help: "Dilation (one value, or h,w).") var dilation = "1"
    @Option(help: "Padding mode: zeros, reflect, replicate, circular.") var mode = "zeros"

    func resolved() throws -> (stride: PerAxis, padding: Padding, dilation: PerAxis, mode: PaddingMode) {
        (try PerAxis(parsing: stride, argument: "--stride"), try Padding(parsing: padding, argument: "--padding"),
         try PerAxis(parsing: dilation, argument: "--dilation"), try PaddingMode(parsing: mode, argument: "--mode"))
    }
}

/// "1,2,3" → [1, 2, 3] (a 1-D signal or kernel).
func floats(_ text: String, _ name: String) throws -> [Float] {
    let matrix = try NamedKernel.parseMatrix(text, what: name)
    guard matrix.count == 1 else { throw ValidationError("\(name) must be one row of numbers like 1,0,-1, got \(matrix.count) rows") }
    return matrix[0]
}

/// Rows of text in aligned columns (first column left, others right).
func table(_ rows: [[String]]) -> String {
    let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, s in
            c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - s.count) + s
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

extension Tensor {
    /// A 2-D tensor as rows of course-style numbers.
    var rowsText: String {
        let w = shape.last ?? 1
        return stride(from: 0, to: count, by: Swift.max(w, 1)).map { r in
            "[" + scalars[r..<(r + w)].map { number($0) }.joined(separator: ", ") + "]"
        }.joined(separator: "\n")
    }
}

/// Rows of numbers as the course prints them.
func rowsText(_ rows: [[Float]]) -> String {
    rows.map { "[" + $0.map { number($0) }.joined(separator: ", ") + "]" }.joined(separator: "\n")
}
