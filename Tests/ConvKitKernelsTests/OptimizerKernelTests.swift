import Foundation
import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// `OptimizerKernel`: Adam, AdamW and SGD updates on vector lanes give the bits of the scalar
/// formulas evaluated left to right (the definitions `Adam.step` and `SGD.step` document), over
/// several steps, at lengths around the lane widths and one split across cores.
@Suite struct OptimizerKernelTests {
    static let lengths = [1, 7, 15, 16, 17, 33, 100_003]

    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test(arguments: [(Float(0), false), (0.01, false), (0.01, true)])
    func adamGivesTheScalarFormulasBits(decay: Float, decoupled: Bool) {
        var random = TestRandom(seed: 41)
        let (b1, b2, eps, lr): (Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 1e-3)
        for n in Self.lengths {
            var (w, m, v) = (random.values(n), [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
            var (rw, rm, rv) = (w, m, v)
            for t in 1...3 {
                let g = random.values(n)
                let step = lr / (1 - pow(b1, Float(t))), root2 = (1 - pow(b2, Float(t))).squareRoot()
                for j in 0..<n {
                    var gj = g[j]
                    if decoupled { rw[j] *= 1 - lr * decay } else if decay != 0 { gj += decay * rw[j] }
                    rm[j] = b1 * rm[j] + (1 - b1) * gj
                    rv[j] = b2 * rv[j] + (1 - b2) * gj * gj
                    rw[j] -= step * rm[j] / (rv[j].squareRoot() / root2 + eps)
                }
                OptimizerKernel.adam(weights: &w, gradient: g, m: &m, v: &v, count: n, beta1: b1, beta2: b2, step: step,
                                     root2: root2, eps: eps, learningRate: lr, weightDecay: decay, decoupled: decoupled)
                #expect(Self.same(w, rw) && Self.same(m, rm) && Self.same(v, rv), "n \(n) step \(t)")
            }
        }
    }

    /// (momentum, dampening, weight decay, Nesterov)
    @Test(arguments: [(Float(0), Float(0), Float(0), false), (0.9, 0, 0, false), (0.9, 0.1, 1e-4, false), (0.8, 0, 0.01, true)])
    func sgdGivesTheScalarFormulasBits(momentum: Float, dampening: Float, decay: Float, nesterov: Bool) {
        var random = TestRandom(seed: 43)
        let lr: Float = 0.01
        for n in Self.lengths {
            var w = random.values(n), rw = w
            var buffer = [Float](repeating: .nan, count: n), reference: [Float]? = nil
            for t in 0..<3 {
                var g = random.values(n)
                let kernelGradient = g
                if decay != 0 { for j in 0..<n { g[j] += decay * rw[j] } }
                if momentum != 0 {
                    if var b = reference {
                        for j in 0..<n { b[j] = momentum * b[j] + (1 - dampening) * g[j] }
                        reference = b
                    } else {
                        reference = g
                    }
                    if nesterov { for j in 0..<n { g[j] += momentum * reference![j] } } else { g = reference! }
                }
                for j in 0..<n { rw[j] -= lr * g[j] }
                buffer.withUnsafeMutableBufferPointer { b in
                    OptimizerKernel.sgd(weights: &w, gradient: kernelGradient, buffer: momentum != 0 ? b.baseAddress! : nil, count: n,
                                        learningRate: lr, momentum: momentum, dampening: dampening, weightDecay: decay,
                                        nesterov: nesterov, first: t == 0)
                }
                #expect(Self.same(w, rw), "n \(n) step \(t)")
                if let reference { #expect(Self.same(buffer, reference), "n \(n) step \(t): the momentum buffer") }
            }
        }
    }
}
