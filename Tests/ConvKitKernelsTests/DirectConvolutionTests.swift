import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Convolutions with lines at least 12 wide and a stride of at most 4 along them run as direct
/// tiles over a padded copy of the input (`Convolution+Direct.swift`), and so do their
/// weight gradients (`Convolution+DirectWeightGradient.swift`) and the input gradients of
/// stride-1 convolutions (a flipped forward convolution). Forward and weight gradient are
/// checked against loops written from the definition, in Double, on random geometries that
/// reach every branch: ranks 1–3, groups, dilation, strides 1–4 (the last axis split into
/// phases), every padding mode, widths that are multiples of 16, wider (the last tile
/// overlaps) and narrower (a scratch tile),
/// output channels that leave a partial panel of 6 (or of 16), bias or none, and single
/// items large enough that the workers split an item's lines or column-matrix rows.
@Suite struct DirectConvolutionTests {
    /// Runs `g`'s forward pass and weight gradient on random values and compares them with the definition.
    static func check(_ g: ConvGeometry, withBias: Bool, values: (Int) -> [Float]) {
        let x = values(g.inputCount), w = values(g.weightCount), bias = withBias ? values(g.outChannels) : nil
        let y = KernelCalls.forward(g, x: x, w: w, bias: bias)
        // NaN (an output never written) fails the comparisons too.
        let expected = ReferenceConvolution.forward(g, x: x, w: w, bias: bias)
        let wrong = zip(y, expected).filter { !(abs($0 - $1) <= 1e-4 * Float(g.columnRows)) }
        #expect(wrong.isEmpty, "\(g): \(wrong.count) outputs differ, e.g. \(wrong.first.map { "\($0) vs \($1)" } ?? "")")

        let dy = values(g.outputCount)
        let dw = KernelCalls.weightGradient(g, x: x, dy: dy)
        let expectedGradient = ReferenceConvolution.weightGradient(g, x: x, dy: dy)
        let positions = g.batch * g.outputPlane
        let wrongGradient = zip(dw, expectedGradient).filter { !(abs($0 - $1) <= 1e-4 * Float(max(positions, 1))) }
        #expect(wrongGradient.isEmpty,
                "\(g): \(wrongGradient.count) weight gradients differ, e.g. \(wrongGradient.first.map { "\($0) vs \($1)" } ?? "")")
    }

    @Test func forwardAndWeightGradientMatchTheDefinition() {
        var random = TestRandom(seed: 11)
        func values(_ count: Int) -> [Float] { random.values(count) }
        var widths = Set<Int>()
        for trial in 0..<48 {
            // The last axis gives 12…40 outputs; leading axes a few.
            let g = random.convolutionGeometry(trial: trial, lastKernel: 1...5, width: 12...40, batch: 0...2, outChannels: 1...20)
            guard g.isValid, !g.outputSize.contains(0) else { continue }
            if g.batch > 0 { widths.insert(g.outputSize.last!) }
            Self.check(g, withBias: trial % 3 != 0, values: values)
        }
        // Both tile paths ran: full and overlapping or masked tiles (≥ 16), and the scratch or masked tile (12…15);
        // on AVX-512, lines short against their slab stride run as tiles over the flat slab positions.
        #expect(widths.contains { $0 >= 16 && $0 % 16 != 0 } && widths.contains { $0 < 16 })
    }

    /// "Same" zero-padded layers with stride 1, whose lines share their padding (each input line
    /// then the zeros that pad it on the right and the next line on the left): widths 12–16,
    /// 28 with one input channel, asymmetric padding, dilation, groups, ranks 1 and 3.
    @Test func sameZeroPaddedLayersMatchTheDefinition() {
        var seed: UInt64 = 7
        func same(_ n: Int, c: Int, k: Int, groups: Int = 1, size: [Int], kernel: [Int], dilation: [Int]? = nil,
                  before: [Int], after: [Int]) -> ConvGeometry {
            ConvGeometry(batch: n, inChannels: c, outChannels: k, groups: groups, inputSize: size, kernelSize: kernel,
                         stride: size.map { _ in 1 }, dilation: dilation ?? size.map { _ in 1 }, padBefore: before, padAfter: after)
        }
        let cases = [
            same(2, c: 5, k: 19, size: [14, 14], kernel: [3, 3], before: [1, 1], after: [1, 1]),
            same(1, c: 3, k: 16, size: [9, 12], kernel: [3, 3], before: [1, 1], after: [1, 1]),
            same(1, c: 3, k: 5, size: [7, 13], kernel: [3, 3], before: [1, 1], after: [1, 1]),
            same(1, c: 2, k: 7, size: [6, 15], kernel: [5, 5], before: [2, 2], after: [2, 2]),
            same(2, c: 4, k: 6, groups: 2, size: [5, 16], kernel: [3, 4], before: [1, 1], after: [1, 2]),
            same(1, c: 3, k: 5, size: [4, 29], kernel: [3, 3], dilation: [2, 3], before: [2, 3], after: [2, 3]),
            same(3, c: 1, k: 33, size: [28, 28], kernel: [3, 3], before: [1, 1], after: [1, 1]),
            same(2, c: 6, k: 9, size: [45], kernel: [7], before: [3], after: [3]),
            same(1, c: 2, k: 4, size: [2, 3, 13], kernel: [1, 3, 3], before: [0, 1, 1], after: [0, 1, 1]),
        ]
        for g in cases {
            #expect(g.outputSize == g.inputSize)
            Self.check(g, withBias: true) { count in
                seed += 1
                return TestRandom.values(count, seed: seed)
            }
        }
    }

    /// Pointwise (1 × 1, unpadded, stride 1) layers: on AVX-512 their forward pass takes the
    /// direct tiles over flat positions (the GEMM elsewhere, and for their weight gradients).
    @Test func pointwiseLayersMatchTheDefinition() {
        var seed: UInt64 = 3
        let cases = [
            ConvGeometry(batch: 3, inChannels: 20, outChannels: 35, inputSize: [14, 14], kernelSize: [1, 1], stride: [1, 1],
                         dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
            ConvGeometry(batch: 2, inChannels: 6, outChannels: 17, groups: 1, inputSize: [3, 5, 13], kernelSize: [1, 1, 1],
                         stride: [1, 1, 1], dilation: [1, 1, 1], padBefore: [0, 0, 0], padAfter: [0, 0, 0]),
            ConvGeometry(batch: 1, inChannels: 64, outChannels: 40, groups: 2, inputSize: [29], kernelSize: [1], stride: [1],
                         dilation: [1], padBefore: [0], padAfter: [0]),
        ]
        for g in cases {
            Self.check(g, withBias: true) { count in
                seed += 1
                return TestRandom.values(count, seed: seed)
            }
        }
    }

    /// Tiles computed two at a time (`ck_conv_lines`' pair tile, AVX-512): a panel's channels
    /// in two halves (9, 13, 16 channels), the second vector the same line's next 16 outputs or
    /// the next line's first (widths 5, 14, 16, 17, 28, 40, odd and even tile counts, with the
    /// last tile alone), over flat slab positions and line by line; and weight-gradient tiles of
    /// two 16-channel panels, with a third panel alone (40 and 48 channels). Any channel or
    /// position computed from the wrong input, or stored to the wrong line, fails the comparison.
    @Test func pairedTilesMatchTheDefinition() {
        var random = TestRandom(seed: 23)
        func values(_ count: Int) -> [Float] { random.values(count) }
        var checked = 0
        for (k, width, lines) in [(9, 5, 3), (13, 14, 7), (16, 14, 4), (32, 16, 3), (40, 17, 5), (48, 28, 3), (13, 40, 3),
                                  (32, 28, 1), (16, 5, 1)] {
            for pad in [0, 1] {
                let g = ConvGeometry(batch: 2, inChannels: 3, outChannels: k, inputSize: [lines + 2 - 2 * pad, width + 2 - 2 * pad],
                                     kernelSize: [3, 3], stride: [1, 1], dilation: [1, 1], padBefore: [pad, pad], padAfter: [pad, pad])
                #expect(g.outputSize == [lines, width])
                Self.check(g, withBias: k % 2 == 1, values: values)
                checked += 1
            }
        }
        #expect(checked == 18)
    }

    /// Single items with enough work for several workers: the forward pass splits the item's
    /// lines between them, or its output channels where that leaves fewer partial tiles (the
    /// 14 × 14 pointwise layer, 56 = 3½ panels of 16), after all of them pad parts of its slab
    /// (by whole rows where lines share their zero padding, as in the third and fourth cases);
    /// the weight gradient splits its column-matrix rows.
    @Test func singleItemsAreSplitBetweenWorkers() {
        var random = TestRandom(seed: 5)
        func values(_ count: Int) -> [Float] { random.values(count) }
        let cases = [
            ConvGeometry(batch: 1, inChannels: 32, outChannels: 26, inputSize: [40, 37], kernelSize: [3, 3], stride: [1, 1],
                         dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], paddingMode: .reflect),
            ConvGeometry(batch: 1, inChannels: 40, outChannels: 34, groups: 2, inputSize: [2_000], kernelSize: [5], stride: [1],
                         dilation: [2], padBefore: [4], padAfter: [3]),
            ConvGeometry(batch: 1, inChannels: 192, outChannels: 56, inputSize: [14, 14], kernelSize: [1, 1], stride: [1, 1],
                         dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0]),
            ConvGeometry(batch: 1, inChannels: 32, outChannels: 26, inputSize: [30, 29], kernelSize: [3, 3], stride: [1, 1],
                         dilation: [1, 1], padBefore: [2, 1], padAfter: [0, 2]),
        ]
        for g in cases {
            #expect(2 * g.outChannels * g.outputPlane * g.columnRows >= 1 << 22)  // the size at which workers split
            Self.check(g, withBias: true, values: values)
        }
    }

    /// Single items whose padded slab is small (≤ 16 Ki floats) are padded by each worker into
    /// its own slab, in the region that computes them: split by panels (the course CNN's 14²
    /// layer), with two groups, and by lines (a 1-D layer). (`PooledConvolutionTests` covers the
    /// pooled splits.)
    @Test func smallSlabsArePaddedByEachWorker() {
        var random = TestRandom(seed: 6)
        func values(_ count: Int) -> [Float] { random.values(count) }
        let cases = [
            ConvGeometry(batch: 1, inChannels: 32, outChannels: 64, inputSize: [14, 14], kernelSize: [3, 3], stride: [1, 1],
                         dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .direct),
            ConvGeometry(batch: 1, inChannels: 24, outChannels: 64, groups: 2, inputSize: [20, 23], kernelSize: [3, 3],
                         stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1], algorithm: .direct),
            ConvGeometry(batch: 1, inChannels: 24, outChannels: 48, inputSize: [400], kernelSize: [5], stride: [1],
                         dilation: [1], padBefore: [2], padAfter: [2]),
        ]
        for g in cases {
            #expect(2 * g.outChannels * g.outputPlane * g.columnRows >= 1 << 22, "\(g)")  // the workers split
            #expect(ConvolutionPlan(g).forward == .direct || !MicroKernel.isAvailable, "\(g)")
            Self.check(g, withBias: true, values: values)
        }
    }
}
