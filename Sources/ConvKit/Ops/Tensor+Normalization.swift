import _ConvKitKernels

// Batch norm normalises each channel over (N, spatial...); layer norm normalises each
// sample over the normalised axes. Both run in `NormalizationKernel` over an
// (outer, mid, inner) view:
//   batch norm: statistics per mid (= channel) over outer·inner elements,
//   layer norm: statistics per (outer, inner) over mid elements.

/// Batch normalisation, as `torch.nn.functional.batch_norm`.
///
/// In training the batch statistics (biased variance) normalise the input and the running
/// statistics are updated in place: `running = (1 − momentum)·running + momentum·batch`,
/// with the unbiased variance. In evaluation the running statistics normalise.
/// - Parameters:
///   - input: (N, C), (N, C, L) or (N, C, H, W).
///   - runningMean, runningVar: (C); required in evaluation, optional in training.
///   - weight, bias: (C) affine parameters γ, β, optional.
///   - residual: a tensor of the input's shape added to the output (a residual block's shortcut:
///     `batchNorm(…) + residual`), in the same pass.
///   - relu: whether ReLU follows (after the residual), computed in the same passes
///     (`relu(batchNorm(…) + residual)` without the intermediate tensors or ReLU's own passes;
///     NaN kept as ReLU keeps it).
public func batchNorm(
    _ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5, adding residual: Tensor? = nil, relu: Bool = false
) throws -> Tensor {
    let (outer, c, inner) = try batchNormView(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                              op: "batchNorm")
    if let residual, residual.shape != input.shape {
        throw ConvKitError.shapeMismatch(op: "batchNorm", message: "residual \(residual.shape) must match input \(input.shape)")
    }
    // x is captured by value: the backward pass sees the input as it was.
    let m = outer * inner, x = input.scalars
    var mean: [Float], variance: [Float]
    if training {
        guard m > 1 else {
            throw ConvKitError.shapeMismatch(
                op: "batchNorm", message: "expected more than 1 value per channel when training, got input \(input.shape)")
        }
        (mean, variance) = NormalizationKernel.channelStatistics(x, outer: outer, channels: c, inner: inner)
        if let runningMean, let runningVar {
            let unbias = Float(m) / Float(m - 1)
            for ch in 0..<c {
                runningMean.scalars[ch] = (1 - momentum) * runningMean.scalars[ch] + momentum * mean[ch]
                runningVar.scalars[ch] = (1 - momentum) * runningVar.scalars[ch] + momentum * variance[ch] * unbias
            }
        }
    } else {
        guard let runningMean, let runningVar else {
            throw ConvKitError.invalidArgument(
                op: "batchNorm", argument: "runningMean/runningVar", message: "are required when not training")
        }
        (mean, variance) = (runningMean.scalars, runningVar.scalars)
    }
    let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
    let (gamma, beta) = (weight?.scalars, bias?.scalars)
    let y = NormalizationKernel.batchNormForward(x, outer: outer, channels: c, inner: inner, mean: mean, invStd: invStd,
                                                 gamma: gamma, beta: beta, residual: residual?.scalars, relu: relu)
    let inputs = [input] + [weight, bias].compactMap { $0 } + (residual.map { [$0] } ?? [])
    let op = "batchNorm" + (residual == nil ? "" : "+add") + (relu ? "+relu" : "")
    return Tensor.result(shape: input.shape, scalars: y, op: op, inputs: inputs) { g in
        // With a residual, ReLU's mask comes from the output (batch norm's own y is not kept) and
        // the masked gradient is the residual's; without one, the batch-norm passes apply it.
        let dz = residual != nil && relu ? NormalizationKernel.reluBackward(output: y, gradOutput: g.scalars) : g.scalars
        let d = NormalizationKernel.batchNormBackward(x, gradOutput: dz, outer: outer, channels: c, inner: inner,
                                                      training: training, mean: mean, invStd: invStd, gamma: gamma,
                                                      relu: relu && residual == nil, beta: beta)
        var grads: [Tensor?] = [Tensor(uncheckedShape: input.shape, scalars: d.input)]
        if let weight { grads.append(Tensor(uncheckedShape: weight.shape, scalars: d.gamma)) }
        if let bias { grads.append(Tensor(uncheckedShape: bias.shape, scalars: d.beta)) }
        if residual != nil { grads.append(Tensor(uncheckedShape: input.shape, scalars: dz)) }
        return grads
    }
}

/// (N, C, spatial…) as (outer, channels, inner), after checking that every per-channel tensor has shape [C].
func batchNormView(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                   op: String) throws -> (outer: Int, channels: Int, inner: Int) {
    guard input.rank >= 2 else {
        throw ConvKitError.shapeMismatch(op: op, message: "input must be (N, C, ...), got \(input.shape)")
    }
    let c = input.shape[1]
    for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
        if let t, t.shape != [c] {
            throw ConvKitError.shapeMismatch(op: op, message: "\(name) must have shape [\(c)], got \(t.shape)")
        }
    }
    return (input.shape[0], c, input.shape[2...].reduce(1, *))
}

