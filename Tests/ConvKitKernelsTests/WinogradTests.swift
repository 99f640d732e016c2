import Testing
import _ConvKitKernels
import _ConvKitMicroKernels
import _ConvKitTestSupport

/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against convolution from its definition (in Double) on
/// random shapes: outputs that are not whole tiles, one-tile and one-row planes, padding 0…2 and
/// asymmetric, channels around the vector widths, batches split into blocks or by filters; the
/// forward pass, the input gradient (the flipped forward runs Winograd too), the weight gradient
/// (Gᵀ·Σ(A·dy·Aᵀ ⊙ Bᵀ·d·B)·G) and the plan each choice produces.
@Suite struct WinogradTests {
    /// The forward variant `.winograd` runs: F(2×2) for batches of fewer than 48 F(4×4) tiles.
    static func variant(_ g: ConvGeometry) -> ConvolutionPlan.Algorithm {
        g.batch * ((g.outputSize[0] + 3) / 4) * ((g.outputSize[1] + 3) / 4) < 48 ? .winograd2x2 : .winograd
    }

    /// The largest |got − expected| over the largest |expected| (the output's scale).
    static func scaledError(_ got: [Float], _ expected: [Float]) -> Float {
        let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-20)
        return zip(got, expected).map { $0.isNaN ? .infinity : abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    /// The forward pass's (with a bias), input gradient's and weight gradient's `scaledError`s
    /// against the definition, on random inputs.
    static func errors(_ g: ConvGeometry, _ random: inout TestRandom) -> (forward: Float, dx: Float, dw: Float) {
        let x = random.values(g.inputCount), w = random.values(g.weightCount), bias = random.values(g.outChannels)
        let dy = random.values(g.outputCount)
        return (scaledError(KernelCalls.forward(g, x: x, w: w, bias: bias), ReferenceConvolution.forward(g, x: x, w: w, bias: bias)),
                scaledError(KernelCalls.inputGradient(g, w: w, dy: dy), ReferenceConvolution.inputGradient(g, w: w, dy: dy)),
                scaledError(KernelCalls.weightGradient(g, x: x, dy: dy), ReferenceConvolution.weightGradient(g, x: x, dy: dy)))
    }

    static func geometry(_ random: inout TestRandom, algorithm: ConvolutionAlgorithm) -> ConvGeometry {
        let padBefore = [random.next(3), random.next(3)], padAfter = [random.next(3), random.next(3)]
        let size = [1 + random.next(19), 1 + random.next(37)].enumerated().map { a, n in max(n, 3 - padBefore[a] - padAfter[a]) }
        return ConvGeometry(
            batch: 1 + random.next(3), inChannels: 8 + random.next(20), outChannels: 1 + random.next(20),
            inputSize: size, kernelSize: [3, 3], stride: [1, 1], dilation: [1, 1],
            padBefore: padBefore, padAfter: padAfter, algorithm: algorithm)
    }

    @Test func forwardMatchesTheDefinition() {
        var random = TestRandom(seed: 41)
        var variants: [ConvolutionPlan.Algorithm: Int] = [:]
        for trial in 0..<80 {
            let g = Self.geometry(&random, algorithm: .winograd)
            #expect(ConvolutionPlan(g).forward == Self.variant(g), "\(g)")
            variants[Self.variant(g), default: 0] += 1
            let x = random.values(g.inputCount), w = random.values(g.weightCount)
            let bias = trial % 2 == 0 ? random.values(g.outChannels) : nil
            let error = Self.scaledError(KernelCalls.forward(g, x: x, w: w, bias: bias), ReferenceConvolution.forward(g, x: x, w: w, bias: bias))
            #expect(error < 1e-5, "trial \(trial): \(g): error \(error)")
        }
        #expect(variants[.winograd, default: 0] >= 10 && variants[.winograd2x2, default: 0] >= 10, "\(variants)")
    }

    @Test func inputGradientMatchesTheDefinition() {
        var random = TestRandom(seed: 42)
        for trial in 0..<40 {
            var g = Self.geometry(&random, algorithm: .winograd)
            g = ConvGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: 8 + g.outChannels, inputSize: g.inputSize,
                             kernelSize: [3, 3], stride: [1, 1], dilation: [1, 1], padBefore: g.padBefore, padAfter: g.padAfter,
                             algorithm: .winograd)
            let plan = ConvolutionPlan(g)
            #expect(plan.inputGradient == .flipped && [.winograd, .winograd2x2].contains(plan.flippedForward), "\(g): \(plan)")
            let dy = random.values(g.outputCount), w = random.values(g.weightCount)
            let dx = KernelCalls.inputGradient(g, w: w, dy: dy)
            let error = Self.scaledError(dx, ReferenceConvolution.inputGradient(g, w: w, dy: dy))
            #expect(error < 1e-5, "trial \(trial): \(g): error \(error)")
        }
    }

