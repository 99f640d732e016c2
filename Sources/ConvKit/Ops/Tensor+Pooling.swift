import _ConvKitKernels

// Shapes: input (N, C, spatial...) or unbatched (C, spatial...); output (N, C, out...) with
// out = floor or ceil((n + 2p − d(k−1) − 1)/s) + 1 (ceil drops a window starting in the padding).

/// Max pooling over 1-D windows, as `torch.nn.functional.max_pool1d`.
/// - Parameters:
///   - input: (N, C, L) or (C, L).
///   - kernelSize: window size; `stride` defaults to it.
///   - padding: implicit −∞ on both sides, at most half the kernel size.
/// - Returns: (N, C, L_out).
public func maxPool1d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> Tensor {
    try maxPool(input, rank: 1, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: false, op: "maxPool1d").output
}

/// Max pooling over 2-D windows, as `torch.nn.functional.max_pool2d`.
/// - Parameters:
///   - input: (N, C, H, W) or (C, H, W).
///   - kernelSize: window size; `stride` defaults to it.
///   - padding: implicit −∞ on both sides, at most half the kernel size.
/// - Returns: (N, C, H_out, W_out).
public func maxPool2d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> Tensor {
    try maxPool(input, rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: false, op: "maxPool2d").output
}

/// `maxPool1d` that also returns, per output, the flat index of the maximum within its
/// input plane (PyTorch's `return_indices=True`), shaped like the output.
public func maxPool1dWithIndices(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> (output: Tensor, indices: [Int]) {
    try maxPool(input, rank: 1, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: true, op: "maxPool1d")
}

/// `maxPool2d` that also returns, per output, the flat index `h·W + w` of the maximum
/// within its input plane (PyTorch's `return_indices=True`), shaped like the output.
public func maxPool2dWithIndices(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> (output: Tensor, indices: [Int]) {
    try maxPool(input, rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: true, op: "maxPool2d")
}

/// Max pooling over 3-D windows, as `torch.nn.functional.max_pool3d`.
/// - Parameters:
///   - input: (N, C, D, H, W) or (C, D, H, W).
///   - kernelSize: window size; `stride` defaults to it.
///   - padding: implicit −∞ on both sides, at most half the kernel size.
/// - Returns: (N, C, D_out, H_out, W_out).
public func maxPool3d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> Tensor {
    try maxPool(input, rank: 3, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: false, op: "maxPool3d").output
}

/// `maxPool3d` that also returns, per output, the flat index of the maximum within its
/// input volume (PyTorch's `return_indices=True`), shaped like the output.
public func maxPool3dWithIndices(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    dilation: PerAxis = 1, ceilMode: Bool = false
) throws -> (output: Tensor, indices: [Int]) {
    try maxPool(input, rank: 3, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                ceilMode: ceilMode, returnIndices: true, op: "maxPool3d")
}

/// Average pooling over 1-D windows, as `torch.nn.functional.avg_pool1d`.
/// - Parameters:
///   - countIncludePad: whether zero padding counts in the divisor.
/// - Returns: (N, C, L_out).
public func avgPool1d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    ceilMode: Bool = false, countIncludePad: Bool = true
) throws -> Tensor {
    try avgPool(input, rank: 1, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                countIncludePad: countIncludePad, divisorOverride: nil, op: "avgPool1d")
}

/// Average pooling over 2-D windows, as `torch.nn.functional.avg_pool2d`.
/// - Parameters:
///   - countIncludePad: whether zero padding counts in the divisor.
///   - divisorOverride: a fixed divisor instead of the window count.
/// - Returns: (N, C, H_out, W_out).
public func avgPool2d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil
) throws -> Tensor {
    try avgPool(input, rank: 2, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                countIncludePad: countIncludePad, divisorOverride: divisorOverride, op: "avgPool2d")
}

/// Average pooling over 3-D windows, as `torch.nn.functional.avg_pool3d`.
/// - Returns: (N, C, D_out, H_out, W_out).
public func avgPool3d(
    _ input: Tensor, kernelSize: PerAxis, stride: PerAxis? = nil, padding: PerAxis = 0,
    ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil
) throws -> Tensor {
    try avgPool(input, rank: 3, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                countIncludePad: countIncludePad, divisorOverride: divisorOverride, op: "avgPool3d")
}

