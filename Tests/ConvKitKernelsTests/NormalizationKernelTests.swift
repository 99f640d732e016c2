import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Batch and layer norm kernels: the forward pass against the definition in Double, the
/// backward pass against central differences of L = Σ dy·y (x, γ and β each).
@Suite struct NormalizationKernelTests {
    /// (outer, mid, inner) views: batch norm's (N, C, H·W) and layer norm's (N, C, 1) and (N, C, H·W).
    static let shapes = [(3, 4, 5), (2, 3, 1), (1, 6, 7), (4, 1, 3)]

    /// y for batch norm (training: this batch's statistics) or layer norm, in Double.
    static func definition(_ x: [Float], _ shape: (Int, Int, Int), batch: Bool, gamma: [Float], beta: [Float], eps: Double) -> [Float] {
        let (outer, mid, inner) = shape
        var y = [Float](repeating: 0, count: x.count)
        // The elements one statistic covers, as flat indices.
        let groups: [[Int]] = batch
            ? (0..<mid).map { j in (0..<outer).flatMap { o in (0..<inner).map { (o * mid + j) * inner + $0 } } }
            : (0..<outer).flatMap { o in (0..<inner).map { i in (0..<mid).map { (o * mid + $0) * inner + i } } }
        for group in groups {
            let mean = group.reduce(0.0) { $0 + Double(x[$1]) } / Double(group.count)
            let variance = group.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / Double(group.count)
            for k in group {
                let j = k / inner % mid
                y[k] = Float(Double(gamma[j]) * (Double(x[k]) - mean) / (variance + eps).squareRoot() + Double(beta[j]))
            }
        }
        return y
    }

    /// y from the kernels; for the backward pass also (dx, dγ, dβ) given dy.
    static func run(_ x: [Float], _ shape: (Int, Int, Int), batch: Bool, gamma: [Float], beta: [Float], dy: [Float])
        -> (y: [Float], dx: [Float], dgamma: [Float], dbeta: [Float]) {
        let (outer, mid, inner) = shape, eps: Float = 1e-5
        var y = [Float](repeating: .nan, count: x.count), dx = y
        var dgamma = [Float](repeating: .nan, count: mid), dbeta = dgamma
        let statistics = batch ? mid : outer * inner
        var mean = [Float](repeating: .nan, count: statistics), second = mean
        if batch {
            NormalizationKernel.channelStatistics(outer: outer, channels: mid, inner: inner, input: x, mean: &mean, variance: &second)
            let invStd = second.map { 1 / ($0 + eps).squareRoot() }
            NormalizationKernel.batchNormForward(outer: outer, channels: mid, inner: inner, input: x, mean: mean, invStd: invStd,
                                                 gamma: gamma, beta: beta, output: &y)
            NormalizationKernel.batchNormBackward(outer: outer, channels: mid, inner: inner, training: true, input: x, mean: mean,
                                                  invStd: invStd, gamma: gamma, gradOutput: dy, gradInput: &dx,
                                                  gradGamma: &dgamma, gradBeta: &dbeta)
        } else {
            NormalizationKernel.layerNormForward(outer: outer, mid: mid, inner: inner, eps: eps, input: x, gamma: gamma, beta: beta,
                                                 output: &y, mean: &mean, invStd: &second)
            NormalizationKernel.layerNormBackward(outer: outer, mid: mid, inner: inner, input: x, mean: mean, invStd: second,
                                                  gamma: gamma, gradOutput: dy, gradInput: &dx, gradGamma: &dgamma, gradBeta: &dbeta)
        }
        return (y, dx, dgamma, dbeta)
    }

    @Test(arguments: [true, false], 0..<shapes.count)
    func forwardMatchesTheDefinitionAndBackwardTheDifferences(batch: Bool, index: Int) {
        let shape = Self.shapes[index], (outer, mid, inner) = shape
        guard !batch || outer * inner > 1, batch || mid > 1 else { return }  // a statistic needs two values
        var random = TestRandom(seed: UInt64(17 + index))
        let count = outer * mid * inner
        let x = random.values(count).map { $0 * 3 }, dy = random.values(count)
        let gamma = random.values(mid).map { $0 + 1.5 }, beta = random.values(mid)
        let got = Self.run(x, shape, batch: batch, gamma: gamma, beta: beta, dy: dy)
        let want = Self.definition(x, shape, batch: batch, gamma: gamma, beta: beta, eps: 1e-5)
        let worst = zip(got.y, want).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(batch ? "batch" : "layer") norm \(shape): forward error \(worst)")

        // L(x, γ, β) = Σ dy·y from the definition in Double; each gradient against central differences.
        func loss(_ x: [Float], _ gamma: [Float], _ beta: [Float]) -> Double {
            zip(Self.definition(x, shape, batch: batch, gamma: gamma, beta: beta, eps: 1e-5), dy).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 1e-2
        func difference(_ f: (Float) -> Double) -> Float { Float((f(h) - f(-h)) / Double(2 * h)) }
        for k in 0..<count {
            let numeric = difference { e in var x1 = x; x1[k] += e; return loss(x1, gamma, beta) }
            #expect(abs(numeric - got.dx[k]) < 2e-2 * max(1, abs(numeric)), "\(shape) dx[\(k)]: \(got.dx[k]) vs \(numeric)")
        }
        for j in 0..<mid {
            let dg = difference { e in var g1 = gamma; g1[j] += e; return loss(x, g1, beta) }
            let db = difference { e in var b1 = beta; b1[j] += e; return loss(x, gamma, b1) }
            #expect(abs(dg - got.dgamma[j]) < 2e-2 * max(1, abs(dg)) && abs(db - got.dbeta[j]) < 2e-2 * max(1, abs(db)),
                    "\(shape) dγ[\(j)] \(got.dgamma[j]) vs \(dg), dβ[\(j)] \(got.dbeta[j]) vs \(db)")
        }
    }

