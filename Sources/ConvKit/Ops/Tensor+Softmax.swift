import Foundation

extension Tensor {
    /// (outer, n, inner) sizes around `axis`.
    func split(around ax: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<ax].reduce(1, *), shape[ax], shape[(ax + 1)...].reduce(1, *))
    }

    /// exp(x) / Σ exp(x) along `axis`, in the max-shifted form exp(x − m) / Σ exp(x − m):
    /// exact to float32 rounding at any logit size (1e4 included), as PyTorch computes it.
    public func softmax(axis a: Int = -1) throws -> Tensor {
        let ax = try axis(a, op: "softmax")
        let (outer, n, inner) = split(around: ax)
        var y = scalars
        for o in 0..<outer { for i in 0..<inner {
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, y[(o * n + j) * inner + i]) }
            // An all −∞ (fully masked) row gives NaN, as in PyTorch; +∞ or NaN propagate.
            var s: Float = 0
            for j in 0..<n { let k = (o * n + j) * inner + i; y[k] = Foundation.exp(y[k] - m); s += y[k] }
            for j in 0..<n { y[(o * n + j) * inner + i] /= s }
        }}
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
        // (x − m) − log Σ exp(x − m): the shifted values are exact, only the log-sum rounds.
        var y = scalars
        for o in 0..<outer { for i in 0..<inner {
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, y[(o * n + j) * inner + i]) }
            if !m.isFinite { for j in 0..<n { y[(o * n + j) * inner + i] -= m }; continue }
            var s: Float = 0
            for j in 0..<n { s += Foundation.exp(y[(o * n + j) * inner + i] - m) }
            let logSum = Foundation.log(s)
            for j in 0..<n { let k = (o * n + j) * inner + i; y[k] = (y[k] - m) - logSum }
        }}
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