/// Adaptive average pooling to a fixed 1-D output size, as `adaptive_avg_pool1d`.
public func adaptiveAvgPool1d(_ input: Tensor, outputSize: PerAxis) throws -> Tensor {
    try adaptiveAvgPool(input, rank: 1, outputSize: outputSize, op: "adaptiveAvgPool1d")
}

/// Adaptive average pooling to a fixed 2-D output size, as `adaptive_avg_pool2d`:
/// cell `i` of an axis of length n averages `[floor(i·n/out), ceil((i+1)·n/out))`.
public func adaptiveAvgPool2d(_ input: Tensor, outputSize: PerAxis) throws -> Tensor {
    try adaptiveAvgPool(input, rank: 2, outputSize: outputSize, op: "adaptiveAvgPool2d")
}

/// Adaptive average pooling to a fixed 3-D output size, as `adaptive_avg_pool3d`.
public func adaptiveAvgPool3d(_ input: Tensor, outputSize: PerAxis) throws -> Tensor {
    try adaptiveAvgPool(input, rank: 3, outputSize: outputSize, op: "adaptiveAvgPool3d")
}

/// Global average pooling: (N, C, spatial...) → (N, C, 1, …), the mean of each plane.
public func globalAvgPool(_ input: Tensor) throws -> Tensor {
    guard input.rank >= 3 else {
        throw ConvKitError.shapeMismatch(op: "globalAvgPool", message: "input must be (N, C, spatial...), got \(input.shape)")
    }
    return try input.mean(axes: Array(2..<input.rank), keepingDims: true)
}

/// Global max pooling: (N, C, spatial...) → (N, C, 1, …), the maximum of each plane.
public func globalMaxPool(_ input: Tensor) throws -> Tensor {
    guard (3...5).contains(input.rank), input.shape[2...].allSatisfy({ $0 > 0 }) else {
        throw ConvKitError.shapeMismatch(
            op: "globalMaxPool", message: "input must be (N, C, L), (N, C, H, W) or (N, C, D, H, W) with non-empty planes, got \(input.shape)")
    }
    return try maxPool(input, rank: input.rank - 2, kernelSize: PerAxis(Array(input.shape[2...])), stride: nil,
                       padding: 0, dilation: 1, ceilMode: false, returnIndices: false, op: "globalMaxPool").output
}

/// The checked geometry of a pooling window over C planes (groups = C).
func poolingGeometry(
    _ x: Tensor, rank r: Int, kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, dilation: PerAxis,
    ceilMode: Bool, op: String
) throws -> ConvGeometry {
    let k = try kernelSize.resolved(rank: r, op: op, argument: "kernelSize")
    let s = try (stride ?? kernelSize).resolved(rank: r, op: op, argument: "stride")
    let d = try dilation.resolved(rank: r, op: op, argument: "dilation")
    let p = try padding.resolved(rank: r, op: op, argument: "padding", minimum: 0)
    // PyTorch's rule for max and average pooling alike: padding ≤ kernel/2 (the undilated kernel),
    // which keeps every window overlapping the input.
    for a in 0..<r where p[a] > k[a] / 2 {
        throw ConvKitError.invalidArgument(
            op: op, argument: "padding", message: "should be at most half of the kernel size, got \(p[a]) for kernel \(k[a])")
    }
    let size = Array(x.shape[2...])
    if let bad = size.first(where: { $0 > Limits.maxAxisValue }) {
        throw ConvKitError.invalidArgument(op: op, argument: "input size", message: "must be at most 2^31 − 1, got \(bad)")
    }
    let out = (0..<r).map { a in
        ConvGeometry.outputLength(input: size[a], kernel: k[a], stride: s[a], dilation: d[a],
                                  padBefore: p[a], padAfter: p[a], ceilMode: ceilMode)
    }
    for a in 0..<r where out[a] <= 0 {
        throw ConvKitError.shapeMismatch(
            op: op, message: "kernel larger than padded input on axis \(a): input \(size[a]) + padding 2×\(p[a]) "
                + "< window \(d[a] * (k[a] - 1) + 1)")
    }
    let c = max(x.shape[1], 1)
    try Limits.elementCount([x.shape[0], c] + out, op: op, what: "output")
    return ConvGeometry(batch: x.shape[0], inChannels: c, outChannels: c, groups: c, inputSize: size,
                        kernelSize: k, stride: s, dilation: d, padBefore: p, padAfter: p, outputSize: out)
}

