import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Max pooling of 1-D and 2-D planes runs in C (`ck_max_pool_plane`: edge columns tap by tap,
/// the columns whose windows lie inside the plane across the row on vector lanes), 3-D volumes
/// take a direct path when every window lies inside the input; these check both against a naive
/// loop with PyTorch's rules on random geometries, with ties, infinities and NaNs.
@Suite struct PoolingFastPathTests {
    /// First maximum in row-major window order; the first NaN wins.
    static func naiveMax(_ g: ConvGeometry, planes: Int, _ x: [Float]) -> (values: [Float], indices: [Int]) {
        let r = 3 - g.rank
        let n = [Int](repeating: 1, count: r) + g.inputSize, out = [Int](repeating: 1, count: r) + g.outputSize
        let k = [Int](repeating: 1, count: r) + g.kernelSize, s = [Int](repeating: 1, count: r) + g.stride
        let d = [Int](repeating: 1, count: r) + g.dilation, p = [Int](repeating: 0, count: r) + g.padBefore
        var values = [Float](), indices = [Int]()
        for c in 0..<planes {
            for od in 0..<out[0] { for oh in 0..<out[1] { for ow in 0..<out[2] {
                var best = -Float.infinity, index = -1
                window: for kd in 0..<k[0] { for kh in 0..<k[1] { for kw in 0..<k[2] {
                    let (i, j, l) = (od * s[0] - p[0] + kd * d[0], oh * s[1] - p[1] + kh * d[1], ow * s[2] - p[2] + kw * d[2])
                    guard i >= 0, i < n[0], j >= 0, j < n[1], l >= 0, l < n[2] else { continue }
                    let flat = (i * n[1] + j) * n[2] + l, v = x[c * n[0] * n[1] * n[2] + flat]
                    if index < 0 || v > best || v.isNaN {
                        (best, index) = (v, flat)
                        if v.isNaN { break window }
                    }
                }}}
                values.append(best)
                indices.append(index)
            }}}
        }
        return (values, indices)
    }

    static func run(_ g: ConvGeometry, planes: Int, _ x: [Float]) -> (values: [Float], indices: [Int]) {
        var y = [Float](repeating: 0, count: planes * g.outputPlane), idx = [Int](repeating: -7, count: planes * g.outputPlane)
        x.withUnsafeBufferPointer { px in
            PoolingKernel.maxForward(g, planes: planes, input: px.baseAddress!, output: &y, indices: &idx)
        }
        return (y, idx)
    }

    /// Values only (no indices, as in inference).
    static func runWithoutIndices(_ g: ConvGeometry, planes: Int, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: planes * g.outputPlane)
        x.withUnsafeBufferPointer { px in
            PoolingKernel.maxForward(g, planes: planes, input: px.baseAddress!, output: &y, indices: nil)
        }
        return y
    }

    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }

    @Test func matchesNaiveLoopOnRandomGeometries() {
        var random = TestRandom(seed: 11)
        func next(_ n: Int) -> Int { random.next(n) }
        var interiorCount = 0, twoByTwoCount = 0
        for trial in 0..<400 {
            let rank = 1 + next(3)
            let square2 = trial % 3 == 0 && rank >= 2  // MaxPool2d(2)-like windows, odd and even sizes
            let kernel = (0..<rank).map { a in square2 ? (a >= rank - 2 ? 2 : 1) : 1 + next(3) }
            let stride = (0..<rank).map { a in square2 && a >= rank - 2 ? 1 + next(2) : 1 + next(3) }
            let dilation = (0..<rank).map { a in square2 && a >= rank - 2 ? 1 : 1 + next(2) }
            let padded = trial % 5 == 4
            let pad = kernel.map { padded ? next($0 / 2 + 1) : 0 }
            let size = (0..<rank).map { a in (kernel[a] - 1) * dilation[a] + 1 + next(rank == 3 ? 5 : 9) }
            let g = ConvGeometry(batch: 1, inChannels: 1, outChannels: 1, inputSize: size, kernelSize: kernel,
                                 stride: stride, dilation: dilation, padBefore: pad, padAfter: pad)
            let planes = 1 + next(3)
            // Small integers make ties common; a few ±∞ and NaNs test the special rules.
            let x: [Float] = (0..<(planes * g.inputPlane)).map { _ in
                switch next(40) {
                case 0: return .nan
                case 1: return .infinity
                case 2: return -.infinity
                default: return Float(next(5))
                }
            }
            if pad.allSatisfy({ $0 == 0 }) { interiorCount += 1 }
            if square2 && pad.allSatisfy({ $0 == 0 }) { twoByTwoCount += 1 }
            let got = Self.run(g, planes: planes, x), want = Self.naiveMax(g, planes: planes, x)
            #expect(Self.same(got.values, want.values) && got.indices == want.indices,
                    "trial \(trial): \(g) planes \(planes)")
            #expect(Self.same(Self.runWithoutIndices(g, planes: planes, x), want.values), "trial \(trial) without indices")
        }
        #expect(interiorCount > 250 && twoByTwoCount > 60)
    }

    /// Planes wide enough for several vector blocks and a tail (ResNet's 3×3 stride-2 stem pool,
    /// stride 1, dilation 2, ceil-mode overhang, uneven strides, 2×2 stride 2), with and without indices.
    @Test(arguments: [
        ([112, 112], [3, 3], [2, 2], [1, 1], [1, 1], false), ([57, 45], [3, 3], [1, 1], [1, 1], [1, 1], false),
        ([40, 75], [3, 2], [2, 3], [2, 2], [1, 0], true), ([9, 131], [2, 5], [1, 2], [1, 1], [1, 2], true),
        ([1, 200], [1, 4], [1, 3], [1, 1], [0, 2], true), ([33, 33], [2, 2], [2, 2], [1, 1], [0, 0], true),
        // MaxPool2d(2) on lanes (AVX-512): 35 outputs a row (two chunks of 16 and a tail), 7, an odd last row and column.
        ([30, 70], [2, 2], [2, 2], [1, 1], [0, 0], false), ([14, 14], [2, 2], [2, 2], [1, 1], [0, 0], false),
        ([29, 67], [2, 2], [2, 2], [1, 1], [0, 0], false),
    ])
    func widePaddedPlanesMatchNaiveLoop(size: [Int], kernel: [Int], stride: [Int], dilation: [Int], pad: [Int], ceil: Bool) {
        let out = (0..<2).map { a in
            ConvGeometry.outputLength(input: size[a], kernel: kernel[a], stride: stride[a], dilation: dilation[a],
                                      padBefore: pad[a], padAfter: pad[a], ceilMode: ceil)
        }
        let g = ConvGeometry(batch: 1, inChannels: 1, outChannels: 1, inputSize: size, kernelSize: kernel,
                             stride: stride, dilation: dilation, padBefore: pad, padAfter: pad, outputSize: out)
        let planes = 3
        var random = TestRandom(seed: UInt64(size[1] * 7 + kernel[1]))
        let x: [Float] = (0..<(planes * g.inputPlane)).map { _ in
            switch random.next(300) {
            case 0: return .nan
            case 1: return .infinity
            case 2: return -.infinity
            default: return Float(random.next(7)) - 3
            }
        }
        let got = Self.run(g, planes: planes, x), want = Self.naiveMax(g, planes: planes, x)
        #expect(Self.same(got.values, want.values) && got.indices == want.indices, "\(g)")
        #expect(Self.same(Self.runWithoutIndices(g, planes: planes, x), want.values), "\(g) without indices")
    }

    /// The 2×2 path's NaN and infinity handling, window by window.
    @Test func twoByTwoSpecialValues() {
        let g = ConvGeometry(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2, 2], kernelSize: [2, 2],
                             stride: [2, 2], dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
        let cases: [([Float], Float, Int)] = [
            ([1, 1, 1, 1], 1, 0),                    // ties keep the first
            ([0, 3, 3, 2], 3, 1),
            ([-.infinity, -.infinity, -.infinity, -.infinity], -.infinity, 0),
            ([1, .infinity, -.infinity, 2], .infinity, 1),  // ∞ − ∞ is NaN in a sum, yet no NaN here
            ([1, 2, .nan, .nan], .nan, 2),           // the first NaN wins
            ([.nan, 5, 6, 7], .nan, 0),
        ]
        for (x, value, index) in cases {
            let got = Self.run(g, planes: 1, x)
            #expect(Self.same(got.values, [value]) && got.indices == [index], "\(x)")
        }
    }

    /// The backward pass routes each gradient to its recorded index, planes split across
    /// workers when the work is large (here 400 planes); overlapping windows add up.
    @Test func backwardScattersToTheRecordedIndices() {
        for (size, kernel, stride) in [([28, 28], [2, 2], [2, 2]), ([15, 17], [3, 3], [1, 2])] {
            let g = ConvGeometry(batch: 1, inChannels: 1, outChannels: 1, inputSize: size, kernelSize: kernel,
                                 stride: stride, dilation: [1, 1], padBefore: [0, 0], padAfter: [0, 0])
            let planes = 400
            let x = TestRandom.values(planes * g.inputPlane, seed: 41), dy = TestRandom.values(planes * g.outputPlane, seed: 42)
            let indices = Self.run(g, planes: planes, x).indices
            var expected = [Float](repeating: 0, count: x.count)
            for c in 0..<planes {
                for o in 0..<g.outputPlane { expected[c * g.inputPlane + indices[c * g.outputPlane + o]] += dy[c * g.outputPlane + o] }
            }
            var dx = [Float](repeating: .nan, count: x.count)
            PoolingKernel.maxBackward(g, planes: planes, gradOutput: dy, indices: indices, gradInput: &dx)
            #expect(dx == expected, "\(size) kernel \(kernel) stride \(stride)")
        }
    }
}
