/// Elementwise arithmetic with NumPy/PyTorch broadcasting, and its reverse (summing a
/// broadcast result back to an operand's shape), on buffers.
///
/// Both walk the output as rows: axes that continue each other in memory for every operand
/// are merged first (same-shape operands become one row; a per-channel scale over
/// (N, C, H, W) becomes N·C rows of H·W against one value each), so the inner loop is a plain
/// contiguous loop with each operand either advancing or held — no per-element index
/// arithmetic, and the compiler puts it on vector lanes.
public enum BroadcastKernel {
    /// The four arithmetic operations.
    public enum Operation: Sendable {
        case add, subtract, multiply, divide
    }

    /// Strides of `shape` read as `outShape` (aligned on the last axes; 0 on broadcast axes).
    public static func strides(of shape: [Int], broadcastTo outShape: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
        var result = [Int](repeating: 0, count: padded.count), step = 1
        for axis in padded.indices.reversed() {
            result[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return result
    }

    /// The loop nest over `shape` with one stride list per operand, axes of size 1 dropped and
    /// neighbouring axes merged where every operand's stride continues across them.
    struct Nest {
        var shape: [Int] = []
        var strides: [[Int]]

        init(shape full: [Int], strides operands: [[Int]]) {
            strides = operands.map { _ in [] }
            for axis in full.indices where full[axis] != 1 {
                if let last = shape.indices.last,
                   operands.indices.allSatisfy({ strides[$0][last] == operands[$0][axis] * full[axis] }) {
                    shape[last] *= full[axis]
                    for o in operands.indices { strides[o][last] = operands[o][axis] }
                } else {
                    shape.append(full[axis])
                    for o in operands.indices { strides[o].append(operands[o][axis]) }
                }
            }
        }

        /// Elements per row (the innermost axis) and the number of rows.
        var inner: Int { shape.last ?? 1 }
        var rows: Int { shape.dropLast().reduce(1, *) }

        /// Each operand's offset at the start of row `row`.
        func offsets(ofRow row: Int) -> [Int] {
            var rest = row, result = [Int](repeating: 0, count: strides.count)
            for axis in stride(from: shape.count - 2, through: 0, by: -1) {
                let i = rest % shape[axis]
                rest /= shape[axis]
                for o in strides.indices { result[o] += i * strides[o][axis] }
            }
            return result
        }
    }

    /// `output = a ∘ b` over the broadcast of `aShape` and `bShape` to `outShape` (which the
    /// caller has checked). Split across cores when large.
    /// - Parameters:
    ///   - a, b: the operands, contiguous in their own shapes. output: `outShape`, overwritten.
    public static func apply(
        _ operation: Operation, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
        outShape: [Int], output: UnsafeMutablePointer<Float>
    ) {
        let nest = Nest(shape: outShape, strides: [strides(of: aShape, broadcastTo: outShape), strides(of: bShape, broadcastTo: outShape)])
        let inner = nest.inner, (sa, sb) = (nest.strides[0].last ?? 0, nest.strides[1].last ?? 0)
        let count = nest.rows * inner
        let (x, y, z) = (SharedPointer(a), SharedPointer(b), SharedPointer(output))
        Parallel.forEachChunk(count, workers: Parallel.memoryPassWorkers(count)) { chunk, _ in
            var i = chunk.lowerBound
            while i < chunk.upperBound {
                let (r, start) = i.quotientAndRemainder(dividingBy: inner)
                let n = min(inner - start, chunk.upperBound - i), o = nest.offsets(ofRow: r)
                let pa = x.base + o[0] + start * sa, pb = y.base + o[1] + start * sb, out = z.base + i
                switch operation {
                case .add: row(pa, sa, pb, sb, out, n, +)
                case .subtract: row(pa, sa, pb, sb, out, n, -)
                case .multiply: row(pa, sa, pb, sb, out, n, *)
                case .divide: row(pa, sa, pb, sb, out, n, /)
                }
                i += n
            }
        }
    }

    /// `values` (`shape`) repeated along the broadcast axes of `outShape` into `output`.
    public static func expand(_ values: UnsafePointer<Float>, shape: [Int], outShape: [Int], output: UnsafeMutablePointer<Float>) {
        let nest = Nest(shape: outShape, strides: [strides(of: shape, broadcastTo: outShape)])
        let inner = nest.inner, step = nest.strides[0].last ?? 0
        for r in 0..<nest.rows {
            let source = values + nest.offsets(ofRow: r)[0], out = output + r * inner
            if step == 0 { out.update(repeating: source[0], count: inner) } else { out.update(from: source, count: inner) }
        }
    }

    /// Sums `values` (`shape`) over the axes where `targetShape` is 1 or missing, into
    /// `output` (`targetShape`, overwritten): the gradient of a broadcast. A row that collapses
    /// to one value is summed on eight lanes (fixed order, so the same input gives the same bits
    /// on any number of cores).
    public static func sum(_ values: UnsafePointer<Float>, shape: [Int], to targetShape: [Int], output: UnsafeMutablePointer<Float>) {
        let count = targetShape.reduce(1, *)
        output.update(repeating: 0, count: count)
        let nest = Nest(shape: shape, strides: [strides(of: shape, broadcastTo: shape), strides(of: targetShape, broadcastTo: shape)])
        let inner = nest.inner, step = nest.strides[1].last ?? 0
        for r in 0..<nest.rows {
            let source = values + r * inner, out = output + nest.offsets(ofRow: r)[1]
            if step == 0 {
                out[0] += rowSum(source, inner)
            } else {
                for j in 0..<inner { out[j] += source[j] }
            }
        }
    }

    /// Σ x[0..<n] on eight lanes, then the lanes and the tail in order.
    @inline(__always)
    private static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0), j = 0
        while j + 8 <= n {
            lanes += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var total = lanes.sum()
        while j < n {
            total += x[j]
            j += 1
        }
        return total
    }

    /// One row: `out[j] = f(a[j·sa], b[j·sb])`, strides 0 or 1; each pattern its own loop.
    @inline(__always)
    private static func row(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ out: UnsafeMutablePointer<Float>, _ n: Int,
        _ f: (Float, Float) -> Float
    ) {
        switch (sa, sb) {
        case (1, 1): for j in 0..<n { out[j] = f(a[j], b[j]) }
        case (1, 0): let v = b[0]; for j in 0..<n { out[j] = f(a[j], v) }
        case (0, 1): let v = a[0]; for j in 0..<n { out[j] = f(v, b[j]) }
        default: for j in 0..<n { out[j] = f(a[j * sa], b[j * sb]) }
        }
    }
}
