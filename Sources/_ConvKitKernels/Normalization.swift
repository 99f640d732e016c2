import _ConvKitMicroKernels

/// Batch and layer normalisation, forward and backward, over an (outer, mid, inner) view of
/// the input (row-major, inner fastest):
///   batch norm: statistics per mid (= channel) over its outer·inner elements;
///   layer norm: statistics per (outer, inner) position over its mid elements.
/// γ and β are indexed by mid in both; nil means γ = 1, β = 0. Sums run in Double.
public enum NormalizationKernel {
    /// Per-channel mean and biased variance of x (outer, channels, inner).
    /// - Parameters:
    ///   - mean, variance: (channels), written.
    public static func channelStatistics(
        outer: Int, channels: Int, inner: Int, input x: UnsafePointer<Float>,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        let m = Double(outer * inner), level = Int32(MicroKernel.level)
        let (px, pm, pv) = (SharedPointer(x), SharedPointer(mean), SharedPointer(variance))
        forEachChannel(outer: outer, channels: channels, inner: inner) { ch in
            let sums = rowSums { s in
                for o in 0..<outer { ck_bn_row_moments(level, px.base + (o * channels + ch) * inner, inner, s) }
            }
            let mu = sums.0 / m
            pm.base[ch] = Float(mu)
            pv.base[ch] = Float(Swift.max(sums.1 / m - mu * mu, 0))
        }
    }

    /// y = γ·(x − μ)·σ⁻¹ + β per channel of x (outer, channels, inner), plus `residual` when given,
    /// then max(·, 0) with `relu` (batch norm, a residual block's shortcut and the ReLU after them
    /// in one pass; NaN kept, as ReLU keeps it).
    /// - Parameters:
    ///   - mean, invStd, gamma, beta: (channels). output, residual: like x.
    public static func batchNormForward(
        outer: Int, channels: Int, inner: Int, input x: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil, relu: Bool = false
    ) {
        let level = Int32(MicroKernel.level)
        let (px, py, pm, pi) = (SharedPointer(x), SharedPointer(y), SharedPointer(mean), SharedPointer(invStd))
        let (pg, pb, pr) = (gamma.map { SharedPointer($0) }, beta.map { SharedPointer($0) }, residual.map { SharedPointer($0) })
        forEachChannel(outer: outer, channels: channels, inner: inner) { ch in
            let (mu, inv, g, b) = (pm.base[ch], pi.base[ch], pg?.base[ch] ?? 1, pb?.base[ch] ?? 0)
            for o in 0..<outer {
                let base = (o * channels + ch) * inner
                ck_bn_row_forward(level, px.base + base, py.base + base, inner, mu, inv, g, b, pr.map { UnsafePointer($0.base + base) },
                                  relu ? 1 : 0)
            }
        }
    }

    /// The two double sums that `add` accumulates (the `ck_bn_row_*` sums), starting from zero.
    private static func rowSums(_ add: (UnsafeMutablePointer<Double>) -> Void) -> (Double, Double) {
        var sums = (0.0, 0.0)
        withUnsafeMutablePointer(to: &sums) { $0.withMemoryRebound(to: Double.self, capacity: 2, add) }
        return sums
    }

    /// Calls `body(channel)` for every channel, the channels split between the cores when
    /// the tensor is large enough for a memory pass to be split (`Parallel.memoryPassWorkers`).
    /// Each channel's rows stay on one core, so every sum is added in the same order whatever
    /// the split. Batch norm's passes, one core and scalar in Swift, were 9.5 % of a ResNet-18
    /// training step (perf, 2026-12-04).
    private static func forEachChannel(outer: Int, channels: Int, inner: Int, _ body: @Sendable (Int) -> Void) {
        Parallel.forEachChunk(channels, workers: Parallel.memoryPassWorkers(outer * channels * inner)) { chunk, _ in
            for ch in chunk { body(ch) }
        }
    }

