import Foundation
import _ConvKitKernels

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

    /// `a ∘ b` over the broadcast of their shapes to `outShape` (which must be compatible).
    static func broadcastMap(_ a: Tensor, _ b: Tensor, to outShape: [Int], _ operation: BroadcastKernel.Operation) -> [Float] {
        a.scalars.withUnsafeBufferPointer { x in b.scalars.withUnsafeBufferPointer { y in
            FreshStorage.floats(count: outShape.reduce(1, *)) { out in
                if let pa = x.baseAddress, let pb = y.baseAddress, let po = out.baseAddress {
                    BroadcastKernel.apply(operation, a: pa, aShape: a.shape, b: pb, bShape: b.shape, outShape: outShape, output: po)
                }
            }
        }}
    }

    /// Sums `g` (of the broadcast shape) down to `shape`.
    static func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let out = g.scalars.withUnsafeBufferPointer { x in
            FreshStorage.floats(count: shape.reduce(1, *)) { out in
                if let px = x.baseAddress, let po = out.baseAddress {
                    BroadcastKernel.sum(px, shape: g.shape, to: shape, output: po)
                } else {
                    out.initialize(repeating: 0)
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }

    /// A broadcasting arithmetic op and its backward: the upstream gradient (times the other
    /// operand for a product, over it for a quotient) summed back to each operand's shape.
    static func binary(_ a: Tensor, _ b: Tensor, op: String, _ operation: BroadcastKernel.Operation) throws -> Tensor {
        guard let outShape = broadcastShape(a.shape, b.shape) else {
            throw ConvKitError.shapeMismatch(
                op: op, message: "shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let out = broadcastMap(a, b, to: outShape, operation)
        return result(shape: outShape, scalars: out, op: op, inputs: [a, b]) { g in
            func reduced(_ scalars: [Float], to shape: [Int]) -> Tensor {
                sumToShape(Tensor(uncheckedShape: outShape, scalars: scalars), shape)
            }
            var ga: Tensor?, gb: Tensor?
            switch operation {
            case .add, .subtract:
                if a.requiresGrad { ga = sumToShape(g, a.shape) }
                if b.requiresGrad {
                    let summed = sumToShape(g, b.shape)
                    gb = operation == .add ? summed : Tensor(uncheckedShape: b.shape, scalars: summed.scalars.map { -$0 })
                }
            case .multiply:
                // ∂(x·y)/∂x = y, ∂/∂y = x.
                if a.requiresGrad { ga = reduced(broadcastMap(g, b, to: outShape, .multiply), to: a.shape) }
                if b.requiresGrad { gb = reduced(broadcastMap(g, a, to: outShape, .multiply), to: b.shape) }
            case .divide:
                // ∂(x/y)/∂x = 1/y, ∂/∂y = −x/y².
                if a.requiresGrad { ga = reduced(broadcastMap(g, b, to: outShape, .divide), to: a.shape) }
                if b.requiresGrad {
                    let gx = Tensor(uncheckedShape: outShape, scalars: broadcastMap(g, a, to: outShape, .multiply))
                    let squared = Tensor(uncheckedShape: b.shape, scalars: b.scalars.map { $0 * $0 })
                    gb = reduced(broadcastMap(gx, squared, to: outShape, .divide).map { -$0 }, to: b.shape)
                }
            }
            return [ga, gb]
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "add", .add)
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "sub", .subtract)
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "mul", .multiply)
    }

    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try binary(a, b, op: "div", .divide)
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
            FreshStorage.floats(count: n) { out in
                if recorded {
                    local = FreshStorage.floats(count: n) { d in
                        if n > 0 { kernel(x.baseAddress!, out.baseAddress!, d.baseAddress!, n) }
                    }
                } else if n > 0 {
                    kernel(x.baseAddress!, out.baseAddress!, nil, n)
                }
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
                FreshStorage.floats(count: n) { out in
                    for i in 0..<n { out[i] = gv[i] * d[i] }
                }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }

    func unary(op: String, _ f: (Float) -> Float, derivative: (Float, Float) -> Float) -> Tensor {
        let n = count
        let y = scalars.withUnsafeBufferPointer { x in
            FreshStorage.floats(count: n) { out in
                for i in 0..<n { out[i] = f(x[i]) }
            }
        }
        guard GradMode.isEnabled && requiresGrad else { return Tensor(uncheckedShape: shape, scalars: y) }
        let local = scalars.withUnsafeBufferPointer { x in y.withUnsafeBufferPointer { yv in
            FreshStorage.floats(count: n) { out in
                for i in 0..<n { out[i] = derivative(x[i], yv[i]) }
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
