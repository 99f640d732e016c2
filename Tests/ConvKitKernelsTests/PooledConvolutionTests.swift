import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// `ConvolutionKernel.forwardPooled`: the direct path pools each block of output lines (2 × 2,
/// stride 2) as it stores them. Against the convolution's own output (`forward`) pooled by a
/// loop written from `MaxPool2d`'s definition (first largest in row-major order, a NaN wins,
/// floor mode): values and indices equal, and the convolution's output equal to `forward`'s,
/// bit for bit. Geometries reach every split: whole items per worker, single items split by
/// pairs of lines or by channel panels, several line blocks per item (blocks then start at
/// even lines), odd heights and widths, groups, a clamp, and NaNs in the input.
@Suite struct PooledConvolutionTests {
    /// MaxPool2d(2) of `planes` (h × w) planes: values and flat indices within each plane.
    static func pool(_ y: [Float], planes: Int, h: Int, w: Int) -> (values: [Float], indices: [Int]) {
        var values: [Float] = [], indices: [Int] = []
        for p in 0..<planes {
            for oh in 0..<(h / 2) {
                for ow in 0..<(w / 2) {
                    var best = Float.nan, at = -1
                    for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let i = (2 * oh + a) * w + 2 * ow + b, v = y[p * h * w + i]
                        if at < 0 || v > best || v.isNaN { (best, at) = (v, i) }
                        if v.isNaN { break }
                    }
                    values.append(best)
                    indices.append(at)
                }
            }
        }
        return (values, indices)
    }

    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    static func run(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?, clamp: OutputClamp?)
        -> (output: [Float], values: [Float], indices: [Int]) {
        let count = g.batch * g.outChannels * (g.outputSize[0] / 2) * (g.outputSize[1] / 2)
        var y = [Float](repeating: .nan, count: g.outputCount), values = [Float](repeating: .nan, count: count)
        var indices = [Int](repeating: -7, count: count)
        var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        let b = bias ?? []
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
            y.withUnsafeMutableBufferPointer { py in workspace.withUnsafeMutableBufferPointer { ws in
                values.withUnsafeMutableBufferPointer { pv in indices.withUnsafeMutableBufferPointer { pi in
                    ConvolutionKernel.forwardPooled(g, input: px.baseAddress!, weight: pw.baseAddress!,
                                                    bias: bias == nil ? nil : pb.baseAddress!, output: py.baseAddress!,
                                                    workspace: ws.baseAddress!, clamp: clamp,
                                                    pool: PooledOutput(values: pv.baseAddress!, indices: pi.baseAddress!))
                }}
            }}
        }}}
        return (y, values, indices)
    }

    @Test func poolsAsTheDefinitionDoes() {
        var random = TestRandom(seed: 31)
        func conv(_ n: Int, _ c: Int, _ k: Int, _ h: Int, _ w: Int, groups: Int = 1, pad: Int = 1) -> ConvGeometry {
            var g = ConvGeometry(batch: n, inChannels: c, outChannels: k, groups: groups, inputSize: [h, w], kernelSize: [3, 3],
                                 stride: [1, 1], dilation: [1, 1], padBefore: [pad, pad], padAfter: [pad, pad])
            g.algorithm = .direct  // not Winograd, which `.automatic` takes for some of these
            return g
        }
        let cases: [(ConvGeometry, OutputClamp?)] = [
            (conv(3, 4, 20, 14, 14), nil),          // whole items per worker, 14 → 7
            (conv(2, 3, 9, 13, 17), .relu),         // odd height and width: the last line and column are not pooled
            (conv(1, 32, 32, 28, 28), nil),         // one item: lines split between workers by pairs
            (conv(1, 192, 56, 14, 14, pad: 1), nil),  // one item split by channel panels
            (conv(1, 64, 24, 90, 70), .relu6),      // several line blocks per item (each must start at an even line)
            (conv(2, 8, 12, 20, 33, groups: 4), nil),
            (conv(2, 2, 5, 4, 14, pad: 0), nil),    // a 2 × 12 output: one line of windows
            (conv(1, 32, 64, 14, 14), .relu),       // the course CNN's 14² layer at batch 1: a small slab per worker
        ]
        // Without a micro-kernel (portable builds) there is no direct path, and nothing to pool as it stores.
        #expect(cases.allSatisfy { ConvolutionKernel.poolsAsItStores($0.0) } == MicroKernel.isAvailable)
        for (index, (g, clamp)) in cases.enumerated() where ConvolutionKernel.poolsAsItStores(g) {
            var x = random.values(g.inputCount)
            if index == 1 { for i in stride(from: 5, to: x.count, by: 97) { x[i] = .nan } }
            let w = random.values(g.weightCount), bias = index % 2 == 0 ? random.values(g.outChannels) : nil
            var expectedOutput = KernelCalls.forward(g, x: x, w: w, bias: bias)
            if let clamp { expectedOutput = expectedOutput.map { $0.isNaN ? $0 : min(max($0, clamp.lower), clamp.upper) } }
            let (h, width) = (g.outputSize[0], g.outputSize[1])
            let expected = Self.pool(expectedOutput, planes: g.batch * g.outChannels, h: h, w: width)
            let got = Self.run(g, x: x, w: w, bias: bias, clamp: clamp)
            #expect(Self.same(got.output, expectedOutput), "case \(index): the convolution's output")
            #expect(Self.same(got.values, expected.values), "case \(index): pooled values")
            #expect(got.indices == expected.indices, "case \(index): indices")
            if index == 1 { #expect(got.values.contains { $0.isNaN }, "NaNs reach some windows") }
        }
    }

    /// Winograd's tile rows pooled from each worker's copy: F(4×4) with two tile rows a pass
    /// (rows of ≤ 7 tiles) and one (wider rows), partial tiles (14 = 3 · 4 + 2), odd heights and
    /// widths (a last tile row of one line, pooled into nothing), several blocks per worker,
    /// F(2×2) for few tiles, a clamp and NaNs: the same values and indices as the convolution's
    /// own output (`forward`, the same algorithm) pooled by the definition, and `output` not written.
    @Test func winogradPoolsAsTheDefinitionDoes() {
        var random = TestRandom(seed: 37)
        func conv(_ n: Int, _ c: Int, _ k: Int, _ h: Int, _ w: Int) -> ConvGeometry {
            var g = ConvGeometry(batch: n, inChannels: c, outChannels: k, groups: 1, inputSize: [h, w], kernelSize: [3, 3],
                                 stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
            g.algorithm = .winograd
            return g
        }
        let cases: [(ConvGeometry, OutputClamp?, ConvolutionPlan.Algorithm)] = [
            (conv(4, 32, 32, 28, 28), .relu, .winograd),   // the course CNN's conv2: 7 tiles a row, rows in pairs
            (conv(4, 16, 24, 14, 14), nil, .winograd),     // a partial tile in each row and column
            (conv(3, 8, 12, 13, 17), .relu, .winograd),    // odd: a last tile row of one line, a last column unpooled
            (conv(1, 8, 8, 40, 70), .relu6, .winograd),    // 18 tiles a row: one row a pass
            (conv(8, 8, 8, 28, 28), nil, .winograd),       // several blocks per worker
            (conv(1, 16, 16, 14, 14), .relu, .winograd2x2), // 16 F(4×4) tiles: F(2×2)
            (conv(1, 8, 16, 9, 11), nil, .winograd2x2),    // F(2×2) with a last tile row of one line
        ]
        for (index, (g, clamp, algorithm)) in cases.enumerated() {
            #expect(ConvolutionPlan(g).forward == algorithm, "case \(index)")
            #expect(ConvolutionKernel.poolsAsItStores(g) && ConvolutionKernel.pooledOutputCount(g) == 0, "case \(index)")
            var x = random.values(g.inputCount)
            if index == 2 { for i in stride(from: 3, to: x.count, by: 89) { x[i] = .nan } }
            let w = random.values(g.weightCount), bias = index % 2 == 0 ? random.values(g.outChannels) : nil
            var expectedOutput = KernelCalls.forward(g, x: x, w: w, bias: bias)
            if let clamp { expectedOutput = expectedOutput.map { $0.isNaN ? $0 : min(max($0, clamp.lower), clamp.upper) } }
            let expected = Self.pool(expectedOutput, planes: g.batch * g.outChannels, h: g.outputSize[0], w: g.outputSize[1])
            let got = Self.run(g, x: x, w: w, bias: bias, clamp: clamp)
            #expect(got.output.allSatisfy { $0.isNaN }, "case \(index): the output is not written")
            #expect(Self.same(got.values, expected.values), "case \(index): pooled values")
            #expect(got.indices == expected.indices, "case \(index): indices")
            if index == 2 { #expect(got.values.contains { $0.isNaN }, "NaNs reach some windows") }
        }
    }
}
