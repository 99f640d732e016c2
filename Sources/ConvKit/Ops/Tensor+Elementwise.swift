import Foundation

// Broadcasting follows NumPy/PyTorch: shapes are aligned on their last axes and each pair
// of sizes must be equal or contain a 1. Backward sums the gradient over broadcast axes.

extension Tensor {
    /// The broadcast shape of two shapes, or `nil` when they are incompatible.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = Array(repeating: 1, count: r - a.count) + a
        let pb = Array(repeating: 1, count: r - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// Strides of `shape` read as `outShape` (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let padded = Array(repeating: 1, count: outShape.count - shape.count) + shape
        let st = strides(of: padded)
        return zip(padded, st).map { $0 == 1 ? 0 : $1 }
    }

    /// `f` applied pairwise over the broadcast of `a` and `b` (which must be compatible).
    static func broadcastMap(
        _ a: Tensor, _ b: Tensor, to outShape: [Int], _ f: (Float, Float) -> Float
    ) -> [Float] {
        let n = outShape.reduce(1, *)
        if a.shape == b.shape { return zip(a.scalars, b.scalars).map(f) }
        if b.count == 1 && a.shape == outShape { let y = b.scalars[0]; return a.scalars.map { f($0, y) } }
        if a.count == 1 && b.shape == outShape { let x = a.scalars[0]; return b.scalars.map { f(x, $0) } }
        let sa = broadcastStrides(a.shape, to: outShape), sb = broadcastStrides(b.shape, to: outShape)
        var out = [Float](repeating: 0, count: n)
        let r = outShape.count
        var index = [Int](repeating: 0, count: r)
        var ia = 0, ib = 0
        for o in 0..<n {
            out[o] = f(a.scalars[ia], b.scalars[ib])
            var ax = r - 1
            while ax >= 0 {
                index[ax] += 1
                ia += sa[ax]
                ib += sb[ax]
                if index[ax] < outShape[ax] { break }
                ia -= sa[ax] * outShape[ax]
                ib -= sb[ax] * outShape[ax]
                index[ax] = 0
                ax -= 1
            }
        }
        return out
    }

    /// Sums `g` (of the broadcast shape) down to `shape`.
    static func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let st = broadcastStrides(shape, to: g.shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        let r = g.shape.count
        var index = [Int](repeating: 0, count: r)
        var i = 0
        for v in g.scalars {
            out[i] += v
            var ax = r - 1
            while ax >= 0 {
                index[ax] += 1
                i += st[ax]
                if index[ax] < g.shape[ax] { break }
                i -= st[ax] * g.shape[ax]
                index[ax] = 0
                ax -= 1
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// A broadcasting binary op with its two partial derivatives (∂f/∂a, ∂f/∂b as
    /// functions of a, b and the upstream gradient).
    static func binary(
        _ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float,
        da: @escaping (Float, Float, Float) -> Float, db: @escaping (Float, Float, Float) -> Float
    ) throws -> Tensor {
        guard let outShape = broadcastShape(a.shape, b.shape) else {
            throw ConvKitError.shapeMismatch(
                op: op, message: "shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let out = broadcastMap(a, b, to: outShape, f)
        return result(shape: outShape, scalars: out, op: op, inputs: [a, b]) { g in
            // Evaluate the derivative over the broadcast shape, then sum back.
            let ab = Tensor(uncheckedShape: outShape, scalars: broadcastMap(a, b, to: outShape) { x, _ in x })
            let bb = Tensor(uncheckedShape: outShape, scalars: broadcastMap(a, b, to: outShape) { _, y in y })
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                let v = (0..<g.count).map { da(ab.scalars[$0], bb.scalars[$0], g.scalars[$0]) }
                ga = sumToShape(Tensor(uncheckedShape: outShape, scalars: v), a.shape)
            }
            if b.requiresGrad {
                let v = (0..<g.count).map { db(ab.scalars[$0], bb.scalars[$0], g.scalars[$0]) }
                gb = sumToShape(Tensor(uncheckedShape: outShape, scalars: v), b.shape)
            }
            return [ga, gb]
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "add", +, da: { _, _, g in g }, db: { _, _, g in g })
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "sub", -, da: { _, _, g in g }, db: { _, _, g in -g })
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "mul", *, da: { _, y, g in g * y }, db: { x, _, g in g * x })
    }

    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "div", /, da: { _, y, g in g / y }, db: { x, y, g in -g * x / (y * y) })
    }

