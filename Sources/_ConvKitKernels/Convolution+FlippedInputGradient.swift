/// The input gradient of a stride-1 convolution as a forward convolution.
///
/// For stride 1, `dx[i] = Σₜ W[k−1−t] · dy[i − p' + t·d]` with `p' = d(k−1) − padBefore`:
/// the gradient is the convolution of the output gradient, padded by `p'` before and
/// `n − out + padBefore` after, with the weights flipped along every spatial axis and their
/// in/out channels swapped. That replaces the GEMM with a short reduction (k = K/G) and
/// the scatter-add of the column matrix by the forward path (usually its direct tiles) with
/// a long reduction (k = K/G · taps), which runs much closer to the FMA peak.
extension ConvolutionKernel {
    /// The geometry whose forward pass computes `g`'s input gradient, or nil where the
    /// scatter path is used: strides above 1, non-zero padding modes, padding wider than
    /// the dilated kernel, pointwise and depthwise convolutions, and fewer than 8 input
    /// channels per group (the GEMM would have fewer rows than a micro-kernel tile).
    static func flippedGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard g.inChannelsPerGroup >= 8, !isPointwise(g), !DepthwiseKernel.applies(g), g.batch > 0,
              let (padBefore, padAfter) = flippedPadding(g) else { return nil }
        let t = ConvGeometry(
            batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels, groups: g.groups,
            inputSize: g.outputSize, kernelSize: g.kernelSize, stride: g.stride, dilation: g.dilation,
            padBefore: padBefore, padAfter: padAfter, algorithm: g.algorithm)
        guard t.outputSize == g.inputSize, !DepthwiseKernel.applies(t) else { return nil }
        return t
    }

    /// The padding (before, after per axis) of the flipped forward pass that computes a stride-1,
    /// zero-padded convolution's input gradient: d(k−1) − before and n − out + before; nil for
    /// other strides or padding modes, or padding wider than the dilated kernel.
    static func flippedPadding(_ g: ConvGeometry) -> (before: [Int], after: [Int])? {
        guard g.paddingMode == .zeros, g.stride.allSatisfy({ $0 == 1 }) else { return nil }
        var padBefore = [Int](), padAfter = [Int]()
        for a in 0..<g.rank {
            let before = g.dilation[a] * (g.kernelSize[a] - 1) - g.padBefore[a]
            let after = g.inputSize[a] - g.outputSize[a] + g.padBefore[a]
            guard before >= 0, after >= 0, g.outputSize[a] > 0 else { return nil }
            padBefore.append(before)
            padAfter.append(after)
        }
        return (padBefore, padAfter)
    }

    /// Floats of workspace the flipped path needs: the flipped weights, then the forward
    /// pass's own workspace.
    static func flippedWorkspaceCount(_ g: ConvGeometry) -> Int {
        guard let t = flippedGeometry(g) else { return 0 }
        return g.weightCount + forwardWorkspaceCount(t)  // t is never depthwise
    }

    /// `backwardInput` by the flipped forward convolution. Overwrites `gradInput`.
    static func backwardInputFlipped(
        _ g: ConvGeometry, _ t: ConvGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        // W'[grp·C/G + c][k][taps reversed] = W[grp·K/G + k][c][taps].
        // Split between the workers by output channel (ResNet-18's 512 → 512 3 × 3 layer has 2.4
        // million weights: 3.6 % of its backward pass on one thread, the other waiting).
        let (kg, cg, kv) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.kernelVolume)
        let (flipped, w) = (SharedPointer(workspace), SharedPointer(weight))
        Parallel.forEachChunk(g.outChannels, workers: Parallel.memoryPassWorkers(g.weightCount)) { channels, _ in
            for channel in channels {
                let (grp, k) = channel.quotientAndRemainder(dividingBy: kg)
                for c in 0..<cg {
                    let src = w.base + ((grp * kg + k) * cg + c) * kv
                    let dst = flipped.base + ((grp * cg + c) * kg + k) * kv
                    for tap in 0..<kv { dst[kv - 1 - tap] = src[tap] }
                }
            }
        }
        forward(t, input: gradOutput, weight: workspace, bias: nil, output: gradInput, workspace: workspace + g.weightCount)
    }
}