/// Layer normalisation over the trailing `normalizedShape` axes, as `torch.nn.functional.layer_norm`.
/// - Parameters:
///   - input: (…, normalizedShape...).
///   - weight, bias: of shape `normalizedShape`, optional.
public func layerNorm(
    _ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5
) throws -> Tensor {
    let r = normalizedShape.count
    guard r >= 1, input.rank >= r, Array(input.shape.suffix(r)) == normalizedShape else {
        throw ConvKitError.shapeMismatch(
            op: "layerNorm", message: "input \(input.shape) must end with normalizedShape \(normalizedShape)")
    }
    let mid = normalizedShape.reduce(1, *)
    return try normalizeMiddle(input, outer: input.count / Swift.max(mid, 1), mid: mid, inner: 1,
                               affineShape: normalizedShape, weight: weight, bias: bias, eps: eps, op: "layerNorm")
}

/// Layer normalisation over the channel axis of (N, C, spatial...) at each position, as
/// ConvNeXt's `LayerNorm(data_format="channels_first")`.
/// - Parameters:
///   - weight, bias: (C), optional.
public func layerNormChannels(
    _ input: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-6
) throws -> Tensor {
    guard input.rank >= 2 else {
        throw ConvKitError.shapeMismatch(op: "layerNormChannels", message: "input must be (N, C, ...), got \(input.shape)")
    }
    return try normalizeMiddle(input, outer: input.shape[0], mid: input.shape[1], inner: input.shape[2...].reduce(1, *),
                               affineShape: [input.shape[1]], weight: weight, bias: bias, eps: eps,
                               op: "layerNormChannels")
}

/// Normalises each (outer, inner) slice over its `mid` elements; γ, β are indexed by mid.
func normalizeMiddle(
    _ input: Tensor, outer: Int, mid: Int, inner: Int, affineShape: [Int], weight: Tensor?, bias: Tensor?,
    eps: Float, op: String
) throws -> Tensor {
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let t, t.shape != affineShape {
            throw ConvKitError.shapeMismatch(op: op, message: "\(name) must have shape \(affineShape), got \(t.shape)")
        }
    }
    let (x, gamma, beta) = (input.scalars, weight?.scalars, bias?.scalars)
    let forward = NormalizationKernel.layerNormForward(x, outer: outer, mid: mid, inner: inner, eps: eps,
                                                       gamma: gamma, beta: beta)
    let inputs = [input] + [weight, bias].compactMap { $0 }
    return Tensor.result(shape: input.shape, scalars: forward.output, op: op, inputs: inputs) { g in
        let d = NormalizationKernel.layerNormBackward(x, gradOutput: g.scalars, outer: outer, mid: mid, inner: inner,
                                                      mean: forward.mean, invStd: forward.invStd, gamma: gamma)
        var grads: [Tensor?] = [Tensor(uncheckedShape: input.shape, scalars: d.input)]
        if let weight { grads.append(Tensor(uncheckedShape: weight.shape, scalars: d.gamma)) }
        if let bias { grads.append(Tensor(uncheckedShape: bias.shape, scalars: d.beta)) }
        return grads
    }
}

/// Dropout: in training, zeroes each element with probability `probability` and scales
/// the rest by 1/(1 − p); in evaluation, the identity. The mask comes from `generator`,
/// so a seeded generator gives the same mask every run.
public func dropout(
    _ input: Tensor, probability p: Float, training: Bool, using generator: inout some RandomNumberGenerator
) throws -> Tensor {
    guard (0...1).contains(p) else {
        throw ConvKitError.invalidArgument(op: "dropout", argument: "probability", message: "must be in [0, 1], got \(p)")
    }
    guard training, p > 0 else { return input }
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    let mask = (0..<input.count).map { _ in generator.nextUnitFloat() >= p ? scale : 0 }
    let y = zip(input.scalars, mask).map { $0 * $1 }
    return Tensor.result(shape: input.shape, scalars: y, op: "dropout", inputs: [input]) { g in
        [Tensor(uncheckedShape: g.shape, scalars: zip(g.scalars, mask).map { $0 * $1 })]
    }
}

/// Dropout of whole channels (`F.dropout2d`/`dropout3d`): in training each (sample, channel)
/// map is zeroed with probability p and the rest scaled by 1/(1 − p); identity in evaluation.
public func channelDropout(_ input: Tensor, probability p: Float, training: Bool,
                           using generator: inout some RandomNumberGenerator) throws -> Tensor {
    guard (0...1).contains(p) else {
        throw ConvKitError.invalidArgument(op: "dropout2d", argument: "probability", message: "must be in [0, 1], got \(p)")
    }
    guard input.rank >= 3 else {
        throw ConvKitError.shapeMismatch(op: "dropout2d", message: "input must be (N, C, spatial...), got \(input.shape)")
    }
    guard training, p > 0 else { return input }
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    let maps = input.shape[0] * input.shape[1]
    let mask = (0..<maps).map { _ in generator.nextUnitFloat() >= p ? scale : 0 }
    return try input * Tensor(uncheckedShape: [input.shape[0], input.shape[1]] + Array(repeating: 1, count: input.rank - 2), scalars: mask)
}
