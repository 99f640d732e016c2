import _ConvKitKernels
import Foundation

// Elementwise activations with their derivatives (gradients at kinks follow PyTorch:
// relu' (0) = 0, relu6' is 0 at 0 and 6, leakyRelu' (0) = slope). NaN propagates, as in
// PyTorch, so a NaN upstream reaches the loss instead of being clipped to 0.

extension Tensor {
    /// max(0, x).
    ///
    /// The backward pass masks the upstream gradient with the output (`y > 0`), as PyTorch's
    /// `threshold_backward` does (`outputMasked`).
    public func relu() -> Tensor {
        if isKnown(within: 0...Float.infinity) { return self }
        return outputMasked(op: "relu", forward: { ReLUKernel.forward(input: $0, output: $1, count: $2) },
                     backward: { ReLUKernel.backward(output: $0, gradOutput: $1, gradInput: $2, count: $3) })
    }

    /// min(max(0, x), 6), as MobileNet uses.
    public func relu6() -> Tensor { isKnown(within: 0...6) ? self : clamped(op: "relu6", lower: 0, upper: 6) }

    /// Whether clamping to `range` would change nothing: every element is known to lie in it
    /// (`knownRange`, a fused activation's bounds) and no gradient is being recorded through it.
    private func isKnown(within range: ClosedRange<Float>) -> Bool {
        guard let known = knownRange, !(GradMode.isEnabled && requiresGrad) else { return false }
        return range.contains(known.lowerBound) && range.contains(known.upperBound)
    }

    /// x clamped to a fused activation's bounds as the separate, recorded op: `relu()` for ReLU's.
    func clamped(to bounds: OutputClamp) -> Tensor {
        bounds == .relu ? relu() : clamped(op: "clamp", lower: bounds.lower, upper: bounds.upper)
    }

    /// x clamped to [lower, upper] by `ClampKernel`.
    func clamped(op: String, lower: Float, upper: Float) -> Tensor {
        outputMasked(op: op, forward: { ClampKernel.forward(input: $0, output: $1, lower: lower, upper: upper, count: $2) },
                     backward: { ClampKernel.backward(output: $0, gradOutput: $1, gradInput: $2, lower: lower, upper: upper, count: $3) })
    }

