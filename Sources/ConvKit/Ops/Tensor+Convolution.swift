import _ConvKitKernels

// Shapes: input (N, C, spatial...) or unbatched (C, spatial...); weight (K, C/G, kernel...);
// bias (K); output (N, K, out...) with out = floor((n + before + after − d(k−1) − 1)/s) + 1.

/// 1-D cross-correlation, as `torch.nn.functional.conv1d` (with `paddingMode` as `nn.Conv1d`).
/// - Parameters:
///   - input: (N, C, L) or unbatched (C, L).
///   - weight: (K, C/groups, k).
///   - bias: (K), optional.
///   - stride, dilation: positive.
///   - padding: an amount, `.same`, `.valid` or `.explicit(before:after:)`.
///   - groups: divides C and K; `groups == C` is depthwise.
///   - paddingMode: how padded positions are filled.
///   - algorithm: as `conv2d` (Winograd applies to 2-D layers only, so this rank runs the direct kernels).
/// - Returns: (N, K, L_out), or (K, L_out) for unbatched input.
public func conv1d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: Padding = 0,
    dilation: PerAxis = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros, algorithm: ConvolutionAlgorithm = .automatic
) throws -> Tensor {
    try convolution(input, weight: weight, bias: bias, rank: 1, stride: stride, padding: padding,
                    dilation: dilation, groups: groups, paddingMode: paddingMode, algorithm: algorithm, op: "conv1d")
}

/// 2-D cross-correlation, as `torch.nn.functional.conv2d` (with `paddingMode` as `nn.Conv2d`).
/// - Parameters:
///   - input: (N, C, H, W) or unbatched (C, H, W).
///   - weight: (K, C/groups, kH, kW).
///   - bias: (K), optional.
///   - stride, dilation: positive, one value or (h, w).
///   - padding: an amount, per axis (h, w), `.same`, `.valid` or `.explicit(before:after:)`.
///   - groups: divides C and K; `groups == C` is depthwise.
///   - paddingMode: how padded positions are filled.
///   - algorithm: how the products may be computed (`.automatic` defers to `ConvolutionAlgorithm.global`).
/// - Returns: (N, K, H_out, W_out), or (K, H_out, W_out) for unbatched input.
public func conv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: Padding = 0,
    dilation: PerAxis = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros, algorithm: ConvolutionAlgorithm = .automatic
) throws -> Tensor {
    try convolution(input, weight: weight, bias: bias, rank: 2, stride: stride, padding: padding,
                    dilation: dilation, groups: groups, paddingMode: paddingMode, algorithm: algorithm, op: "conv2d")
}

/// 3-D cross-correlation, as `torch.nn.functional.conv3d` (with `paddingMode` as `nn.Conv3d`):
/// volumes (medical scans) or clips (frames × height × width), on the same kernels as 1-D and 2-D.
/// - Parameters:
///   - input: (N, C, D, H, W) or unbatched (C, D, H, W).
///   - weight: (K, C/groups, kD, kH, kW).
///   - stride, dilation, padding: as `conv2d`, with three axes.
///   - algorithm: as `conv2d` (Winograd applies to 2-D layers only, so this rank runs the direct kernels).
/// - Returns: (N, K, D_out, H_out, W_out), or (K, D_out, H_out, W_out) for unbatched input.
public func conv3d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: Padding = 0,
    dilation: PerAxis = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros, algorithm: ConvolutionAlgorithm = .automatic
) throws -> Tensor {
    try convolution(input, weight: weight, bias: bias, rank: 3, stride: stride, padding: padding,
                    dilation: dilation, groups: groups, paddingMode: paddingMode, algorithm: algorithm, op: "conv3d")
}

/// True 1-D convolution: the kernel is flipped before sliding (the signal-processing
/// definition), whereas `conv1d` is cross-correlation (the deep-learning one).
public func trueConv1d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: Padding = 0,
    dilation: PerAxis = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros
) throws -> Tensor {
    guard weight.rank == 3 else {
        throw ConvKitError.shapeMismatch(op: "trueConv1d", message: "weight must be (K, C/groups, k), got \(weight.shape)")
    }
    return try conv1d(input, weight: weight.flipped(axes: [2]), bias: bias, stride: stride, padding: padding,
                      dilation: dilation, groups: groups, paddingMode: paddingMode)
}

