import Foundation

/// A learning-rate schedule as a function of the optimizer step (0-based), as PyTorch's
/// schedulers stepped once per batch.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// `StepLR`: multiply by `gamma` every `stepSize` steps.
    case step(stepSize: Int, gamma: Float)
    /// `CosineAnnealingLR`: from the base rate down to `minimum` over `totalSteps`.
    case cosine(totalSteps: Int, minimum: Float = 0)
    /// `OneCycleLR` (cosine): from maxRate/`divFactor` up to `maxRate` over the first
    /// `pctStart` of `totalSteps`, then down to maxRate/(divFactor·`finalDivFactor`).
    case oneCycle(maxRate: Float, totalSteps: Int, pctStart: Float = 0.3, divFactor: Float = 25, finalDivFactor: Float = 1e4)
    /// Linear warmup from 0 to the base rate over `steps`, then cosine decay to 0 until `totalSteps`.
    case warmupCosine(warmupSteps: Int, totalSteps: Int)

    /// The rate at optimizer step `step` for the base rate `base`.
    public func rate(at step: Int, base: Float) -> Float {
        func cosine(_ from: Float, _ to: Float, _ fraction: Float) -> Float {
            to + (from - to) * (1 + Foundation.cos(Float.pi * Swift.min(Swift.max(fraction, 0), 1))) / 2
        }
        switch self {
        case .constant:
            return base
        case let .step(stepSize, gamma):
            return base * Foundation.pow(gamma, Float(step / Swift.max(stepSize, 1)))
        case let .cosine(total, minimum):
            return cosine(base, minimum, Float(step) / Float(Swift.max(total, 1)))
        case let .oneCycle(maxRate, total, pctStart, divFactor, finalDivFactor):
            let initial = maxRate / divFactor, final = initial / finalDivFactor
            let up = Float(pctStart) * Float(total) - 1
            if Float(step) <= up { return cosine(initial, maxRate, Float(step) / Swift.max(up, 1)) }
            return cosine(maxRate, final, (Float(step) - up) / Swift.max(Float(total) - 1 - up, 1))
        case let .warmupCosine(warmup, total):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            return cosine(base, 0, Float(step - warmup) / Float(Swift.max(total - warmup, 1)))
        }
    }
}

/// Rescales all gradients together so their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` (scale maxNorm/(norm + 1e-6) when below 1).
/// - Returns: the norm before clipping (infinite or NaN when a gradient is).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var sum: Double = 0
    for p in parameters { if let g = p.grad { for x in g.scalars { sum += Double(x) * Double(x) } } }
    let norm = Float(sum.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 {
        for p in parameters { if let g = p.grad { p.grad = Tensor(uncheckedShape: g.shape, scalars: g.scalars.map { $0 * scale }) } }
    }
    return norm
}

/// Clamps every gradient element to [−`maxValue`, `maxValue`], as `clip_grad_value_`.
public func clipGradientValue(_ parameters: [Tensor], maxValue: Float) {
    for p in parameters {
        if let g = p.grad { p.grad = Tensor(uncheckedShape: g.shape, scalars: g.scalars.map { Swift.min(Swift.max($0, -maxValue), maxValue) }) }
    }
}