func maxPool(
    _ input: Tensor, rank r: Int, kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, dilation: PerAxis,
    ceilMode: Bool, returnIndices: Bool, op: String
) throws -> (output: Tensor, indices: [Int]) {
    let (x, unbatched) = try batchedInput(input, rank: r, op: op)
    let g = try poolingGeometry(x, rank: r, kernelSize: kernelSize, stride: stride, padding: padding,
                                dilation: dilation, ceilMode: ceilMode,
                                op: op)
    let planes = x.shape[0] * x.shape[1]
    // Where the maxima were: for the caller, or for the backward pass (skipped in inference).
    let needIndices = returnIndices || (GradMode.isEnabled && x.requiresGrad)
    let (out, indices) = PoolingKernel.maxForward(g, planes: planes, input: x.scalars, needIndices: needIndices)
    let y = Tensor.result(shape: Array(x.shape[..<2]) + g.outputSize, scalars: out, op: op, inputs: [x]) { dy in
        [Tensor(uncheckedShape: x.shape, scalars: PoolingKernel.maxBackward(g, planes: planes, gradOutput: dy.scalars, indices: indices))]
    }
    return (unbatched ? try y.squeezed(axis: 0) : y, indices)
}

func avgPool(
    _ input: Tensor, rank r: Int, kernelSize: PerAxis, stride: PerAxis?, padding: PerAxis, ceilMode: Bool,
    countIncludePad: Bool, divisorOverride: Int?, op: String
) throws -> Tensor {
    if let divisorOverride, divisorOverride == 0 {
        throw ConvKitError.invalidArgument(op: op, argument: "divisorOverride", message: "must not be zero")
    }
    let (x, unbatched) = try batchedInput(input, rank: r, op: op)
    let g = try poolingGeometry(x, rank: r, kernelSize: kernelSize, stride: stride, padding: padding, dilation: 1,
                                ceilMode: ceilMode, op: op)
    let planes = x.shape[0] * x.shape[1]
    let out = PoolingKernel.averageForward(g, planes: planes, input: x.scalars, countIncludePad: countIncludePad,
                                           divisorOverride: divisorOverride)
    let y = Tensor.result(shape: Array(x.shape[..<2]) + g.outputSize, scalars: out, op: op, inputs: [x]) { dy in
        [Tensor(uncheckedShape: x.shape, scalars: PoolingKernel.averageBackward(
            g, planes: planes, gradOutput: dy.scalars, countIncludePad: countIncludePad, divisorOverride: divisorOverride))]
    }
    return unbatched ? try y.squeezed(axis: 0) : y
}

func adaptiveAvgPool(_ input: Tensor, rank r: Int, outputSize: PerAxis, op: String) throws -> Tensor {
    let (x, unbatched) = try batchedInput(input, rank: r, op: op)
    let outSize = try outputSize.resolved(rank: r, op: op, argument: "outputSize")
    let inSize = Array(x.shape[2...])
    guard inSize.allSatisfy({ $0 > 0 }) else {
        throw ConvKitError.shapeMismatch(op: op, message: "input spatial sizes must be positive, got \(x.shape)")
    }
    let planes = x.shape[0] * x.shape[1]
    let out = PoolingKernel.adaptiveAverageForward(inputSize: inSize, outputSize: outSize, planes: planes, input: x.scalars)
    let y = Tensor.result(shape: Array(x.shape[..<2]) + outSize, scalars: out, op: op, inputs: [x]) { dy in
        [Tensor(uncheckedShape: x.shape, scalars: PoolingKernel.adaptiveAverageBackward(
            inputSize: inSize, outputSize: outSize, planes: planes, gradOutput: dy.scalars))]
    }
    return unbatched ? try y.squeezed(axis: 0) : y
}