/// True 2-D convolution: the kernel is rotated 180° before sliding. Compare with `conv2d`
/// (cross-correlation); the two agree for symmetric kernels.
public func trueConv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: Padding = 0,
    dilation: PerAxis = 1, groups: Int = 1, paddingMode: PaddingMode = .zeros
) throws -> Tensor {
    guard weight.rank == 4 else {
        throw ConvKitError.shapeMismatch(op: "trueConv2d", message: "weight must be (K, C/groups, kH, kW), got \(weight.shape)")
    }
    return try conv2d(input, weight: weight.flipped(axes: [2, 3]), bias: bias, stride: stride, padding: padding,
                      dilation: dilation, groups: groups, paddingMode: paddingMode)
}

/// Which implementation `conv1d`/`conv2d` (rank 1 or 2) would run for these shapes and
/// arguments on this CPU, in each direction, and the workspace it needs.
/// - Parameters:
///   - inputShape: (N, C, spatial…); weightShape: (K, C/groups, kernel…).
///   - algorithm: the layer's choice (`.automatic` defers to `ConvolutionAlgorithm.global`).
/// - Throws: `ConvKitError` as the convolution itself would, without allocating anything.
public func convolutionPlan(
    inputShape: [Int], weightShape: [Int], stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1,
    groups: Int = 1, paddingMode: PaddingMode = .zeros, algorithm: ConvolutionAlgorithm = .automatic
) throws -> ConvolutionPlan {
    let rank = weightShape.count - 2
    guard (1...2).contains(rank) else {
        throw ConvKitError.shapeMismatch(op: "convolutionPlan", message: "weight must have rank 3 or 4, got \(weightShape)")
    }
    var g = try convolutionGeometry(inputShape: inputShape, weightShape: weightShape, biasShape: nil, rank: rank, stride: stride,
                                    padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode, op: "convolutionPlan")
    g.algorithm = algorithm
    try checkAllocations(g, op: "convolutionPlan")
    return ConvolutionPlan(g)
}

/// Adds a batch axis to unbatched input (rank r+1) and reports whether it did.
func batchedInput(_ input: Tensor, rank r: Int, op: String) throws -> (Tensor, Bool) {
    if input.rank == r + 2 { return (input, false) }
    let layout = ["(N, C, L)", "(N, C, H, W)", "(N, C, D, H, W)"][Swift.min(Swift.max(r, 1), 3) - 1]
    if input.rank == r + 1 { return (try input.unsqueezed(axis: 0), true) }
    throw ConvKitError.shapeMismatch(
        op: op, message: "input must be \(layout) or unbatched without N, got shape \(input.shape)")
}

/// The checked geometry of a convolution whose buffers are about to be allocated: the
/// shape checks of `convolutionGeometry(inputShape:…)`, then the output and the padded
/// input against `Limits.maxTensorElements`.
func convolutionGeometry(
    input x: Tensor, weight: Tensor, bias: Tensor?, rank r: Int, stride: PerAxis, padding: Padding,
    dilation: PerAxis, groups: Int, paddingMode: PaddingMode, op: String
) throws -> ConvGeometry {
    let g = try convolutionGeometry(inputShape: x.shape, weightShape: weight.shape, biasShape: bias?.shape, rank: r, stride: stride,
                                    padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode, op: op)
    try checkAllocations(g, op: op)
    return g
}

/// The output and the padded copy of the input that the kernels allocate for `g`.
func checkAllocations(_ g: ConvGeometry, op: String) throws {
    try Limits.elementCount([g.batch, g.outChannels] + g.outputSize, op: op, what: "output")
    let padded = (0..<g.rank).map { g.inputSize[$0] + g.padBefore[$0] + g.padAfter[$0] }
    try Limits.elementCount([g.batch, g.inChannels] + padded, op: op, what: "padded input")
}

