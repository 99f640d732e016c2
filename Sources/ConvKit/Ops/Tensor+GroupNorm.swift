// Normalisations over groups of channels and across neighbouring channels, composed from
// ops that carry their own gradients (layer norm over each group, padding, average pooling).

/// Group normalisation (`F.group_norm`): the C channels split into `groups` groups, each
/// group of each sample normalised over its channels and positions, then γ, β per channel.
/// - Parameters:
///   - input: (N, C, …) with C divisible by `groups`.
///   - weight, bias: (C), optional.
/// - Throws: `ConvKitError` for groups that do not divide C or parameters of the wrong shape.
public func groupNorm(_ input: Tensor, groups: Int, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) throws -> Tensor {
    guard input.rank >= 2, input.count > 0 else {
        throw ConvKitError.shapeMismatch(op: "groupNorm", message: "input must be a non-empty (N, C, ...), got \(input.shape)")
    }
    let (n, c) = (input.shape[0], input.shape[1])
    guard groups > 0, c % groups == 0 else {
        throw ConvKitError.invalidArgument(op: "groupNorm", argument: "groups", message: "must be positive and divide the \(c) channels, got \(groups)")
    }
    for (name, t) in [("weight", weight), ("bias", bias)] where t != nil && t!.shape != [c] {
        throw ConvKitError.shapeMismatch(op: "groupNorm", message: "\(name) must have shape [\(c)], got \(t!.shape)")
    }
    let perGroup = input.count / (n * groups)
    var y = try layerNorm(try input.reshaped(to: [n, groups, perGroup]), normalizedShape: [perGroup], eps: eps).reshaped(to: input.shape)
    let channelShape = [1, c] + Array(repeating: 1, count: input.rank - 2)
    if let weight { y = try y * (try weight.reshaped(to: channelShape)) }
    if let bias { y = try y + (try bias.reshaped(to: channelShape)) }
    return y
}

/// Local response normalisation (`F.local_response_norm`, the original AlexNet's): each value
/// divided by (k + α/size · Σ x²)^β, the sum over `size` neighbouring channels (zero beyond
/// the edges; size/2 before, (size − 1)/2 after, as PyTorch pads).
/// - Throws: `ConvKitError.invalidArgument` for size < 1, a non-finite α, β or k, or k ≤ 0.
public func localResponseNorm(_ input: Tensor, size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) throws -> Tensor {
    guard input.rank >= 3 else {
        throw ConvKitError.shapeMismatch(op: "localResponseNorm", message: "input must be (N, C, spatial...), got \(input.shape)")
    }
    try Limits.check(size, in: 1...(1 << 20), op: "localResponseNorm", argument: "size")
    guard alpha.isFinite, beta.isFinite, k.isFinite, k > 0 else {
        throw ConvKitError.invalidArgument(op: "localResponseNorm", argument: "alpha/beta/k",
                                           message: "must be finite with k > 0, got \(alpha), \(beta), \(k)")
    }
    let (n, c) = (input.shape[0], input.shape[1])
    let spatial = input.count / Swift.max(n * c, 1)
    let squares = try (input * input).reshaped(to: [n, 1, c, spatial])
    let padded = try pad(squares, before: [size / 2, 0], after: [(size - 1) / 2, 0])
    let average = try avgPool2d(padded, kernelSize: [size, 1], stride: 1).reshaped(to: input.shape)
    // (k + α·mean)^β as exp(β·log(·)): the base is at least k > 0.
    let divisor = ((average * alpha + k).log() * beta).exp()
    return try input / divisor
}
