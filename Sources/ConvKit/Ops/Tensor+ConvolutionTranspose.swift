import _ConvKitKernels

// Transposed convolution is the adjoint of a convolution: its output (N, K_out, out...) is
// the input of a convolution whose output is the transposed convolution's input.
// out = (n − 1)·s − 2p + d·(k − 1) + outputPadding + 1.

/// 1-D transposed convolution, as `torch.nn.functional.conv_transpose1d`.
/// - Parameters:
///   - input: (N, C_in, L) or unbatched (C_in, L).
///   - weight: (C_in, C_out/groups, k).
///   - bias: (C_out), optional.
///   - outputPadding: extra size on the far side; smaller than stride or dilation.
/// - Returns: (N, C_out, L_out).
public func convTranspose1d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: PerAxis = 0,
    outputPadding: PerAxis = 0, groups: Int = 1, dilation: PerAxis = 1
) throws -> Tensor {
    try convolutionTranspose(input, weight: weight, bias: bias, rank: 1, stride: stride, padding: padding,
                             outputPadding: outputPadding, groups: groups, dilation: dilation, op: "convTranspose1d")
}

/// 2-D transposed convolution, as `torch.nn.functional.conv_transpose2d`.
/// - Parameters:
///   - input: (N, C_in, H, W) or unbatched (C_in, H, W).
///   - weight: (C_in, C_out/groups, kH, kW).
///   - bias: (C_out), optional.
///   - outputPadding: extra size on the bottom/right; smaller than stride or dilation.
/// - Returns: (N, C_out, H_out, W_out).
public func convTranspose2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: PerAxis = 0,
    outputPadding: PerAxis = 0, groups: Int = 1, dilation: PerAxis = 1
) throws -> Tensor {
    try convolutionTranspose(input, weight: weight, bias: bias, rank: 2, stride: stride, padding: padding,
                             outputPadding: outputPadding, groups: groups, dilation: dilation, op: "convTranspose2d")
}

/// 3-D transposed convolution, as `torch.nn.functional.conv_transpose3d`.
/// - Parameters:
///   - input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
///   - weight: (C_in, C_out/groups, kD, kH, kW).
///   - bias: (C_out), optional.
///   - outputPadding: extra size on the far side; smaller than stride or dilation.
/// - Returns: (N, C_out, D_out, H_out, W_out).
public func convTranspose3d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: PerAxis = 1, padding: PerAxis = 0,
    outputPadding: PerAxis = 0, groups: Int = 1, dilation: PerAxis = 1
) throws -> Tensor {
    try convolutionTranspose(input, weight: weight, bias: bias, rank: 3, stride: stride, padding: padding,
                             outputPadding: outputPadding, groups: groups, dilation: dilation, op: "convTranspose3d")
}