/// The checked geometry of a convolution from shapes alone (nothing is allocated, so
/// `outputSizeLines` can answer for any size): ranks, channels and groups, every size,
/// stride, dilation and padding in 0…`Limits.maxAxisValue` (so the output-size formula
/// cannot overflow), and a kernel that fits the padded input.
/// - Parameters:
///   - inputShape: (N, C, spatial…); weightShape: (K, C/groups, kernel…); biasShape: (K).
func convolutionGeometry(
    inputShape: [Int], weightShape: [Int], biasShape: [Int]?, rank r: Int, stride: PerAxis, padding: Padding,
    dilation: PerAxis, groups: Int, paddingMode: PaddingMode, op: String
) throws -> ConvGeometry {
    let names = r == 1 ? "(K, C/groups, k)" : "(K, C/groups, kH, kW)"
    guard weightShape.count == r + 2 else {
        throw ConvKitError.shapeMismatch(op: op, message: "weight must be \(names), got shape \(weightShape)")
    }
    guard inputShape.count == r + 2 else {
        throw ConvKitError.shapeMismatch(op: op, message: "input must have rank \(r + 2), got shape \(inputShape)")
    }
    guard groups > 0 else {
        throw ConvKitError.invalidArgument(op: op, argument: "groups", message: "must be positive, got \(groups)")
    }
    let c = inputShape[1], k = weightShape[0]
    guard c == weightShape[1] * groups else {
        throw ConvKitError.shapeMismatch(
            op: op, message: "input has \(c) channels but weight expects \(weightShape[1] * groups) "
                + "(\(weightShape[1]) per group × groups \(groups))")
    }
    guard k > 0, k % groups == 0 else {
        throw ConvKitError.shapeMismatch(
            op: op, message: "output channels \(k) must be a positive multiple of groups \(groups)")
    }
    if let biasShape, biasShape != [k] {
        throw ConvKitError.shapeMismatch(op: op, message: "bias must have shape [\(k)], got \(biasShape)")
    }
    let kernel = Array(weightShape[2...])
    guard kernel.allSatisfy({ $0 > 0 && $0 <= Limits.maxAxisValue }) else {
        throw ConvKitError.shapeMismatch(op: op, message: "kernel sizes must be in 1…2^31 − 1, got \(kernel)")
    }
    let size = Array(inputShape[2...])
    if let bad = size.first(where: { $0 < 0 || $0 > Limits.maxAxisValue }) {
        throw ConvKitError.invalidArgument(op: op, argument: "input size", message: "must be in 0…2^31 − 1, got \(bad) in \(size)")
    }
    let s = try stride.resolved(rank: r, op: op, argument: "stride")
    let d = try dilation.resolved(rank: r, op: op, argument: "dilation")
    let (before, after) = try padding.resolved(rank: r, kernel: kernel, dilation: d, stride: s, op: op)
    try checkPaddingMode(paddingMode, size: size, before: before, after: after, op: op)
    let g = ConvGeometry(
        batch: inputShape[0], inChannels: c, outChannels: k, groups: groups, inputSize: size, kernelSize: kernel,
        stride: s, dilation: d, padBefore: before, padAfter: after, paddingMode: paddingMode)
    for a in 0..<r where g.outputSize[a] <= 0 {
        throw ConvKitError.shapeMismatch(
            op: op, message: "kernel larger than padded input on axis \(a): input \(size[a]) + padding "
                + "\(before[a])+\(after[a]) < dilated kernel \(d[a] * (kernel[a] - 1) + 1)")
    }
    return g
}

/// PyTorch's limits for non-zero padding modes: reflect needs padding < size, circular ≤ size.
func checkPaddingMode(_ mode: PaddingMode, size: [Int], before: [Int], after: [Int], op: String) throws {
    for a in size.indices {
        let p = max(before[a], after[a])
        switch mode {
        case .reflect where p >= size[a] && p > 0:
            throw ConvKitError.invalidArgument(
                op: op, argument: "padding", message: "\(p) must be smaller than the input size \(size[a]) for reflect mode")
        case .circular where p > size[a]:
            throw ConvKitError.invalidArgument(
                op: op, argument: "padding", message: "\(p) must be at most the input size \(size[a]) for circular mode")
        case .replicate where size[a] == 0 && p > 0:
            throw ConvKitError.invalidArgument(
                op: op, argument: "padding", message: "cannot replicate an empty axis")
        default:
            break
        }
    }
}

func convolution(
    _ input: Tensor, weight: Tensor, bias: Tensor?, rank r: Int, stride: PerAxis, padding: Padding,
    dilation: PerAxis, groups: Int, paddingMode: PaddingMode, algorithm: ConvolutionAlgorithm = .automatic,
    activation: OutputClamp? = nil, prepared: PreparedWeights? = nil, residual: Tensor? = nil, op: String
) throws -> Tensor {
    let (x, unbatched) = try batchedInput(input, rank: r, op: op)
    var g = try convolutionGeometry(input: x, weight: weight, bias: bias, rank: r, stride: stride, padding: padding,
                                    dilation: dilation, groups: groups, paddingMode: paddingMode, op: op)
    g.algorithm = algorithm
    let outShape = [g.batch, g.outChannels] + g.outputSize
    let shortcut = try residual.map { unbatched ? try $0.unsqueezed(axis: 0) : $0 }
    if let shortcut, shortcut.shape != outShape {
        throw ConvKitError.shapeMismatch(
            op: op, message: "the residual added to the output must be \(outShape), got \(residual?.shape ?? [])")
    }
    let y = try convolutionForward(g, x: x, weight: weight, bias: bias, activation: activation, prepared: prepared,
                                   residual: shortcut, op: op)
    return unbatched ? try y.squeezed(axis: 0) : y
}

