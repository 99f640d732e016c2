import _ConvKitKernels

/// Array-level entry points to the normalisation kernels (the same boundary as
/// `ConvolutionKernel+Arrays.swift`): ops pass and receive arrays, never raw pointers.
extension NormalizationKernel {
    /// Per-channel mean and biased variance of x (outer, channels, inner).
    static func channelStatistics(_ x: [Float], outer: Int, channels: Int, inner: Int) -> (mean: [Float], variance: [Float]) {
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        guard !x.isEmpty, channels > 0 else { return (mean, variance) }
        x.withUnsafeBufferPointer { px in mean.withUnsafeMutableBufferPointer { pm in variance.withUnsafeMutableBufferPointer { pv in
            channelStatistics(outer: outer, channels: channels, inner: inner, input: px.baseAddress!,
                              mean: pm.baseAddress!, variance: pv.baseAddress!)
        }}}
        return (mean, variance)
    }

    /// y = γ·(x − μ)·σ⁻¹ + β per channel.
    static func batchNormForward(
        _ x: [Float], outer: Int, channels: Int, inner: Int, mean: [Float], invStd: [Float], gamma: [Float]?, beta: [Float]?,
        residual: [Float]? = nil, relu: Bool = false
    ) -> [Float] {
        filled(count: x.count) { y in
            x.withUnsafeBufferPointer { px in mean.withUnsafeBufferPointer { pm in invStd.withUnsafeBufferPointer { pi in
                withOptionalPointer(gamma) { pg in withOptionalPointer(beta) { pb in withOptionalPointer(residual) { pr in
                    batchNormForward(outer: outer, channels: channels, inner: inner, input: px.baseAddress!, mean: pm.baseAddress!,
                                     invStd: pi.baseAddress!, gamma: pg, beta: pb, output: y, residual: pr, relu: relu)
                }}}
            }}}
        }
    }

    /// ReLU's backward from its output: gradOutput where output > 0, else 0.
    static func reluBackward(output: [Float], gradOutput: [Float]) -> [Float] {
        ClampKernel.gradient(.relu, output: output, gradOutput: gradOutput)
    }