    @Test func weightGradientMatchesTheDefinition() {
        var random = TestRandom(seed: 45)
        for trial in 0..<40 {
            let g = Self.geometry(&random, algorithm: .winograd)
            #expect(ConvolutionPlan(g).weightGradient == .winograd, "\(g)")
            let x = random.values(g.inputCount), dy = random.values(g.outputCount)
            let dw = KernelCalls.weightGradient(g, x: x, dy: dy)
            let error = Self.scaledError(dw, ReferenceConvolution.weightGradient(g, x: x, dy: dy))
            #expect(error < 1e-5, "trial \(trial): \(g): error \(error)")
        }
    }

    /// Planes of at most 4 tiles a row, whose tile rows the AVX-512 transforms take four at a
    /// time (two or one for a block's last rows): 14² outputs (4 tiles, the last partial), 13 × 9
    /// (3 tiles, a last tile row of one line), 11 × 5 (2 tiles), 6 × 1 (1 tile); forward with a
    /// bias, input gradient and weight gradient against the definition.
    @Test func fourTileRowsAPassMatchTheDefinition() {
        var random = TestRandom(seed: 47)
        for (batch, c, k, size) in [(4, 16, 24, [14, 14]), (5, 8, 12, [13, 9]), (11, 9, 8, [11, 5]), (25, 8, 9, [6, 1])] {
            let g = ConvGeometry(batch: batch, inChannels: c, outChannels: k, inputSize: size, kernelSize: [3, 3], stride: [1, 1],
                                 dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .winograd)
            #expect(ConvolutionPlan(g).forward == .winograd, "\(g)")
            let (forward, dx, dw) = Self.errors(g, &random)
            #expect(forward < 1e-5 && dx < 1e-5 && dw < 1e-5, "\(g): errors \(forward), \(dx), \(dw)")
        }
    }

    /// A plane of several blocks (many tile rows, wide channels) and a batch split across workers.
    @Test func blocksAndWorkersMatchTheDefinition() {
        var random = TestRandom(seed: 43)
        let g = ConvGeometry(batch: 3, inChannels: 48, outChannels: 40, inputSize: [61, 45], kernelSize: [3, 3],
                             stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .winograd)
        let x = random.values(g.inputCount), w = random.values(g.weightCount), bias = random.values(g.outChannels)
        let error = Self.scaledError(KernelCalls.forward(g, x: x, w: w, bias: bias), ReferenceConvolution.forward(g, x: x, w: w, bias: bias))
        #expect(error < 1e-5, "error \(error)")
    }

