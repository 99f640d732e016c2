import _ConvKitKernels

extension Tensor {
    /// `self` repeated along broadcast axes to `outShape` (no gradient; used in backward).
    static func expand(_ t: Tensor, to outShape: [Int]) -> Tensor {
        if t.shape == outShape { return t }
        let out = t.scalars.withUnsafeBufferPointer { x in
            FreshStorage.floats(count: outShape.reduce(1, *)) { out in
                if let px = x.baseAddress, let po = out.baseAddress {
                    BroadcastKernel.expand(px, shape: t.shape, outShape: outShape, output: po)
                }
            }
        }
        return Tensor(uncheckedShape: outShape, scalars: out)
    }

    /// Sums over `axes` (all axes when `nil`); reduced axes are kept as size 1 when
    /// `keepingDims`, removed otherwise.
    public func sum(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        let resolved = try Set((axes ?? Array(0..<rank)).map { try axis($0, op: "sum") })
        let kept = shape.indices.map { resolved.contains($0) ? 1 : shape[$0] }
        let outShape = keepingDims ? kept : shape.indices.filter { !resolved.contains($0) }.map { shape[$0] }
        let reduced = Tensor.sumToShape(Tensor(uncheckedShape: shape, scalars: scalars), kept)
        let inShape = shape
        return Tensor.result(shape: outShape, scalars: reduced.scalars, op: "sum", inputs: [self]) { g in
            [Tensor.expand(Tensor(uncheckedShape: kept, scalars: g.scalars), to: inShape)]
        }
    }

    /// Mean over `axes` (all axes when `nil`).
    public func mean(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        let resolved = try Set((axes ?? Array(0..<rank)).map { try axis($0, op: "mean") })
        let n = resolved.map { shape[$0] }.reduce(1, *)
        return try sum(axes: Array(resolved), keepingDims: keepingDims) * (1 / Float(max(n, 1)))
    }

    /// Indices of the largest value along `axis`, row-major over the other axes
    /// (first index on ties, as PyTorch).
    public func argmax(axis a: Int = -1) throws -> [Int] {
        let ax = try axis(a, op: "argmax")
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        guard n > 0 else {
            throw ConvKitError.invalidArgument(op: "argmax", argument: "axis", message: "\(a) has size 0")
        }
        var out = [Int]()
        out.reserveCapacity(outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = scalars[o * n * inner + i]
                for j in 1..<max(n, 1) {
                    let v = scalars[(o * n + j) * inner + i]
                    if v > bestValue || (v.isNaN && !bestValue.isNaN) { best = j; bestValue = v }
                }
                out.append(best)
            }
        }
        return out
    }
}
