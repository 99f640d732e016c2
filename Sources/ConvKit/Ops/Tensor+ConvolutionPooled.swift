import _ConvKitKernels

/// `maxPool2d(conv2d(x), 2)` (2 × 2 windows, stride 2, no padding, floor mode) as one op where
/// the convolution takes the direct or Winograd path (`ConvolutionKernel.poolsAsItStores`): each
/// block of output lines is pooled right after the tiles store it, while it is in cache (Winograd:
/// as its output transform computes it, in registers), so the convolution's output is never read
/// again from memory, nor kept. Returns nil where the fused path does not apply (another path, a
/// 1-D or 3-D layer, an output under 2 × 2); the caller then runs the two ops. With `activation`,
/// the convolution's output is clamped before it is pooled.
///
/// Same values, indices and gradients as the two ops, bit for bit: the backward pass scatters
/// the pooled gradient to the recorded maxima (as `MaxPool2d`'s) and runs the convolution's.
func convolutionPooled(
    _ input: Tensor, weight: Tensor, bias: Tensor?, stride: PerAxis, padding: Padding, dilation: PerAxis, groups: Int,
    paddingMode: PaddingMode, algorithm: ConvolutionAlgorithm, activation: OutputClamp?, prepared: PreparedWeights?, op: String
) throws -> Tensor? {
    let (x, unbatched) = try batchedInput(input, rank: 2, op: op)
    var g = try convolutionGeometry(input: x, weight: weight, bias: bias, rank: 2, stride: stride, padding: padding,
                                    dilation: dilation, groups: groups, paddingMode: paddingMode, op: op)
    g.algorithm = algorithm
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let recorded = GradMode.isEnabled && inputs.contains(where: \.requiresGrad)
    guard ConvolutionKernel.poolsAsItStores(g) else { return nil }
    if recorded { prepared?.removeAll() }
    let pool = ConvolutionKernel.poolGeometry(g)
    let (values, indices) = ConvolutionKernel.forwardPooled(
        g, input: x.scalars, weight: weight.scalars, bias: bias?.scalars, clamp: activation,
        prepared: recorded ? nil : prepared?.values(g, weight: weight), needIndices: recorded)
    let shape = [g.batch, g.outChannels] + pool.outputSize
    let y: Tensor
    if recorded {
        // An activation clamps before the pooling (the same maxima: clamps are monotone); where a
        // window's clamped values tie, its index may differ from the separate ops', but the
        // pooled value is then a bound and its gradient 0 either way.
        // (The pooled values are kept only where the activation's mask needs them.)
        let kept = activation.map { ($0, values) }
        y = Tensor.result(shape: shape, scalars: values, op: op + "+maxPool2d", inputs: inputs) { dy in
            let pooled = kept.map { ClampKernel.gradient($0.0, output: $0.1, gradOutput: dy.scalars) } ?? dy.scalars
            let full = PoolingKernel.maxBackward(pool, planes: g.batch * g.outChannels, gradOutput: pooled, indices: indices)
            return convolutionGradients(g, x: x, weight: weight, bias: bias, gradOutput: full)
        }
    } else {
        y = Tensor(uncheckedShape: shape, scalars: values)
        y.knownRange = activation.map { $0.lower...$0.upper }
    }
    return unbatched ? try y.squeezed(axis: 0) : y
}