    /// (dx, dγ, dβ) of `batchNormForward`; with `relu` (the forward's) and its `beta`, dy is the
    /// ReLU output's gradient.
    static func batchNormBackward(
        _ x: [Float], gradOutput dy: [Float], outer: Int, channels: Int, inner: Int, training: Bool,
        mean: [Float], invStd: [Float], gamma: [Float]?, relu: Bool = false, beta: [Float]? = nil
    ) -> (input: [Float], gamma: [Float], beta: [Float]) {
        var dgamma = [Float](repeating: 0, count: channels), dbeta = [Float](repeating: 0, count: channels)
        let dx = filled(count: x.count) { dx in
            x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
                mean.withUnsafeBufferPointer { pm in invStd.withUnsafeBufferPointer { pi in withOptionalPointer(gamma) { pg in
                    withOptionalPointer(beta) { pb in dgamma.withUnsafeMutableBufferPointer { pdg in dbeta.withUnsafeMutableBufferPointer { pdb in
                        batchNormBackward(outer: outer, channels: channels, inner: inner, training: training, input: px.baseAddress!,
                                          mean: pm.baseAddress!, invStd: pi.baseAddress!, gamma: pg, gradOutput: pdy.baseAddress!,
                                          gradInput: dx, gradGamma: pdg.baseAddress!, gradBeta: pdb.baseAddress!,
                                          relu: relu ? ReLUAfter(gamma: pg, beta: pb) : nil)
                    }}}
                }}}
            }}
        }
        return (dx, dgamma, dbeta)
    }

    /// Per channel (Σ dy·x̂, Σ dy) of batch norm's backward pass.
    static func batchNormGradientSums(
        _ x: [Float], gradOutput dy: [Float], outer: Int, channels: Int, inner: Int, mean: [Float], invStd: [Float]
    ) -> (dyXhat: [Float], dy: [Float]) {
        var sumDyXhat = [Float](repeating: 0, count: channels), sumDy = sumDyXhat
        x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
            mean.withUnsafeBufferPointer { pm in invStd.withUnsafeBufferPointer { pi in
                sumDyXhat.withUnsafeMutableBufferPointer { pa in sumDy.withUnsafeMutableBufferPointer { pb in
                    batchNormGradientSums(outer: outer, channels: channels, inner: inner, input: px.baseAddress!, mean: pm.baseAddress!,
                                          invStd: pi.baseAddress!, gradOutput: pdy.baseAddress!, sumDyXhat: pa.baseAddress!,
                                          sumDy: pb.baseAddress!)
                }}
            }}
        }}
        return (sumDyXhat, sumDy)
    }

    /// Batch norm's dx in training from channel sums over `count` values.
    static func batchNormInputGradient(
        _ x: [Float], gradOutput dy: [Float], outer: Int, channels: Int, inner: Int, count: Int,
        mean: [Float], invStd: [Float], gamma: [Float]?, sumDy: [Float], sumDyXhat: [Float]
    ) -> [Float] {
        filled(count: x.count) { dx in
            x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
                mean.withUnsafeBufferPointer { pm in invStd.withUnsafeBufferPointer { pi in withOptionalPointer(gamma) { pg in
                    sumDy.withUnsafeBufferPointer { pa in sumDyXhat.withUnsafeBufferPointer { pb in
                        batchNormInputGradient(outer: outer, channels: channels, inner: inner, count: count, training: true,
                                               input: px.baseAddress!, mean: pm.baseAddress!, invStd: pi.baseAddress!, gamma: pg,
                                               gradOutput: pdy.baseAddress!, sumDy: pa.baseAddress!, sumDyXhat: pb.baseAddress!,
                                               gradInput: dx)
                    }}
                }}}
            }}
        }
    }

    /// Layer norm over mid at each (outer, inner) position: y, and the statistics the backward pass needs.
    static func layerNormForward(
        _ x: [Float], outer: Int, mid: Int, inner: Int, eps: Float, gamma: [Float]?, beta: [Float]?
    ) -> (output: [Float], mean: [Float], invStd: [Float]) {
        var mean = [Float](repeating: 0, count: outer * inner), invStd = mean
        let y = filled(count: x.count) { y in
            x.withUnsafeBufferPointer { px in withOptionalPointer(gamma) { pg in withOptionalPointer(beta) { pb in
                mean.withUnsafeMutableBufferPointer { pm in invStd.withUnsafeMutableBufferPointer { pi in
                    layerNormForward(outer: outer, mid: mid, inner: inner, eps: eps, input: px.baseAddress!, gamma: pg, beta: pb,
                                     output: y, mean: pm.baseAddress!, invStd: pi.baseAddress!)
                }}
            }}}
        }
        return (y, mean, invStd)
    }

    /// (dx, dγ, dβ) of `layerNormForward`.
    static func layerNormBackward(
        _ x: [Float], gradOutput dy: [Float], outer: Int, mid: Int, inner: Int, mean: [Float], invStd: [Float], gamma: [Float]?
    ) -> (input: [Float], gamma: [Float], beta: [Float]) {
        var dgamma = [Float](repeating: 0, count: mid), dbeta = [Float](repeating: 0, count: mid)
        let dx = filled(count: x.count) { dx in
            x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
                mean.withUnsafeBufferPointer { pm in invStd.withUnsafeBufferPointer { pi in withOptionalPointer(gamma) { pg in
                    dgamma.withUnsafeMutableBufferPointer { pdg in dbeta.withUnsafeMutableBufferPointer { pdb in
                        layerNormBackward(outer: outer, mid: mid, inner: inner, input: px.baseAddress!, mean: pm.baseAddress!,
                                          invStd: pi.baseAddress!, gamma: pg, gradOutput: pdy.baseAddress!, gradInput: dx,
                                          gradGamma: pdg.baseAddress!, gradBeta: pdb.baseAddress!)
                    }}
                }}}
            }}
        }
        return (dx, dgamma, dbeta)
    }
}

/// An array of `count` floats that `fill` overwrites completely (not zero-filled first);
/// `fill` is not called for an empty array (whose buffers have no base address).
func filled(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    guard count > 0 else { return [] }
    return FreshStorage.floats(count: count) { buffer in
        fill(buffer.baseAddress!)
    }
}
