extension Tensor: CustomStringConvertible {
    /// Nested brackets of the values (up to 6 per axis shown) and the shape.
    public var description: String {
        func format(_ v: Float) -> String {
            if v == v.rounded() && Swift.abs(v) < 1e7 { return String(Int(v)) }
            return String(format: v)
        }
        func render(_ axis: Int, _ offset: Int) -> String {
            if axis == shape.count { return format(scalars[offset]) }
            let stride = shape[(axis + 1)...].reduce(1, *)
            let n = shape[axis]
            let shown = n > 6 ? Array(0..<3) + [-1] + Array((n - 3)..<n) : Array(0..<n)
            let parts = shown.map { $0 < 0 ? "…" : render(axis + 1, offset + $0 * stride) }
            return "[" + parts.joined(separator: axis == shape.count - 1 ? ", " : ",\n ") + "]"
        }
        if scalars.isEmpty { return "Tensor(shape: \(shape), [])" }
        return "Tensor(shape: \(shape),\n" + render(0, 0) + ")"
    }
}

private extension String {
    init(format v: Float) {
        // Four significant decimals without Foundation formatting.
        let scaled = (Double(v) * 10_000).rounded() / 10_000
        self = "\(scaled)"
    }
}
