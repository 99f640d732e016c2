import _ConvKitKernels
import Foundation

// Elementwise activations with their derivatives (gradients at kinks follow PyTorch:
// relu' (0) = 0, relu6' is 0 at 0 and 6, leakyRelu' (0) = slope). NaN propagates, as in
// PyTorch, so a NaN upstream reaches the loss instead of being clipped to 0.

extension Tensor {
    /// max(0, x).
    ///
    /// The backward pass masks the upstream gradient with the output (`y > 0`), as PyTorch's
    /// `threshold_backward` does, so unlike the generic `unary` no derivative array is kept:
    /// one activation-sized array less per ReLU and per training step.
    public func relu() -> Tensor {
        let n = count
        let y = scalars.withUnsafeBufferPointer { x in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                if n > 0 { ReLUKernel.forward(input: x.baseAddress!, output: out.baseAddress!, count: n) }
                initialized = n
            }
        }
        return Tensor.result(shape: shape, scalars: y, op: "relu", inputs: [self]) { g in
            let dx = g.scalars.withUnsafeBufferPointer { gv in y.withUnsafeBufferPointer { yv in
                [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    if n > 0 {
                        ReLUKernel.backward(output: yv.baseAddress!, gradOutput: gv.baseAddress!, gradInput: out.baseAddress!, count: n)
                    }
                    initialized = n
                }
            }}
            return [Tensor(uncheckedShape: g.shape, scalars: dx)]
        }
    }

    /// min(max(0, x), 6), as MobileNet uses.
    public func relu6() -> Tensor {
        unary(op: "relu6", { $0.isNaN ? $0 : Swift.min(Swift.max($0, 0), 6) }, derivative: { x, _ in x > 0 && x < 6 ? 1 : 0 })
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
        unary(op: "silu", { $0 * Tensor.sigmoid($0) }, derivative: { x, _ in
            let s = Tensor.sigmoid(x)
            return s * (1 + x * (1 - s))
        })
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

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
}