    /// Batches of few tiles and large filters, which split the products by filters instead of by
    /// tiles: F(2×2) on one 14 × 14 image of 256 channels and on two 7 × 7 images (partial tiles,
    /// tiles of two images in one product), F(4×4) on one 26 × 27 image of 176 channels (49 tiles),
    /// each with a bias, a residual and a ReLU.
    @Test func fewTilesSplitByFiltersMatchTheDefinition() {
        var random = TestRandom(seed: 46)
        for (batch, channels, size, expected) in [(1, 256, [14, 14], ConvolutionPlan.Algorithm.winograd2x2), (2, 256, [7, 7], .winograd2x2),
                                                  (1, 176, [26, 27], .winograd)] {
            let g = ConvGeometry(batch: batch, inChannels: channels, outChannels: channels, inputSize: size, kernelSize: [3, 3],
                                 stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .winograd)
            #expect(ConvolutionPlan(g).forward == expected, "\(g)")
            let x = random.values(g.inputCount), w = random.values(g.weightCount), bias = random.values(g.outChannels)
            let residual = random.values(g.outputCount)
            let expectedY = zip(ReferenceConvolution.forward(g, x: x, w: w, bias: bias), residual).map { max($0 + $1, 0) }
            var y = [Float](repeating: .nan, count: g.outputCount)
            var workspace = [Float](repeating: .nan, count: ConvolutionKernel.workspaceCount(g))
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in bias.withUnsafeBufferPointer { pb in
                residual.withUnsafeBufferPointer { pr in y.withUnsafeMutableBufferPointer { py in workspace.withUnsafeMutableBufferPointer { ws in
                    ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!, output: py.baseAddress!,
                                              workspace: ws.baseAddress!, clamp: .relu, residual: pr.baseAddress!)
                }}}
            }}}
            let error = Self.scaledError(y, expectedY)
            // F(4×4) over 176 · 9 uniform ±1 terms: 1.2e-5 of the scale (its usual error, as in
            // errorAgainstFloat64StaysSmall); a tile or channel out of place would be O(1).
            #expect(error < (expected == .winograd ? 1e-4 : 1e-5), "\(g): error \(error)")
        }
    }

    /// The split paths' gradients and edges: each worker's filters transformed panel by panel
    /// (K not a multiple of the micro-kernel's mr, so the last panel is partly zero rows) and the
    /// weight gradient split by output channels (C not a multiple of its nr): F(4×4) on 12 planes
    /// of 7 × 7 (48 tiles, partial tiles) and F(2×2) forward on two 13 × 11 planes; forward, input
    /// gradient (the flipped forward splits too) and weight gradient against the definition.
    @Test func fewTilesSplitByFiltersGradientsMatchTheDefinition() {
        var random = TestRandom(seed: 48)
        for (batch, c, k, size, expected) in [(12, 176, 170, [7, 7], ConvolutionPlan.Algorithm.winograd), (2, 200, 166, [13, 11], .winograd2x2)] {
            let g = ConvGeometry(batch: batch, inChannels: c, outChannels: k, inputSize: size, kernelSize: [3, 3],
                                 stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .winograd)
            let plan = ConvolutionPlan(g)
            #expect(plan.forward == expected && plan.weightGradient == .winograd, "\(g): \(plan)")
            let (forward, dx, dw) = Self.errors(g, &random)
            // F(4×4) sums of 170–176 · 9 terms (forward, input gradient) and of 48 tiles (weight
            // gradient) stay near 1e-5 of the scale; a panel or tile out of place would be O(1).
            #expect(forward < 1e-4 && dx < 1e-4 && dw < 1e-4, "\(g): errors \(forward), \(dx), \(dw)")
        }
    }

    /// `.direct` never takes Winograd, `.winograd` only where it applies, `.automatic` where it pays.
    @Test func choiceDecidesThePlan() {
        func plan(_ algorithm: ConvolutionAlgorithm, channels: Int = 64, size: Int = 28, stride: Int = 1) -> ConvolutionPlan.Algorithm {
            ConvolutionPlan(ConvGeometry(batch: 2, inChannels: channels, outChannels: channels, inputSize: [size, size],
                                         kernelSize: [3, 3], stride: [stride, stride], dilation: [1, 1], padBefore: [1, 1],
                                         padAfter: [1, 1], algorithm: algorithm)).forward
        }
        #expect(plan(.direct) != .winograd)
        #expect(plan(.winograd) == .winograd && plan(.winograd, channels: 8) == .winograd)
        #expect(plan(.winograd, stride: 2) != .winograd)
        #expect(plan(.winograd, channels: 4) != .winograd)
        // `.automatic` defers to the process-wide choice (CONVKIT_CONV_ALGORITHM may set it).
        guard ConvolutionAlgorithm.global == .automatic else { return }
        #expect(plan(.automatic) == .winograd)
        // 32 channels from 14 × 14 up where the CPU has vector kernels (two 12 × 12 images have 18
        // tiles, two 14 × 14 ones 32: too few either way); 16 channels never.
        #expect((plan(.automatic, channels: 32) == .winograd) == MicroKernel.isAvailable)
        #expect((plan(.automatic, channels: 32, size: 20) == .winograd) == MicroKernel.isAvailable)
        #expect(plan(.automatic, channels: 32, size: 14) != .winograd && plan(.automatic, channels: 16) != .winograd)
        #expect(plan(.automatic, size: 6) != .winograd)
        // One 14 × 14 image: F(2×2) where the channels are wide enough, never at 7 × 7 (16 tiles).
        func single(_ channels: Int, _ size: Int) -> ConvolutionPlan.Algorithm {
            ConvolutionPlan(ConvGeometry(batch: 1, inChannels: channels, outChannels: channels, inputSize: [size, size], kernelSize: [3, 3],
                                         stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])).forward
        }
        #expect(single(256, 14) == .winograd2x2 && single(64, 14) == .winograd2x2 && single(128, 28) == .winograd)
        #expect(single(32, 14) != .winograd2x2 && single(512, 7) != .winograd2x2)
        // 7 × 7 planes where 48 to 64 F(4×4) tiles split the work by filters of 4 MiB and more
        // (ResNet's last stage at batch 12 to 16) on vector CPUs; not at batch 8 (32 tiles), not
        // with 128 channels (2.4 MiB of filters), not at batch 32 (128 tiles).
        func seven(_ batch: Int, _ channels: Int) -> ConvolutionPlan {
            ConvolutionPlan(ConvGeometry(batch: batch, inChannels: channels, outChannels: channels, inputSize: [7, 7], kernelSize: [3, 3],
                                         stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1]))
        }
        #expect((seven(16, 512).forward == .winograd && seven(16, 512).weightGradient == .winograd) == MicroKernel.isAvailable)
        #expect((seven(12, 256).forward == .winograd) == MicroKernel.isAvailable)
        #expect(seven(8, 512).forward != .winograd && seven(16, 128).forward != .winograd && seven(32, 512).forward != .winograd)
        #expect(ConvolutionPlan(ConvGeometry(batch: 1, inChannels: 256, outChannels: 256, inputSize: [14, 14], kernelSize: [3, 3],
                                             stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])).weightGradient != .winograd)
    }

    /// The error against float64 on the 3 × 3 layers `.automatic` hands to Winograd (and the
    /// course CNN's 32-channel layer), beside the direct kernels' error on the same numbers:
    /// Winograd must stay within 1e-4 of each output's scale (the oracle tests' tolerance).
    @Test func errorAgainstFloat64StaysSmall() {
        var random = TestRandom(seed: 44)
        // The last: ResNet's last stage (12 of its 16 planes), split by filters.
        for (batch, channels, size) in [(1, 32, 28), (1, 64, 56), (1, 128, 28), (1, 256, 14), (12, 512, 7)] {
            var errors: [ConvolutionAlgorithm: Float] = [:]
            let base = ConvGeometry(batch: batch, inChannels: channels, outChannels: channels, inputSize: [size, size], kernelSize: [3, 3],
                                    stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
            // Post-ReLU activations (non-negative) and He-initialised weights, as inside a trained network.
            let x = random.values(base.inputCount).map { max($0, 0) }
            let scale = (6 / Float(9 * channels)).squareRoot()  // uniform ±1 has variance 1/3
            let w = random.values(base.weightCount).map { $0 * scale }
            let expected = ReferenceConvolution.forward(base, x: x, w: w, bias: nil)
            for algorithm in [ConvolutionAlgorithm.direct, .winograd] {
                var g = base
                g.algorithm = algorithm
                errors[algorithm] = Self.scaledError(KernelCalls.forward(g, x: x, w: w, bias: nil), expected)
            }
            // The weight gradient from the same input and an output gradient of the output's size.
            let dy = random.values(base.outputCount)
            let expectedDW = ReferenceConvolution.weightGradient(base, x: x, dy: dy)
            var weightErrors: [ConvolutionAlgorithm: Float] = [:]
            for algorithm in [ConvolutionAlgorithm.direct, .winograd] {
                var g = base
                g.algorithm = algorithm
                weightErrors[algorithm] = Self.scaledError(KernelCalls.weightGradient(g, x: x, dy: dy), expectedDW)
            }
            print("Winograd error, \(batch) × \(channels) channels at \(size)²: forward direct \(errors[.direct]!), winograd \(errors[.winograd]!); "
                  + "weight gradient direct \(weightErrors[.direct]!), winograd \(weightErrors[.winograd]!) (of the scale)")
            #expect(errors[.winograd]! < 1e-4 && errors[.direct]! < 1e-5, "\(channels)×\(size)²: \(errors)")
            #expect(weightErrors[.winograd]! < 1e-4 && weightErrors[.direct]! < 1e-5, "\(channels)×\(size)²: \(weightErrors)")
        }
    }

    /// The filter transform U = G·g·Gᵀ in double, rounded once (`ck_wino_filters`: 16 filters on
    /// the lanes, channels in blocks of 16 put on them by transposes where the CPU has AVX-512):
    /// the bits of the formula evaluated in Swift in the same order, in row panels of mr filters
    /// (the last one partial), channel counts around the block width, and a padded point stride.
    @Test func filterTransformGivesTheFormulasBits() {
        func rows(_ g: (Double, Double, Double)) -> [Double] {
            let outer = g.0 + g.2, even = g.0 * (1.0 / 24) + g.2 * (1.0 / 6), odd = g.1 * (1.0 / 12)
            return [g.0 * 0.25, (outer + g.1) * -(1.0 / 6), (outer - g.1) * -(1.0 / 6), even + odd, even - odd, g.2]
        }
        var random = TestRandom(seed: 49)
        // Panels of 12 (AVX-512's mr) and 6 filters, and plain matrices (mr 1, the portable path).
        let shapes: [(Int, Int, Int)] = [(13, 16, 12), (13, 17, 12), (24, 40, 12), (5, 3, 12), (7, 32, 6), (3, 19, 1)]
        for (k, c, mr) in shapes {
            let w = random.values(k * c * 9).map { $0 * 10 }
            let kp = (k + mr - 1) / mr * mr, point = kp * c + 16
            var u = [Float](repeating: .nan, count: 36 * point)
            ck_wino_filters(w, 0, k, c, point, mr, &u)
            for ki in 0..<k {
                for ci in 0..<c {
                    let first = (ki * c + ci) * 9
                    let tap: (Int) -> Double = { t in Double(w[first + t]) }
                    // (G·g)[·][col] for each column, then each row of it times Gᵀ.
                    let columns: [[Double]] = (0..<3).map { col in rows((tap(col), tap(3 + col), tap(6 + col))) }
                    for row in 0..<6 {
                        let transformed = rows((columns[0][row], columns[1][row], columns[2][row]))
                        for j in 0..<6 {
                            let xi: Int = row * 6 + j, lane: Int = (ki / mr * c + ci) * mr + ki % mr
                            let at: Int = xi * point + lane
                            let expected = Float(transformed[j])
                            #expect(u[at].bitPattern == expected.bitPattern, "k \(k), c \(c): filter (\(ki), \(ci)) point \(xi)")
                        }
                    }
                }
            }
        }
    }

    /// The weight gradient's last step, Gᵀ·S·G per filter in double (`ck_wino_filter_gradient`,
    /// eight filters on the lanes where the CPU has AVX-512): the bits of the formula evaluated
    /// in Swift in the same order, for channel counts around the lane width and a range of filters.
    @Test func filterGradientGivesTheFormulasBits() {
        let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                             [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        var random = TestRandom(seed: 46)
        for (k, c) in [(3, 1), (2, 7), (2, 8), (3, 17), (5, 32)] {
            let sums = random.values(36 * k * c).map { $0 * 1000 }
            var dw = [Float](repeating: .nan, count: k * c * 9)
            sums.withUnsafeBufferPointer { ck_wino_filter_gradient(Int32(MicroKernel.level), $0.baseAddress! + c, k * c, c, 1, k, c, &dw) }
            for ki in 0..<k {
                for ci in 0..<c {
                    var mg = [[Double]](repeating: [0, 0, 0], count: 6)
                    for r in 0..<6 {
                        for j in 0..<3 {
                            var s = 0.0
                            for x in 0..<6 { s += Double(sums[(r * 6 + x) * k * c + ki * c + ci]) * g[x][j] }
                            mg[r][j] = s
                        }
                    }
                    for i in 0..<3 {
                        for j in 0..<3 {
                            var s = 0.0
                            for r in 0..<6 { s += g[r][i] * mg[r][j] }
                            let got = dw[(ki * c + ci) * 9 + i * 3 + j]
                            if ki == 0 { #expect(got.isNaN, "filter 0 is not in 1 ..< \(k)") } else {
                                #expect(got.bitPattern == Float(s).bitPattern, "k \(k) c \(c) filter (\(ki), \(ci)) tap \(i * 3 + j)")
                            }
                        }
                    }
                }
            }
        }
    }
}
