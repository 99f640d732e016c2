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
    _ logits: Tensor, targets: [Int], labelSmoothing: Float = 0, reduction: Reduction = .mean, ignoreIndex: Int? = nil
) throws -> Tensor {
    guard (0...1).contains(labelSmoothing) else {
        throw ConvKitError.invalidArgument(
            op: "crossEntropy", argument: "labelSmoothing", message: "must be in [0, 1], got \(labelSmoothing)")
    }
    let classAxis = logits.rank == 1 ? 0 : 1
    return try classIndexLoss(try logits.logSoftmax(axis: classAxis), targets: targets, smoothing: labelSmoothing,
                              reduction: reduction, ignoreIndex: ignoreIndex, op: "crossEntropy")
}

/// Negative log-likelihood of log-probabilities at the target classes, as `nll_loss`.
/// - Parameters:
///   - logProbabilities: (N, C), (N, C, d...) or (C), e.g. from `logSoftmax(axis: 1)`.
///   - targets: class indices in 0..<C.
public func nllLoss(_ logProbabilities: Tensor, targets: [Int], reduction: Reduction = .mean, ignoreIndex: Int? = nil) throws -> Tensor {
    try classIndexLoss(logProbabilities, targets: targets, smoothing: 0, reduction: reduction, ignoreIndex: ignoreIndex, op: "nllLoss")
}

/// Per sample (or pixel): −(1 − ε)·logp[target] − (ε/C)·Σ_c logp[c]; then reduced. Targets
/// equal to `ignoreIndex` (e.g. −100, PyTorch's default, or 255 for unlabelled pixels) add
/// nothing and are not counted by the mean.
func classIndexLoss(
    _ logp: Tensor, targets: [Int], smoothing: Float, reduction: Reduction, ignoreIndex: Int?, op: String
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
    if let bad = targets.first(where: { ($0 < 0 || $0 >= c) && $0 != ignoreIndex }) {
        throw ConvKitError.invalidArgument(op: op, argument: "targets", message: "must be class indices in 0..<\(c), got \(bad)")
    }
    let x = logp.scalars
    var losses = [Float](repeating: 0, count: n * inner)
    for s in 0..<n { for i in 0..<inner {
        let t = targets[s * inner + i]
        if t == ignoreIndex { continue }
        var l = -(1 - smoothing) * x[(s * c + t) * inner + i]
        if smoothing > 0 {
            var total: Float = 0
            for k in 0..<c { total += x[(s * c + k) * inner + i] }
            l -= smoothing / Float(c) * total
        }
        losses[s * inner + i] = l
    }}
    let count = Float(targets.count - targets.filter { $0 == ignoreIndex }.count)
    let (outShape, value): ([Int], [Float]) = switch reduction {
    case .none: (sampleShape, losses)
    case .sum: ([], [losses.reduce(0, +)])
    case .mean: ([], [losses.reduce(0, +) / count])
    }
    return Tensor.result(shape: outShape, scalars: value, op: op, inputs: [logp]) { g in
        var dx = [Float](repeating: 0, count: x.count)
        for s in 0..<n { for i in 0..<inner where targets[s * inner + i] != ignoreIndex {
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

/// Soft Dice loss for segmentation: 1 − mean over classes of (2·Σ p·y + smooth) / (Σ p + Σ y + smooth),
/// with p the softmax of `logits` over the class axis, y the one-hot targets, and the sums over
/// the batch and every position (Milletari et al. 2016, as segmentation libraries define it).
/// - Parameters:
///   - logits: (N, C, …).
///   - targets: N·(positions) class indices, row-major (as `crossEntropy` takes them).
///   - smooth: added to both sides (keeps a class absent from prediction and target at Dice 1).
public func diceLoss(_ logits: Tensor, targets: [Int], smooth: Float = 1) throws -> Tensor {
    guard logits.rank >= 2 else {
        throw ConvKitError.shapeMismatch(op: "diceLoss", message: "logits must be (N, C, ...), got \(logits.shape)")
    }
    guard smooth.isFinite, smooth >= 0 else {
        throw ConvKitError.invalidArgument(op: "diceLoss", argument: "smooth", message: "must be finite and non-negative, got \(smooth)")
    }
    let (n, c) = (logits.shape[0], logits.shape[1])
    let inner = logits.shape[2...].reduce(1, *)
    guard targets.count == n * inner else {
        throw ConvKitError.shapeMismatch(op: "diceLoss", message: "expected \(n * inner) targets for logits \(logits.shape), got \(targets.count)")
    }
    if let bad = targets.first(where: { $0 < 0 || $0 >= c }) {
        throw ConvKitError.invalidArgument(op: "diceLoss", argument: "targets", message: "must be class indices in 0..<\(c), got \(bad)")
    }
    var oneHot = [Float](repeating: 0, count: logits.count)
    for s in 0..<n { for i in 0..<inner { oneHot[(s * c + targets[s * inner + i]) * inner + i] = 1 } }
    let y = Tensor(uncheckedShape: logits.shape, scalars: oneHot)
    let p = try logits.softmax(axis: 1)
    let axes = [0] + Array(2..<logits.rank)
    let intersection = try (try p * y).sum(axes: axes), predicted = try p.sum(axes: axes), actual = try y.sum(axes: axes)
    let dice = try (intersection * 2 + smooth) / (try predicted + actual + smooth)
    return try dice.mean() * -1 + 1
}