/// Runs the kernel and records input, weight and bias gradients. With `activation`, the
/// output is clamped to its bounds in the kernel's stores (when nothing is recorded, the result
/// then carries `knownRange`); with a residual too, a recorded call adds it and clamps as
/// separate ops.
/// With `prepared` (a layer's), a call that records nothing reads the weights rearranged once
/// for its path instead of rearranging them again, and one that records drops them. With
/// `residual` (the output's shape), it is added before the clamp: in the kernel's stores, or as
/// a recorded addition.
func convolutionForward(
    _ g: ConvGeometry, x: Tensor, weight: Tensor, bias: Tensor?, activation: OutputClamp? = nil,
    prepared: PreparedWeights? = nil, residual: Tensor? = nil, op: String
) throws -> Tensor {
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let recorded = GradMode.isEnabled && (inputs + (residual.map { [$0] } ?? [])).contains(where: \.requiresGrad)
    guard recorded else {
        let out = ConvolutionKernel.forward(g, input: x.scalars, weight: weight.scalars, bias: bias?.scalars, clamp: activation,
                                            prepared: prepared?.values(g, weight: weight), residual: residual?.scalars)
        let y = Tensor(uncheckedShape: [g.batch, g.outChannels] + g.outputSize, scalars: out)
        y.knownRange = activation.map { $0.lower...$0.upper }
        return y
    }
    prepared?.removeAll()
    if let residual {
        let y = try convolutionForward(g, x: x, weight: weight, bias: bias, op: op) + residual
        return activation.map { y.clamped(to: $0) } ?? y
    }
    // The activation, if any, clamps in the kernel's stores here too: one op whose backward masks
    // the output's gradient as the separate ReLU or clamp would (by the clamped output), then runs
    // the convolution's — one memory pass and one full-size array fewer.
    // (Only that backward keeps the output: a kept copy of its storage would stop the released
    // output's pages from being reused, `FreshStorage.keep`.)
    let out = ConvolutionKernel.forward(g, input: x.scalars, weight: weight.scalars, bias: bias?.scalars, clamp: activation)
    let shape = [g.batch, g.outChannels] + g.outputSize
    guard let activation else {
        return Tensor.result(shape: shape, scalars: out, op: op, inputs: inputs) { dy in
            convolutionGradients(g, x: x, weight: weight, bias: bias, gradOutput: dy.scalars)
        }
    }
    return Tensor.result(shape: shape, scalars: out, op: op + (activation == .relu ? "+relu" : "+clamp"), inputs: inputs) { dy in
        convolutionGradients(g, x: x, weight: weight, bias: bias,
                             gradOutput: ClampKernel.gradient(activation, output: out, gradOutput: dy.scalars))
    }
}

/// The gradients of x, weight and bias (each where it requires one; nil otherwise) of the
/// convolution `g` from the gradient of its output (N, K, out...).
func convolutionGradients(_ g: ConvGeometry, x: Tensor, weight: Tensor, bias: Tensor?, gradOutput dy: [Float]) -> [Tensor?] {
    var grads: [Tensor?] = [nil, nil]
    if x.requiresGrad, weight.requiresGrad {
        let (dx, dw) = ConvolutionKernel.backward(g, input: x.scalars, weight: weight.scalars, gradOutput: dy)
        grads = [Tensor(uncheckedShape: x.shape, scalars: dx), Tensor(uncheckedShape: weight.shape, scalars: dw)]
    } else if x.requiresGrad {
        grads[0] = Tensor(uncheckedShape: x.shape, scalars: ConvolutionKernel.backwardInput(g, gradOutput: dy, weight: weight.scalars))
    } else if weight.requiresGrad {
        grads[1] = Tensor(uncheckedShape: weight.shape, scalars: ConvolutionKernel.backwardWeight(g, input: x.scalars, gradOutput: dy))
    }
    if let bias {
        grads.append(Tensor(uncheckedShape: bias.shape, scalars: ConvolutionKernel.biasGradient(
            dy, batch: g.batch, channels: g.outChannels, plane: g.outputPlane)))
    }
    return grads
}
