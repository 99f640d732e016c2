// Class-index losses take input (N, C) or (N, C, d...) with targets (N) or (N, d...) given
// as `[Int]` in row-major order, or unbatched input (C) with one target.

/// Cross-entropy of logits against class indices, as `torch.nn.functional.cross_entropy`:
/// `logSoftmax` over the class axis followed by `nllLoss`.
/// - Parameters:
///   - logits: (N, C), (N, C, d...) or (C).
///   - targets: class indices in 0..<C, one per sample (and position).
///   - labelSmoothing: ε in [0, 1]; the target becomes (1 − ε)·one-hot + ε/C.
///   - reduction: `.mean` (over samples), `.sum` or `.none`.
public func crossEntropy(
    _ logits: Tensor, targets: [Int], labelSmoothing: Float = 0, reduction: Reduction = .mean
) throws -> Tensor {
    guard (0...1).contains(labelSmoothing) else {
        throw ConvKitError.invalidArgument(
            op: "crossEntropy", argument: "labelSmoothing", message: "must be in [0, 1], got \(labelSmoothing)")
    }
    let classAxis = logits.rank == 1 ? 0 : 1
    return try classIndexLoss(try logits.logSoftmax(axis: classAxis), targets: targets, smoothing: labelSmoothing,
                              reduction: reduction, op: "crossEntropy")
}

/// Negative log-likelihood of log-probabilities at the target classes, as `nll_loss`.
/// - Parameters:
///   - logProbabilities: (N, C), (N, C, d...) or (C), e.g. from `logSoftmax(axis: 1)`.
///   - targets: class indices in 0..<C.
public func nllLoss(_ logProbabilities: Tensor, targets: [Int], reduction: Reduction = .mean) throws -> Tensor {
    try classIndexLoss(logProbabilities, targets: targets, smoothing: 0, reduction: reduction, op: "nllLoss")
}

/// Per sample: −(1 − ε)·logp[target] − (ε/C)·Σ_c logp[c]; then reduced.
func classIndexLoss(
    _ logp: Tensor, targets: [Int], smoothing: Float, reduction: Reduction, op: String
) throws -> Tensor {
    guard logp.rank >= 1 else {
        throw ConvKitError.shapeMismatch(op: op, message: "input must be (N, C, ...) or (C), got a scalar")
    }
    let unbatched = logp.rank == 1
    let n = unbatched ? 1 : logp.shape[0]
    let c = unbatched ? logp.shape[0] : logp.shape[1]
    let inner = unbatched ? 1 : logp.shape[2...].reduce(1, *)
    let sampleShape = unbatched ? [] : [n] + Array(logp.shape[2...])
    guard targets.count == n * inner else {
        throw ConvKitError.shapeMismatch(
            op: op, message: "expected \(n * inner) targets for input \(logp.shape) (shape \(sampleShape)), got \(targets.count)")
    }
    if let bad = targets.first(where: { $0 < 0 || $0 >= c }) {
        throw ConvKitError.invalidArgument(op: op, argument: "targets", message: "must be class indices in 0..<\(c), got \(bad)")
    }
    let x = logp.scalars
    var losses = [Float](repeating: 0, count: n * inner)
    for s in 0..<n { for i in 0..<inner {
        let t = targets[s * inner + i]
        var l = -(1 - smoothing) * x[(s * c + t) * inner + i]
        if smoothing > 0 {
            var total: Float = 0
            for k in 0..<c { total += x[(s * c + k) * inner + i] }
            l -= smoothing / Float(c) * total
        }
        losses[s * inner + i] = l
    }}
    let count = Float(losses.count)
    let (outShape, value): ([Int], [Float]) = switch reduction {
    case .none: (sampleShape, losses)
    case .sum: ([], [losses.reduce(0, +)])
    case .mean: ([], [losses.reduce(0, +) / count])
    }
    return Tensor.result(shape: outShape, scalars: value, op: op, inputs: [logp]) { g in
        var dx = [Float](repeating: 0, count: x.count)
        for s in 0..<n { for i in 0..<inner {
            let upstream: Float = switch reduction {
            case .none: g.scalars[s * inner + i]
            case .sum: g.scalars[0]
            case .mean: g.scalars[0] / count
            }
            dx[(s * c + targets[s * inner + i]) * inner + i] -= (1 - smoothing) * upstream
            if smoothing > 0 {
                for k in 0..<c { dx[(s * c + k) * inner + i] -= smoothing / Float(c) * upstream }
            }
        }}
        return [Tensor(uncheckedShape: logp.shape, scalars: dx)]
    }
}

/// Mean squared error (x − target)², reduced, as `torch.nn.functional.mse_loss`.
/// - Throws: `ConvKitError.shapeMismatch` when the shapes differ.
public func mseLoss(_ input: Tensor, target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
    guard input.shape == target.shape else {
        throw ConvKitError.shapeMismatch(
            op: "mseLoss", message: "input \(input.shape) and target \(target.shape) must have the same shape")
    }
    let squared = try (input - target).squared()
    switch reduction {
    case .none: return squared
    case .sum: return try squared.sum()
    case .mean: return try squared.mean()
    }
}