    /// The gradients of `batchNormForward`, with x̂ = (x − μ)·σ⁻¹ recomputed from x:
    ///   training (μ, σ from this batch): dx = γσ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)),
    ///   evaluation (running statistics, constants): dx = γσ⁻¹·dy;
    ///   dγ = Σ dy·x̂, dβ = Σ dy over outer and inner.
    /// With `relu` (the forward pass's `relu`, its γ and β), dy is the ReLU output's gradient and
    /// counts only where γ·x̂ + β > 0 (ReLU's backward, fused).
    /// - Parameters:
    ///   - gradInput: like x. gradGamma, gradBeta: (channels), written.
    public static func batchNormBackward(
        outer: Int, channels: Int, inner: Int, training: Bool, input x: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
        gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
        gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>,
        relu: ReLUAfter? = nil
    ) {
        batchNormGradientSums(outer: outer, channels: channels, inner: inner, input: x, mean: mean, invStd: invStd,
                              gradOutput: dy, sumDyXhat: gradGamma, sumDy: gradBeta, relu: relu)
        batchNormInputGradient(outer: outer, channels: channels, inner: inner, count: outer * inner, training: training,
                               input: x, mean: mean, invStd: invStd, gamma: gamma, gradOutput: dy,
                               sumDy: gradBeta, sumDyXhat: gradGamma, gradInput: dx, relu: relu)
    }

    /// The affine parameters (channels) of a batch norm whose output went through ReLU
    /// (`batchNormForward(…, relu: true)`), for its backward passes to recompute ReLU's mask.
    public struct ReLUAfter: @unchecked Sendable {
        public let gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?
        public init(gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?) { (self.gamma, self.beta) = (gamma, beta) }
    }

