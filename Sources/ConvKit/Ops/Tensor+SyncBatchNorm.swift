import _ConvKitKernels
import Foundation

/// Batch normalisation in training with the statistics of the whole global batch of `group`
/// (every rank's input together), as `torch.nn.SyncBatchNorm` in training:
/// - forward: each rank's per-channel count, Σx and Σx² are summed over the ranks; the global
///   mean and biased variance normalise, and the running statistics take the unbiased global
///   variance (so every rank keeps the same running statistics);
/// - backward: Σdy and Σdy·x̂ are summed over the ranks for dx (the global batch's formula);
///   dγ and dβ stay this rank's own sums, which data-parallel training then averages.
/// With one rank it is `batchNorm(…, training: true)`. Every rank must call it at the same point.
/// - Parameters:
///   - input: (N, C, …) on each rank (N may differ between ranks).
///   - runningMean, runningVar, weight, bias: (C), optional.
/// - Throws: `ConvKitError.shapeMismatch` as `batchNorm`, or when the global batch has one value
///   per channel; `ConvKitError.distributed` when the sum over the ranks fails.
public func syncBatchNorm(
    _ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
    momentum: Float = 0.1, eps: Float = 1e-5, group: any ProcessGroup
) throws -> Tensor {
    let (outer, c, inner) = try batchNormView(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                              op: "syncBatchNorm")
    let m = outer * inner, x = input.scalars
    let (localMean, localVariance) = NormalizationKernel.channelStatistics(x, outer: outer, channels: c, inner: inner)
    // [count, Σx per channel, Σx² per channel], in Double so that large batches sum exactly enough.
    let n = Double(m)
    var sums = [Double](repeating: 0, count: 1 + 2 * c)
    sums[0] = n
    for ch in 0..<c {
        let (mu, variance) = (Double(localMean[ch]), Double(localVariance[ch]))
        sums[1 + ch] = mu * n
        sums[1 + c + ch] = (variance + mu * mu) * n
    }
    try group.allReduceSum(&sums)
    let total = sums[0]
    guard total > 1 else {
        throw ConvKitError.shapeMismatch(
            op: "syncBatchNorm", message: "expected more than 1 value per channel over all ranks when training, got input \(input.shape)")
    }
    var mean = [Float](repeating: 0, count: c), variance = mean
    for ch in 0..<c {
        let mu = sums[1 + ch] / total
        mean[ch] = Float(mu)
        variance[ch] = Float(Swift.max(sums[1 + c + ch] / total - mu * mu, 0))
    }
    if let runningMean, let runningVar {
        let unbias = Float(total / (total - 1))
        for ch in 0..<c {
            runningMean.scalars[ch] = (1 - momentum) * runningMean.scalars[ch] + momentum * mean[ch]
            runningVar.scalars[ch] = (1 - momentum) * runningVar.scalars[ch] + momentum * variance[ch] * unbias
        }
    }
    let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
    let (gamma, beta) = (weight?.scalars, bias?.scalars)
    let y = NormalizationKernel.batchNormForward(x, outer: outer, channels: c, inner: inner, mean: mean, invStd: invStd, gamma: gamma, beta: beta)
    let count = Int(total)
    return Tensor.result(shape: input.shape, scalars: y, op: "syncBatchNorm", inputs: [input] + [weight, bias].compactMap { $0 }) { g in
        let local = NormalizationKernel.batchNormGradientSums(x, gradOutput: g.scalars, outer: outer, channels: c, inner: inner,
                                                              mean: mean, invStd: invStd)
        var global = local.dy + local.dyXhat
        do { try group.allReduceSum(&global) } catch {
            CollectiveFailure.record(error)
            global = Array(repeating: .nan, count: 2 * c)
        }
        let dx = NormalizationKernel.batchNormInputGradient(
            x, gradOutput: g.scalars, outer: outer, channels: c, inner: inner, count: count, mean: mean, invStd: invStd, gamma: gamma,
            sumDy: Array(global[..<c]), sumDyXhat: Array(global[c...]))
        var grads: [Tensor?] = [Tensor(uncheckedShape: input.shape, scalars: dx)]
        if let weight { grads.append(Tensor(uncheckedShape: weight.shape, scalars: local.dyXhat)) }
        if let bias { grads.append(Tensor(uncheckedShape: bias.shape, scalars: local.dy)) }
        return grads
    }
}

/// A collective that failed inside a backward pass (which cannot throw): kept here and thrown
/// by the data-parallel trainer as soon as that pass returns.
enum CollectiveFailure {
    nonisolated(unsafe) private static var first: (any Error)?
    private static let lock = NSLock()

    static func record(_ error: any Error) {
        lock.lock(); defer { lock.unlock() }
        if first == nil { first = error }
    }

    /// The recorded failure, cleared.
    static func take() -> (any Error)? {
        lock.lock(); defer { lock.unlock() }
        defer { first = nil }
        return first
    }
}