    /// An activation whose backward pass masks the upstream gradient with the forward output
    /// (`backward(y, dy, dx, n)`), so unlike the generic `unary` no derivative array is kept:
    /// one activation-sized array less per use and per training step.
    private func outputMasked(
        op: String, forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        backward: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Tensor {
        let n = count
        let y = scalars.withUnsafeBufferPointer { x in
            FreshStorage.floats(count: n) { out in
                if n > 0 { forward(x.baseAddress!, out.baseAddress!, n) }
            }
        }
        return Tensor.result(shape: shape, scalars: y, op: op, inputs: [self]) { g in
            let dx = g.scalars.withUnsafeBufferPointer { gv in y.withUnsafeBufferPointer { yv in
                FreshStorage.floats(count: n) { out in
                    if n > 0 { backward(yv.baseAddress!, gv.baseAddress!, out.baseAddress!, n) }
                }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }

    /// x for x > 0, `negativeSlope`·x otherwise.
    public func leakyRelu(negativeSlope: Float = 0.01) -> Tensor {
        unary(op: "leakyRelu", { $0 > 0 ? $0 : negativeSlope * $0 }, derivative: { x, _ in x > 0 ? 1 : negativeSlope })
    }

    /// 1 / (1 + e^(−x)).
    public func sigmoid() -> Tensor {
        unary(op: "sigmoid", { Tensor.sigmoid($0) }, derivative: { _, y in y * (1 - y) })
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        unary(op: "tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }

    /// x · σ(x) (also called swish).
    public func silu() -> Tensor {
        unary(op: "silu") { x, y, derivative, n in SiLUKernel.forward(input: x, output: y, derivative: derivative, count: n) }
    }

    /// How `gelu` computes Φ(x).
    public enum GeluApproximation: Sendable {
        /// Exactly, x·Φ(x) with Φ the normal CDF via erf.
        case none
        /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
        case tanh
    }

    /// Gaussian error linear unit, as `torch.nn.functional.gelu`.
    public func gelu(approximate: GeluApproximation = .none) -> Tensor {
        switch approximate {
        case .none:
            let invSqrt2: Float = 0.70710678118654752
            let invSqrt2Pi: Float = 0.39894228040143268
            return unary(op: "gelu", { 0.5 * $0 * (1 + erf($0 * invSqrt2)) }, derivative: { x, _ in
                0.5 * (1 + erf(x * invSqrt2)) + x * invSqrt2Pi * Foundation.exp(-0.5 * x * x)
            })
        case .tanh:
            let c: Float = 0.79788456080286536  // √(2/π)
            return unary(op: "gelu", { x in
                0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x)))
            }, derivative: { x, _ in
                let u = c * (x + 0.044715 * x * x * x)
                let t = Foundation.tanh(u)
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            })
        }
    }

    /// x for x > 0, α·(eˣ − 1) otherwise (`F.elu`).
    public func elu(alpha: Float = 1) -> Tensor {
        unary(op: "elu", { $0 > 0 ? $0 : alpha * Foundation.expm1($0) }, derivative: { x, _ in x > 0 ? 1 : alpha * Foundation.exp(x) })
    }

    /// scale·elu(x, α) with PyTorch's constants (`F.selu`): self-normalising networks.
    public func selu() -> Tensor {
        let (alpha, scale): (Float, Float) = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
        return unary(op: "selu", { scale * ($0 > 0 ? $0 : alpha * Foundation.expm1($0)) },
                     derivative: { x, _ in x > 0 ? scale : scale * alpha * Foundation.exp(x) })
    }

    /// max(0, x) + min(0, α·(e^(x/α) − 1)) (`F.celu`).
    /// - Throws: `ConvKitError.invalidArgument` for α = 0 or not finite.
    public func celu(alpha: Float = 1) throws -> Tensor {
        guard alpha != 0, alpha.isFinite else {
            throw ConvKitError.invalidArgument(op: "celu", argument: "alpha", message: "must be finite and non-zero, got \(alpha)")
        }
        return unary(op: "celu", { $0 > 0 ? $0 : alpha * Foundation.expm1($0 / alpha) },
                     derivative: { x, _ in x > 0 ? 1 : Foundation.exp(x / alpha) })
    }

    /// x·relu6(x + 3)/6 (`F.hardswish`, MobileNetV3); gradient (2x + 3)/6 on [−3, 3] as PyTorch.
    public func hardswish() -> Tensor {
        unary(op: "hardswish", { $0.isNaN ? $0 : $0 * Swift.min(Swift.max($0 + 3, 0), 6) / 6 },
              derivative: { x, _ in x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1 })
    }

    /// relu6(x + 3)/6 (`F.hardsigmoid`).
    public func hardsigmoid() -> Tensor {
        unary(op: "hardsigmoid", { $0.isNaN ? $0 : Swift.min(Swift.max($0 + 3, 0), 6) / 6 },
              derivative: { x, _ in x > -3 && x < 3 ? 1 / 6 : 0 })
    }

    /// x clamped to [min, max] (`F.hardtanh`); gradient 0 at and beyond the bounds, as PyTorch.
    /// - Throws: `ConvKitError.invalidArgument` unless min < max (NaN refused).
    public func hardtanh(min lower: Float = -1, max upper: Float = 1) throws -> Tensor {
        guard lower < upper else {
            throw ConvKitError.invalidArgument(op: "hardtanh", argument: "min/max", message: "min must be below max, got \(lower) and \(upper)")
        }
        return clamped(op: "hardtanh", lower: lower, upper: upper)
    }

    /// (1/β)·log(1 + e^(βx)), or x where βx > threshold (`F.softplus`).
    /// - Throws: `ConvKitError.invalidArgument` for β = 0 or a non-finite β or threshold.
    public func softplus(beta: Float = 1, threshold: Float = 20) throws -> Tensor {
        guard beta != 0, beta.isFinite, !threshold.isNaN else {
            throw ConvKitError.invalidArgument(op: "softplus", argument: "beta", message: "must be finite and non-zero, got \(beta)")
        }
        return unary(op: "softplus", { x in x * beta > threshold ? x : Foundation.log1p(Foundation.exp(x * beta)) / beta },
                     derivative: { x, _ in x * beta > threshold ? 1 : Tensor.sigmoid(x * beta) })
    }

    /// x·tanh(softplus(x)) (`F.mish`).
    public func mish() -> Tensor {
        func sp(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
        return unary(op: "mish", { $0 * Foundation.tanh(sp($0)) }, derivative: { x, _ in
            let t = Foundation.tanh(sp(x))
            return t + x * Tensor.sigmoid(x) * (1 - t * t)
        })
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
}

/// Parametric ReLU (`F.prelu`): x for x > 0, a·x otherwise, with one learned slope for all
/// channels (`weight` of 1 value) or one per channel (axis 1).
/// - Throws: `ConvKitError.shapeMismatch` when `weight` has neither 1 value nor one per channel.
public func prelu(_ input: Tensor, weight: Tensor) throws -> Tensor {
    let channels = input.rank >= 2 ? input.shape[1] : 1
    guard weight.rank == 1, weight.count == 1 || weight.count == channels else {
        throw ConvKitError.shapeMismatch(op: "prelu", message: "weight must have 1 value or \(channels) (one per channel of \(input.shape)), got \(weight.shape)")
    }
    let inner = input.rank >= 3 ? input.shape[2...].reduce(1, *) : 1
    let perChannel = weight.count > 1
    func slope(_ i: Int) -> Int { perChannel ? (i / inner) % channels : 0 }
    let x = input.scalars, a = weight.scalars
    let y = x.indices.map { i in x[i] > 0 ? x[i] : a[slope(i)] * x[i] }
    return Tensor.result(shape: input.shape, scalars: y, op: "prelu", inputs: [input, weight]) { g in
        var dx = [Float](repeating: 0, count: x.count), da = [Float](repeating: 0, count: a.count)
        for i in x.indices {
            if x[i] > 0 { dx[i] = g.scalars[i] } else { dx[i] = a[slope(i)] * g.scalars[i]; da[slope(i)] += x[i] * g.scalars[i] }
        }
        return [Tensor(uncheckedShape: input.shape, scalars: dx), Tensor(uncheckedShape: weight.shape, scalars: da)]
    }
}
