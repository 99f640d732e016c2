extension Tensor {
    /// Normalises a possibly negative axis (−1 is the last) against `rank`.
    func axis(_ a: Int, op: String, rank r: Int? = nil) throws -> Int {
        let r = r ?? rank
        let resolved = a < 0 ? a + r : a
        guard resolved >= 0 && resolved < max(r, 1) else {
            throw ConvKitError.invalidArgument(
                op: op, argument: "axis", message: "must be in \(-r)..<\(r) for shape \(shape), got \(a)")
        }
        return resolved
    }

    /// The same scalars viewed with a new shape; one size may be −1 (inferred).
    /// - Throws: `ConvKitError.shapeMismatch` when the element counts differ.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        var target = newShape
        let known = target.filter { $0 != -1 }.reduce(1, *)
        let inferred = target.indices.filter { target[$0] == -1 }
        guard inferred.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw ConvKitError.invalidArgument(
                op: "reshape", argument: "shape", message: "may have one −1 and no other negative size, got \(newShape)")
        }
        if let i = inferred.first {
            guard known > 0, count % known == 0 else {
                throw ConvKitError.shapeMismatch(
                    op: "reshape", message: "cannot reshape \(shape) (\(count) scalars) to \(newShape)")
            }
            target[i] = count / known
        }
        guard target.reduce(1, *) == count else {
            throw ConvKitError.shapeMismatch(
                op: "reshape", message: "cannot reshape \(shape) (\(count) scalars) to \(newShape)")
        }
        return reshapedUnchecked(target)
    }

    func reshapedUnchecked(_ target: [Int]) -> Tensor {
        let original = shape
        return Tensor.result(shape: target, scalars: scalars, op: "reshape", inputs: [self]) { g in
            [Tensor(uncheckedShape: original, scalars: g.scalars)]
        }
    }

    /// Merges axes `startAxis...endAxis` into one (PyTorch's `flatten`, default from axis 1
    /// as `nn.Flatten`).
    public func flattened(startAxis: Int = 1, endAxis: Int = -1) throws -> Tensor {
        let s = try axis(startAxis, op: "flatten"), e = try axis(endAxis, op: "flatten")
        guard s <= e else {
            throw ConvKitError.invalidArgument(
                op: "flatten", argument: "startAxis", message: "must not come after endAxis (\(s) > \(e))")
        }
        guard rank > 0 else { return reshapedUnchecked([1]) }
        let merged = shape[s...e].reduce(1, *)
        return reshapedUnchecked(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Inserts an axis of size 1 at `axis`.
    public func unsqueezed(axis a: Int) throws -> Tensor {
        let i = try axis(a, op: "unsqueeze", rank: rank + 1)
        var s = shape
        s.insert(1, at: i)
        return reshapedUnchecked(s)
    }

    /// Removes the axis `axis`, which must have size 1.
    public func squeezed(axis a: Int) throws -> Tensor {
        let i = try axis(a, op: "squeeze")
        guard shape[i] == 1 else {
            throw ConvKitError.shapeMismatch(op: "squeeze", message: "axis \(a) has size \(shape[i]), expected 1")
        }
        var s = shape
        s.remove(at: i)
        return reshapedUnchecked(s)
    }

    /// Reorders the axes: result axis `i` is input axis `axes[i]`.
    /// - Throws: `ConvKitError.invalidArgument` unless `axes` is a permutation of the axes.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let resolved = try axes.map { try axis($0, op: "permute") }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw ConvKitError.invalidArgument(
                op: "permute", argument: "axes", message: "must be a permutation of 0..<\(rank), got \(axes)")
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in resolved.enumerated() { inverse[a] = i }
        let out = Tensor.permute(scalars, shape: shape, axes: resolved)
        return Tensor.result(shape: resolved.map { shape[$0] }, scalars: out, op: "permute", inputs: [self]) { g in
            [Tensor(uncheckedShape: self.shape, scalars: Tensor.permute(g.scalars, shape: g.shape, axes: inverse))]
        }
    }

    /// Swaps two axes (a 2-D tensor's transpose by default).
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) throws -> Tensor {
        let i = try axis(a0, op: "transpose"), j = try axis(a1, op: "transpose")
        var axes = Array(0..<rank)
        axes.swapAt(i, j)
        return try permuted(axes)
    }

    static func permute(_ x: [Float], shape: [Int], axes: [Int]) -> [Float] {
        let r = shape.count
        guard r > 1, !x.isEmpty else { return x }
        let inStrides = strides(of: shape)
        let outShape = axes.map { shape[$0] }
        let srcStrides = axes.map { inStrides[$0] }
        var out = [Float](repeating: 0, count: x.count)
        var index = [Int](repeating: 0, count: r)
        var src = 0
        let last = outShape[r - 1], lastStride = srcStrides[r - 1]
        var o = 0
        while o < x.count {
            var s = src
            for _ in 0..<last {
                out[o] = x[s]
                o += 1
                s += lastStride
            }
            // Advance the multi-index over all but the last axis.
            var a = r - 2
            while a >= 0 {
                index[a] += 1
                src += srcStrides[a]
                if index[a] < outShape[a] { break }
                src -= srcStrides[a] * outShape[a]
                index[a] = 0
                a -= 1
            }
        }
        return out
    }

    static func strides(of shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in shape.indices.reversed() {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// The elements at `range` along `axis` (e.g. a mini-batch: `slice(axis: 0, 64..<128)`).
    public func slice(axis a: Int = 0, _ range: Range<Int>) throws -> Tensor {
        let ax = try axis(a, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw ConvKitError.invalidArgument(
                op: "slice", argument: "range", message: "must lie in 0..<\(shape[ax]) on axis \(ax), got \(range)")
        }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        let n = shape[ax], m = range.count
        var out = [Float]()
        out.reserveCapacity(outer * m * inner)
        for o in 0..<outer {
            let base = (o * n + range.lowerBound) * inner
            out.append(contentsOf: scalars[base..<(base + m * inner)])
        }
        var outShape = shape
        outShape[ax] = m
        let inShape = shape
        return Tensor.result(shape: outShape, scalars: out, op: "slice", inputs: [self]) { g in
            var dx = [Float](repeating: 0, count: inShape.reduce(1, *))
            for o in 0..<outer {
                let base = (o * n + range.lowerBound) * inner
                for i in 0..<(m * inner) { dx[base + i] = g.scalars[o * m * inner + i] }
            }
            return [Tensor(uncheckedShape: inShape, scalars: dx)]
        }
    }

    /// Joins tensors along `axis` (channels by default); all other sizes must agree.
    public static func concatenate(_ tensors: [Tensor], axis a: Int = 1) throws -> Tensor {
        guard let first = tensors.first else {
            throw ConvKitError.invalidArgument(op: "concatenate", argument: "tensors", message: "must not be empty")
        }
        let ax = try first.axis(a, op: "concatenate")
        for t in tensors {
            var s0 = first.shape, s1 = t.shape
            guard s0.count == s1.count else {
                throw ConvKitError.shapeMismatch(
                    op: "concatenate", message: "all tensors need rank \(s0.count), got shape \(t.shape)")
            }
            s0[ax] = 0
            s1[ax] = 0
            guard s0 == s1 else {
                throw ConvKitError.shapeMismatch(
                    op: "concatenate", message: "sizes must match except on axis \(ax): \(first.shape) vs \(t.shape)")
            }
        }
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[(ax + 1)...].reduce(1, *)
        let sizes = tensors.map { $0.shape[ax] }
        let total = sizes.reduce(0, +)
        var out = [Float]()
        out.reserveCapacity(outer * total * inner)
        for o in 0..<outer {
            for (t, n) in zip(tensors, sizes) {
                out.append(contentsOf: t.scalars[(o * n * inner)..<((o + 1) * n * inner)])
            }
        }
        var outShape = first.shape
        outShape[ax] = total
        return result(shape: outShape, scalars: out, op: "concatenate", inputs: tensors) { g in
            var parts = tensors.map { [Float](repeating: 0, count: $0.count) }
            var src = 0
            for o in 0..<outer {
                for (i, n) in sizes.enumerated() {
                    for j in 0..<(n * inner) { parts[i][o * n * inner + j] = g.scalars[src + j] }
                    src += n * inner
                }
            }
            return zip(tensors, parts).map { Tensor(uncheckedShape: $0.shape, scalars: $1) }
        }
    }

    /// Reverses the order of elements along each of `axes` (used by true convolution).
    public func flipped(axes: [Int]) throws -> Tensor {
        let resolved = try Set(axes.map { try axis($0, op: "flip") })
        let out = Tensor.flip(scalars, shape: shape, axes: resolved)
        return Tensor.result(shape: shape, scalars: out, op: "flip", inputs: [self]) { g in
            [Tensor(uncheckedShape: g.shape, scalars: Tensor.flip(g.scalars, shape: g.shape, axes: resolved))]
        }
    }

    static func flip(_ x: [Float], shape: [Int], axes: Set<Int>) -> [Float] {
        guard !x.isEmpty, !axes.isEmpty else { return x }
        let st = strides(of: shape)
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            var rem = i, j = 0
            for a in 0..<shape.count {
                let idx = rem / st[a]
                rem %= st[a]
                j += (axes.contains(a) ? shape[a] - 1 - idx : idx) * st[a]
            }
            out[j] = x[i]
        }
        return out
    }
}

/// Pixel shuffle (`F.pixel_shuffle`): (N, C·r², H, W) → (N, C, H·r, W·r), each group of r²
/// channels becoming an r × r block of pixels (sub-pixel convolution's upsampling).
public func pixelShuffle(_ input: Tensor, upscaleFactor r: Int) throws -> Tensor {
    guard input.rank == 4 else {
        throw ConvKitError.shapeMismatch(op: "pixelShuffle", message: "input must be (N, C·r², H, W), got \(input.shape)")
    }
    guard r > 0, r <= 1 << 15, input.shape[1] % (r * r) == 0 else {
        throw ConvKitError.invalidArgument(op: "pixelShuffle", argument: "upscaleFactor",
                                           message: "must be positive with r² dividing the \(input.shape[1]) channels, got \(r)")
    }
    let (n, c, h, w) = (input.shape[0], input.shape[1] / (r * r), input.shape[2], input.shape[3])
    return try input.reshaped(to: [n, c, r, r, h, w]).permuted([0, 1, 4, 2, 5, 3]).reshaped(to: [n, c, h * r, w * r])
}
