import Foundation
import _ConvKitKernels

/// Updates parameters from their gradients. State (momentum buffers, moments, the step
/// count) is exported by name so checkpoints can save and restore it exactly.
public protocol Optimizer: AnyObject {
    /// The parameters updated by `step()`, in a fixed order (state is keyed by position).
    var parameters: [Tensor] { get }
    /// The current learning rate; schedules set it before each step.
    var learningRate: Float { get set }
    /// Applies one update from the parameters' current gradients (parameters without a
    /// gradient are skipped, as in PyTorch).
    func step() throws
    /// The optimizer's state as named float arrays (`momentum_buffer.3`, `exp_avg.0`, `step`…).
    func stateArrays() -> [(String, [Float])]
    /// Restores state written by `stateArrays()`.
    /// - Throws: `ConvKitError.invalidArgument` when a name is missing or a size differs.
    func loadStateArrays(_ state: [String: [Float]]) throws
}

extension Optimizer {
    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    func requireState(_ state: [String: [Float]], _ name: String, count: Int, op: String) throws -> [Float] {
        guard let values = state[name] else {
            throw ConvKitError.invalidArgument(op: op, argument: "state", message: "has no '\(name)'")
        }
        guard values.count == count else {
            throw ConvKitError.invalidArgument(
                op: op, argument: "state", message: "'\(name)' has \(values.count) values, expected \(count)")
        }
        return values
    }
}

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
/// decay, exactly as `torch.optim.SGD`:
///   g ← ∇ + λ·p;  b ← g (first step) or μ·b + (1 − τ)·g;  g ← g + μ·b (Nesterov) or b;  p ← p − lr·g.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    private var buffers: [[Float]?]

    /// - Throws: `ConvKitError.invalidArgument` for a negative rate, momentum or decay, or
    ///   Nesterov without momentum (or with dampening).
    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        guard learningRate >= 0, momentum >= 0, weightDecay >= 0, learningRate.isFinite, momentum.isFinite, weightDecay.isFinite else {
            throw ConvKitError.invalidArgument(op: "SGD", argument: "learningRate/momentum/weightDecay",
                                               message: "must be non-negative, got \(learningRate), \(momentum), \(weightDecay)")
        }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw ConvKitError.invalidArgument(op: "SGD", argument: "nesterov", message: "requires momentum > 0 and dampening 0")
        }
        self.parameters = parameters
        (self.learningRate, self.momentum, self.dampening, self.weightDecay, self.nesterov) =
            (learningRate, momentum, dampening, weightDecay, nesterov)
        buffers = Array(repeating: nil, count: parameters.count)
    }

    /// Each parameter's update as above, element by element (`OptimizerKernel.sgd`: vector lanes,
    /// the same roundings as the formula evaluated left to right, no fused multiply-adds).
    public func step() throws {
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let first = momentum != 0 && buffers[i] == nil
            if first { buffers[i] = [Float](repeating: 0, count: p.count) }
            let (lr, mu, tau, decay, nesterov) = (learningRate, momentum, dampening, weightDecay, nesterov)
            grad.scalars.withUnsafeBufferPointer { g in
                p.withUnsafeMutableScalars { w in
                    func update(_ b: UnsafeMutablePointer<Float>?) {
                        OptimizerKernel.sgd(weights: w.baseAddress!, gradient: g.baseAddress!, buffer: b, count: w.count,
                                            learningRate: lr, momentum: mu, dampening: tau, weightDecay: decay,
                                            nesterov: nesterov, first: first)
                    }
                    guard w.count > 0 else { return }
                    if mu != 0 { buffers[i]!.withUnsafeMutableBufferPointer { update($0.baseAddress!) } } else { update(nil) }
                }
            }
        }
    }

    public func stateArrays() -> [(String, [Float])] {
        buffers.enumerated().compactMap { i, b in b.map { ("momentum_buffer.\(i)", $0) } }
    }

    public func loadStateArrays(_ state: [String: [Float]]) throws {
        buffers = try parameters.enumerated().map { i, p in
            state["momentum_buffer.\(i)"] == nil ? nil
                : try requireState(state, "momentum_buffer.\(i)", count: p.count, op: "SGD")
        }
    }
}

/// Adam (Kingma & Ba 2015) and, with `decoupledWeightDecay`, AdamW (Loshchilov & Hutter
/// 2019), exactly as `torch.optim.Adam` / `AdamW`:
///   m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  p ← p − (lr/(1 − β₁ᵗ)) · m / (√v/√(1 − β₂ᵗ) + ε),
/// with g ← ∇ + λp (Adam) or p ← p·(1 − lr·λ) first (AdamW).
public class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let decoupledWeightDecay: Bool
    /// Steps taken so far (t).
    public private(set) var stepCount = 0
    private var m: [[Float]], v: [[Float]]

    /// - Throws: `ConvKitError.invalidArgument` for β outside [0, 1) or a negative rate or decay.
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), learningRate >= 0, weightDecay >= 0, eps >= 0,
              learningRate.isFinite, weightDecay.isFinite, eps.isFinite else {
            throw ConvKitError.invalidArgument(
                op: decoupledWeightDecay ? "AdamW" : "Adam", argument: "hyperparameters",
                message: "need betas in [0, 1) and non-negative learningRate, eps, weightDecay; got betas (\(beta1), \(beta2)), lr \(learningRate), eps \(eps), weightDecay \(weightDecay)")
        }
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.eps, self.weightDecay, self.decoupledWeightDecay) =
            (learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay)
        m = parameters.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    public func step() throws {
        stepCount += 1
        let t = Float(stepCount)
        let correction1 = 1 - Foundation.pow(beta1, t), correction2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        let stepSize = learningRate / correction1
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad, p.count > 0 else { continue }
            let (b1, b2, eps, lr, wd, decoupled) = (beta1, beta2, eps, learningRate, weightDecay, decoupledWeightDecay)
            // Element by element as the formula above, left to right (`OptimizerKernel.adam`:
            // vector lanes, IEEE square roots and divisions, no fused multiply-adds).
            grad.scalars.withUnsafeBufferPointer { g in
                m[i].withUnsafeMutableBufferPointer { m in
                    v[i].withUnsafeMutableBufferPointer { v in
                        p.withUnsafeMutableScalars { w in
                            OptimizerKernel.adam(weights: w.baseAddress!, gradient: g.baseAddress!, m: m.baseAddress!,
                                                 v: v.baseAddress!, count: w.count, beta1: b1, beta2: b2, step: stepSize,
                                                 root2: correction2Root, eps: eps, learningRate: lr, weightDecay: wd,
                                                 decoupled: decoupled)
                        }
                    }
                }
            }
        }
    }

    public func stateArrays() -> [(String, [Float])] {
        [("step", [Float(stepCount)])] + m.indices.flatMap { i in [("exp_avg.\(i)", m[i]), ("exp_avg_sq.\(i)", v[i])] }
    }

    public func loadStateArrays(_ state: [String: [Float]]) throws {
        let op = decoupledWeightDecay ? "AdamW" : "Adam"
        let step = try requireState(state, "step", count: 1, op: op)
        let newM = try parameters.indices.map { try requireState(state, "exp_avg.\($0)", count: parameters[$0].count, op: op) }
        let newV = try parameters.indices.map { try requireState(state, "exp_avg_sq.\($0)", count: parameters[$0].count, op: op) }
        (stepCount, m, v) = (Int(step[0]), newM, newV)
    }
}

/// AdamW: Adam with decoupled weight decay (default λ = 0.01, as PyTorch).
public final class AdamW: Adam {
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01) throws {
        try super.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                       weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}
