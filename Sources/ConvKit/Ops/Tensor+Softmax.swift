import Foundation

extension Tensor {
    /// (outer, n, inner) sizes around `axis`.
    func split(around ax: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<ax].reduce(1, *), shape[ax], shape[(ax + 1)...].reduce(1, *))
    }

    /// log Σ exp along `axis` per (outer, inner), computed stably (max subtracted).
    static func logSumExp(_ x: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        var out = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, x[(o * n + j) * inner + i]) }
                if !m.isFinite { out[o * inner + i] = m; continue }
                var s: Float = 0
                for j in 0..<n { s += Foundation.exp(x[(o * n + j) * inner + i] - m) }
                out[o * inner + i] = m + Foundation.log(s)
            }
        }
        return out
    }

    /// exp(x) / Σ exp(x) along `axis`.
    public func softmax(axis a: Int = -1) throws -> Tensor {
        let ax = try axis(a, op: "softmax")
        let (outer, n, inner) = split(around: ax)
        let lse = Tensor.logSumExp(scalars, outer: outer, n: n, inner: inner)
        var y = scalars
        for o in 0..<outer { for j in 0..<n { for i in 0..<inner {
            let k = (o * n + j) * inner + i
            y[k] = Foundation.exp(y[k] - lse[o * inner + i])
        }}}
        let out = y
        return Tensor.result(shape: shape, scalars: y, op: "softmax", inputs: [self]) { g in
            // dx = y ⊙ (g − Σ g⊙y)
            var dx = g.scalars
            for o in 0..<outer { for i in 0..<inner {
                var dot: Float = 0
                for j in 0..<n { let k = (o * n + j) * inner + i; dot += g.scalars[k] * out[k] }
                for j in 0..<n { let k = (o * n + j) * inner + i; dx[k] = out[k] * (g.scalars[k] - dot) }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }

    /// x − log Σ exp(x) along `axis`, computed stably.
    public func logSoftmax(axis a: Int = -1) throws -> Tensor {
        let ax = try axis(a, op: "logSoftmax")
        let (outer, n, inner) = split(around: ax)
        let lse = Tensor.logSumExp(scalars, outer: outer, n: n, inner: inner)
        var y = scalars
        for o in 0..<outer { for j in 0..<n { for i in 0..<inner { y[(o * n + j) * inner + i] -= lse[o * inner + i] } } }
        let out = y
        return Tensor.result(shape: shape, scalars: y, op: "logSoftmax", inputs: [self]) { g in
            // dx = g − softmax ⊙ Σ g
            var dx = g.scalars
            for o in 0..<outer { for i in 0..<inner {
                var total: Float = 0
                for j in 0..<n { total += g.scalars[(o * n + j) * inner + i] }
                for j in 0..<n { let k = (o * n + j) * inner + i; dx[k] = g.scalars[k] - Foundation.exp(out[k]) * total }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }
}