func convolutionTranspose(
    _ input: Tensor, weight: Tensor, bias: Tensor?, rank r: Int, stride: PerAxis, padding: PerAxis,
    outputPadding: PerAxis, groups: Int, dilation: PerAxis, op: String
) throws -> Tensor {
    let (x, unbatched) = try batchedInput(input, rank: r, op: op)
    guard weight.rank == r + 2 else {
        throw ConvKitError.shapeMismatch(
            op: op, message: "weight must be (C_in, C_out/groups, kernel...) of rank \(r + 2), got \(weight.shape)")
    }
    guard groups > 0 else {
        throw ConvKitError.invalidArgument(op: op, argument: "groups", message: "must be positive, got \(groups)")
    }
    let cIn = x.shape[1]
    guard weight.shape[0] == cIn, cIn % groups == 0 else {
        throw ConvKitError.shapeMismatch(
            op: op, message: "input has \(cIn) channels but weight expects \(weight.shape[0]) "
                + "(and it must be divisible by groups \(groups))")
    }
    let cOut = weight.shape[1] * groups
    if let bias, bias.shape != [cOut] {
        throw ConvKitError.shapeMismatch(op: op, message: "bias must have shape [\(cOut)], got \(bias.shape)")
    }
    let kernel = Array(weight.shape[2...])
    let s = try stride.resolved(rank: r, op: op, argument: "stride")
    let d = try dilation.resolved(rank: r, op: op, argument: "dilation")
    let p = try padding.resolved(rank: r, op: op, argument: "padding", minimum: 0)
    let op_ = try outputPadding.resolved(rank: r, op: op, argument: "outputPadding", minimum: 0)
    for a in 0..<r where op_[a] >= s[a] && op_[a] >= d[a] {
        throw ConvKitError.invalidArgument(
            op: op, argument: "outputPadding",
            message: "must be smaller than either stride or dilation, got \(op_[a]) with stride \(s[a]) and dilation \(d[a])")
    }
    let inSize = Array(x.shape[2...])
    guard kernel.allSatisfy({ $0 > 0 && $0 <= Limits.maxAxisValue }) else {
        throw ConvKitError.shapeMismatch(op: op, message: "kernel sizes must be in 1…2^31 − 1, got \(kernel)")
    }
    var outSize = [Int]()
    for a in 0..<r {
        outSize.append(try transposedOutputLength(input: inSize[a], kernel: kernel[a], stride: s[a], padding: p[a],
                                                  dilation: d[a], outputPadding: op_[a], op: op))
    }
    for a in 0..<r where outSize[a] <= 0 {
        throw ConvKitError.shapeMismatch(op: op, message: "output size \(outSize) must be positive (padding \(p) too large)")
    }
    try Limits.elementCount([x.shape[0], cOut] + outSize, op: op, what: "output")
    // The convolution that maps our output (its input) back to our input (its output).
    let g = ConvGeometry(
        batch: x.shape[0], inChannels: cOut, outChannels: cIn, groups: groups, inputSize: outSize,
        kernelSize: kernel, stride: s, dilation: d, padBefore: p, padAfter: (0..<r).map { p[$0] - op_[$0] },
        outputSize: inSize)

    // Forward of the transposed convolution = input-gradient of that convolution, and back.
    var out = ConvolutionKernel.backwardInput(g, gradOutput: x.scalars, weight: weight.scalars)
    let plane = g.inputPlane
    if let bias {
        for n in 0..<g.batch {
            for c in 0..<cOut {
                for i in 0..<plane { out[(n * cOut + c) * plane + i] += bias.scalars[c] }
            }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let y = Tensor.result(shape: [g.batch, cOut] + outSize, scalars: out, op: op, inputs: inputs) { dy in
        var grads: [Tensor?] = [nil, nil]
        if x.requiresGrad {
            grads[0] = Tensor(uncheckedShape: x.shape, scalars: ConvolutionKernel.forward(
                g, input: dy.scalars, weight: weight.scalars, bias: nil))
        }
        if weight.requiresGrad {
            grads[1] = Tensor(uncheckedShape: weight.shape, scalars: ConvolutionKernel.backwardWeight(
                g, input: dy.scalars, gradOutput: x.scalars))
        }
        if let bias {
            grads.append(Tensor(uncheckedShape: bias.shape, scalars: ConvolutionKernel.biasGradient(
                dy.scalars, batch: g.batch, channels: cOut, plane: plane)))
        }
        return grads
    }
    return unbatched ? try y.squeezed(axis: 0) : y
}

/// Output length of a transposed convolution along one axis (PyTorch's formula):
/// `(n − 1)·s − 2p + d·(k − 1) + output_padding + 1`, overflow-checked.
/// - Throws: `ConvKitError.invalidArgument` when it overflows.
func transposedOutputLength(input n: Int, kernel k: Int, stride s: Int, padding p: Int, dilation d: Int,
                            outputPadding: Int, op: String) throws -> Int {
    let what = "output size"
    let span = try Limits.product(Swift.max(n - 1, -1), s, op: op, what: what) - (try Limits.product(2, p, op: op, what: what))
    return try Limits.sum(span, try Limits.product(d, k - 1, op: op, what: what) + outputPadding + 1, op: op, what: what)
}