    /// Adds a scalar.
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    /// Subtracts a scalar.
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    /// Multiplies by a scalar.
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    /// Multiplies by a scalar.
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    /// Divides by a scalar.
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// `scale · x + shift`, elementwise.
    func affine(scale: Float, shift: Float) -> Tensor {
        Tensor.result(shape: shape, scalars: scalars.map { scale * $0 + shift }, op: "affine", inputs: [self]) { g in
            [Tensor(uncheckedShape: g.shape, scalars: g.scalars.map { scale * $0 })]
        }
    }

    /// A unary elementwise op; `derivative(x, y)` is dy/dx given input x and output y.
    /// Inlined so that each activation's loops are specialised and vectorised; dy/dx is
    /// computed during the forward pass only when the op is recorded, so backward is one
    /// multiply per element.
    @inline(__always)
    /// A unary op whose kernel writes the output and, when a backward will need it, the local
    /// derivative: `kernel(x, y, derivative or nil, count)`.
    func unary(
        op: String,
        kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, Int) -> Void
    ) -> Tensor {
        let n = count, recorded = GradMode.isEnabled && requiresGrad
        var local = [Float]()
        let y = scalars.withUnsafeBufferPointer { x in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                if recorded {
                    local = [Float](unsafeUninitializedCapacity: n) { d, done in
                        if n > 0 { kernel(x.baseAddress!, out.baseAddress!, d.baseAddress!, n) }
                        done = n
                    }
                } else if n > 0 {
                    kernel(x.baseAddress!, out.baseAddress!, nil, n)
                }
                initialized = n
            }
        }
        guard recorded else { return Tensor(uncheckedShape: shape, scalars: y) }
        return unaryResult(op: op, y: y, local: local)
    }

    /// The recorded result of a unary op: its backward multiplies the gradient by `local`.
    private func unaryResult(op: String, y: [Float], local: [Float]) -> Tensor {
        let n = count
        return Tensor.result(shape: shape, scalars: y, op: op, inputs: [self]) { g in
            let dx = g.scalars.withUnsafeBufferPointer { gv in local.withUnsafeBufferPointer { d in
                [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    for i in 0..<n { out[i] = gv[i] * d[i] }
                    initialized = n
                }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }

    func unary(op: String, _ f: (Float) -> Float, derivative: (Float, Float) -> Float) -> Tensor {
        let n = count
        let y = scalars.withUnsafeBufferPointer { x in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n { out[i] = f(x[i]) }
                initialized = n
            }
        }
        guard GradMode.isEnabled && requiresGrad else { return Tensor(uncheckedShape: shape, scalars: y) }
        let local = scalars.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { yv in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n { out[i] = derivative(x[i], yv[i]) }
                initialized = n
            }
        }}
        return unaryResult(op: op, y: y, local: local)
    }

    /// Elementwise square.
    public func squared() -> Tensor { unary(op: "square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
    /// Elementwise exponential.
    public func exp() -> Tensor { unary(op: "exp", { Foundation.exp($0) }, derivative: { _, y in y }) }
    /// Elementwise natural logarithm.
    public func log() -> Tensor { unary(op: "log", { Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    /// Elementwise square root.
    public func sqrt() -> Tensor { unary(op: "sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// Elementwise absolute value (gradient 0 at 0, as PyTorch's sign).
    public func abs() -> Tensor {
        unary(op: "abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
    }
}