    /// Rows long enough for the vector lanes (12,500 = 781 × 16 + 4) and a tensor large enough to
    /// be split between the cores: batch norm's forward pass and its gradients against the
    /// closed forms in Double, the statistics of a channel far from zero (values near 1,000,
    /// variance about 1) included, and evaluation mode's dx = γσ⁻¹·dy.
    @Test func longRowsOnLanesAndCoresMatchTheClosedForms() {
        let (outer, channels, inner) = (3, 7, 12_500)
        var random = TestRandom(seed: 29)
        let count = outer * channels * inner
        var x = random.values(count).map { $0 * 3 }
        for o in 0..<outer { for i in 0..<inner { x[o * channels * inner + i] += 1_000 } }
        let dy = random.values(count), gamma = random.values(channels).map { $0 + 1.5 }, beta = random.values(channels)
        var (mean, variance) = ([Float](repeating: 0, count: channels), [Float](repeating: 0, count: channels))
        NormalizationKernel.channelStatistics(outer: outer, channels: channels, inner: inner, input: x, mean: &mean, variance: &variance)
        let invStd = variance.map { 1 / ($0 + 1e-5).squareRoot() }
        var y = [Float](repeating: 0, count: count), dx = y, evalDx = y
        var (dgamma, dbeta) = ([Float](repeating: 0, count: channels), [Float](repeating: 0, count: channels))
        NormalizationKernel.batchNormForward(outer: outer, channels: channels, inner: inner, input: x, mean: mean, invStd: invStd,
                                             gamma: gamma, beta: beta, output: &y)
        NormalizationKernel.batchNormBackward(outer: outer, channels: channels, inner: inner, training: true, input: x, mean: mean,
                                              invStd: invStd, gamma: gamma, gradOutput: dy, gradInput: &dx, gradGamma: &dgamma, gradBeta: &dbeta)
        NormalizationKernel.batchNormBackward(outer: outer, channels: channels, inner: inner, training: false, input: x, mean: mean,
                                              invStd: invStd, gamma: gamma, gradOutput: dy, gradInput: &evalDx, gradGamma: &dgamma, gradBeta: &dbeta)
        let m = Double(outer * inner)
        for ch in 0..<channels {
            var at: [Int] = []
            for o in 0..<outer {
                let first = (o * channels + ch) * inner
                at += Array(first..<(first + inner))
            }
            var (sum, squares, sumDy, sumDyXhat) = (0.0, 0.0, 0.0, 0.0)
            for i in at { sum += Double(x[i]) }
            let mu = sum / m
            for i in at { let d = Double(x[i]) - mu; squares += d * d }
            let v = squares / m, inv = 1 / (v + 1e-5).squareRoot()
            #expect(abs(Double(mean[ch]) - mu) < 1e-6 * max(1, abs(mu)), "channel \(ch): mean \(mean[ch]) vs \(mu)")
            #expect(abs(Double(variance[ch]) - v) < 1e-3 * v, "channel \(ch): variance \(variance[ch]) vs \(v)")
            let xhat: [Double] = at.map { (Double(x[$0]) - mu) * inv }
            for (k, i) in at.enumerated() {
                sumDy += Double(dy[i])
                sumDyXhat += Double(dy[i]) * xhat[k]
            }
            #expect(abs(Double(dbeta[ch]) - sumDy) < 1e-3 * max(1, abs(sumDy)), "channel \(ch): dβ \(dbeta[ch]) vs \(sumDy)")
            #expect(abs(Double(dgamma[ch]) - sumDyXhat) < 1e-3 * max(1, abs(sumDyXhat)), "channel \(ch): dγ \(dgamma[ch]) vs \(sumDyXhat)")
            let g = Double(gamma[ch]), b = Double(beta[ch]), evalScale = g * Double(invStd[ch])
            var (worstY, worstDx, worstEval) = (0.0, 0.0, 0.0)
            for (k, i) in at.enumerated() {
                worstY = max(worstY, abs(Double(y[i]) - (g * xhat[k] + b)))
                let want: Double = g * inv * (Double(dy[i]) - sumDy / m - xhat[k] * sumDyXhat / m)
                worstDx = max(worstDx, abs(Double(dx[i]) - want))
                worstEval = max(worstEval, abs(Double(evalDx[i]) - evalScale * Double(dy[i])))
            }
            #expect(worstY < 1e-3 && worstDx < 1e-3 * g * inv && worstEval < 1e-6 * evalScale,
                    "channel \(ch): worst y \(worstY), dx \(worstDx), eval dx \(worstEval)")
        }
    }
}