    /// Runs `body` with a pointer to {γ, β} of channel `ch` when `relu` is given, else with nil.
    private static func withReLU<R>(_ relu: ReLUAfter?, channel ch: Int, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let relu else { return body(nil) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { p in
            p[0] = relu.gamma?[ch] ?? 1
            p[1] = relu.beta?[ch] ?? 0
            return body(UnsafePointer(p.baseAddress!))
        }
    }

    /// Per channel, Σ dy·x̂ and Σ dy over outer and inner (dγ and dβ; what synchronised batch
    /// norm sums over the ranks before `batchNormInputGradient`).
    /// - Parameters:
    ///   - sumDyXhat, sumDy: (channels), written.
    public static func batchNormGradientSums(
        outer: Int, channels: Int, inner: Int, input x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
        invStd: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
        sumDyXhat: UnsafeMutablePointer<Float>, sumDy: UnsafeMutablePointer<Float>, relu: ReLUAfter? = nil
    ) {
        let level = Int32(MicroKernel.level)
        let (px, pdy, pm, pi) = (SharedPointer(x), SharedPointer(dy), SharedPointer(mean), SharedPointer(invStd))
        let (sx, sd) = (SharedPointer(sumDyXhat), SharedPointer(sumDy))
        forEachChannel(outer: outer, channels: channels, inner: inner) { ch in
            let sums = withReLU(relu, channel: ch) { mask in
                rowSums { s in
                    for o in 0..<outer {
                        let base = (o * channels + ch) * inner
                        ck_bn_row_gradient_sums(level, px.base + base, pdy.base + base, inner, pm.base[ch], pi.base[ch], s, mask)
                    }
                }
            }
            sx.base[ch] = Float(sums.1)
            sd.base[ch] = Float(sums.0)
        }
    }

    /// dx of batch norm from the channel sums of `batchNormGradientSums` over `count` values
    /// (this input's outer·inner, or the whole global batch's for synchronised batch norm):
    /// training: dx = γσ⁻¹·(dy − Σdy/count − x̂·Σdy·x̂/count); evaluation: dx = γσ⁻¹·dy.
    /// - Parameters:
    ///   - gradInput: like x, written.
    public static func batchNormInputGradient(
        outer: Int, channels: Int, inner: Int, count: Int, training: Bool, input x: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
        gradOutput dy: UnsafePointer<Float>, sumDy: UnsafePointer<Float>, sumDyXhat: UnsafePointer<Float>,
        gradInput dx: UnsafeMutablePointer<Float>, relu: ReLUAfter? = nil
    ) {
        let m = Float(count), level = Int32(MicroKernel.level)
        let (px, pdy, pdx, pm, pi) = (SharedPointer(x), SharedPointer(dy), SharedPointer(dx), SharedPointer(mean), SharedPointer(invStd))
        let (sd, sx, pg) = (SharedPointer(sumDy), SharedPointer(sumDyXhat), gamma.map { SharedPointer($0) })
        forEachChannel(outer: outer, channels: channels, inner: inner) { ch in
            let scale = (pg?.base[ch] ?? 1) * pi.base[ch]
            withReLU(relu, channel: ch) { mask in
                for o in 0..<outer {
                    let base = (o * channels + ch) * inner
                    ck_bn_row_input_gradient(level, px.base + base, pdy.base + base, pdx.base + base, inner, pm.base[ch], pi.base[ch],
                                             scale, sd.base[ch] / m, sx.base[ch] / m, training ? 1 : 0, mask)
                }
            }
        }
    }

    /// Layer norm: each (outer, inner) position normalised over its mid elements,
    /// y = γ[j]·(x − μ)·σ⁻¹ + β[j] with σ = √(biased variance + eps).
    /// - Parameters:
    ///   - gamma, beta: (mid). output: like x. mean, invStd: (outer, inner), written for the backward pass.
    public static func layerNormForward(
        outer: Int, mid: Int, inner: Int, eps: Float, input x: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outer {
            for i in 0..<inner {
                var s: Double = 0, ss: Double = 0
                for j in 0..<mid { let v = Double(x[(o * mid + j) * inner + i]); s += v; ss += v * v }
                let mu = s / Double(mid)
                let inv = Float(1 / (Swift.max(ss / Double(mid) - mu * mu, 0) + Double(eps)).squareRoot())
                mean[o * inner + i] = Float(mu)
                invStd[o * inner + i] = inv
                for j in 0..<mid {
                    let k = (o * mid + j) * inner + i
                    y[k] = (gamma?[j] ?? 1) * ((x[k] - Float(mu)) * inv) + (beta?[j] ?? 0)
                }
            }
        }
    }

    /// The gradients of `layerNormForward`, with d x̂ = γ·dy:
    ///   dx = σ⁻¹·(d x̂ − mean(d x̂) − x̂·mean(d x̂·x̂)) over each position's mid elements;
    ///   dγ[j] = Σ dy·x̂, dβ[j] = Σ dy over outer and inner.
    /// - Parameters:
    ///   - mean, invStd: (outer, inner) from the forward pass. gradGamma, gradBeta: (mid), written.
    public static func layerNormBackward(
        outer: Int, mid: Int, inner: Int, input x: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
        gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
        gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>
    ) {
        gradGamma.update(repeating: 0, count: mid)
        gradBeta.update(repeating: 0, count: mid)
        for o in 0..<outer {
            for i in 0..<inner {
                let (mu, inv) = (mean[o * inner + i], invStd[o * inner + i])
                var sumD: Float = 0, sumDX: Float = 0
                for j in 0..<mid {
                    let k = (o * mid + j) * inner + i
                    let xhat = (x[k] - mu) * inv
                    let d = (gamma?[j] ?? 1) * dy[k]
                    sumD += d
                    sumDX += d * xhat
                    gradGamma[j] += dy[k] * xhat
                    gradBeta[j] += dy[k]
                }
                for j in 0..<mid {
                    let k = (o * mid + j) * inner + i
                    let xhat = (x[k] - mu) * inv
                    dx[k] = inv * ((gamma?[j] ?? 1) * dy[k] - sumD / Float(mid) - xhat * sumDX / Float(mid))
                }
            }
        }
    }
}
