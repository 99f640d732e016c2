import ConvKit
import Testing

/// The threaded paths (batch items split across workers, private weight-gradient sums)
/// against the same items computed one at a time, which always run on one worker.
@Suite struct FastPathTests {
    @Test(arguments: [(1, PaddingMode.zeros, 1), (2, .reflect, 2), (1, .circular, 4)])
    func batchedConvolutionMatchesItemByItem(stride: Int, mode: PaddingMode, groups: Int) throws {
        var rng = SeededGenerator(seed: 11)
        // 2·N·K·P·rows ≥ 8·10⁶ flops in every case: large enough for several workers.
        let x = try Tensor.randomNormal([6, 32, 24, 26], using: &rng, requiresGrad: true)
        let w = try Tensor.randomNormal([32, 32 / groups, 3, 3], std: 0.2, using: &rng, requiresGrad: true)
        let b = try Tensor.randomNormal([32], using: &rng, requiresGrad: true)
        // Direct tiles both ways: `.automatic` gives the batch of 6 Winograd (252 tiles) and a
        // single item direct tiles (42), which differ by Winograd's error, not by threading.
        let y = try conv2d(x, weight: w, bias: b, stride: PerAxis(stride), padding: 1, groups: groups, paddingMode: mode,
                           algorithm: .direct)
        let upstream = try Tensor.randomNormal(y.shape, using: &rng)
        try y.backward(gradient: upstream)

        let xs = try (0..<6).map { try x.detached().slice($0..<($0 + 1)) }
        for t in xs { t.requiresGrad = true }
        let w1 = w.detached(), b1 = b.detached()
        w1.requiresGrad = true
        b1.requiresGrad = true
        var outputs: [Tensor] = []
        for (i, xi) in xs.enumerated() {
            let yi = try conv2d(xi, weight: w1, bias: b1, stride: PerAxis(stride), padding: 1, groups: groups, paddingMode: mode,
                                algorithm: .direct)
            try yi.backward(gradient: try upstream.slice(i..<(i + 1)))
            outputs.append(yi)
        }
        expectClose(y, try Tensor.concatenate(outputs, axis: 0), "output")
        expectClose(x.grad, try Tensor.concatenate(xs.map { $0.grad! }, axis: 0), "grad input")
        expectClose(w.grad, w1.grad, rtol: 1e-4, atol: 1e-4, "grad weight")
        expectClose(b.grad, b1.grad, rtol: 1e-4, atol: 1e-4, "grad bias")
    }

    /// Transposed convolution runs the same kernels with the roles swapped.
    @Test func batchedTransposedConvolutionMatchesItemByItem() throws {
        var rng = SeededGenerator(seed: 12)
        let x = try Tensor.randomNormal([4, 16, 12, 12], using: &rng, requiresGrad: true)
        let w = try Tensor.randomNormal([16, 8, 3, 3], std: 0.2, using: &rng, requiresGrad: true)
        let y = try convTranspose2d(x, weight: w, stride: 2, padding: 1, outputPadding: 1)
        try y.sum().backward()
        var total = try Tensor.zeros(w.shape)
        for i in 0..<4 {
            let xi = try x.detached().slice(i..<(i + 1))
            let wi = w.detached()
            wi.requiresGrad = true
            let yi = try convTranspose2d(xi, weight: wi, stride: 2, padding: 1, outputPadding: 1)
            expectClose(try y.slice(i..<(i + 1)), yi, "output \(i)")
            try yi.sum().backward()
            total = try total + wi.grad!
        }
        expectClose(w.grad, total, rtol: 1e-4, atol: 1e-4, "grad weight")
    }

    /// Pooling splits planes across workers for large inputs; single items stay on one.
    @Test func batchedPoolingMatchesItemByItem() throws {
        var rng = SeededGenerator(seed: 13)
        let x = try Tensor.randomNormal([8, 32, 34, 34], using: &rng, requiresGrad: true)
        let pools: [(String, (Tensor) throws -> Tensor)] = [
            ("max", { try maxPool2d($0, kernelSize: 3, stride: 2, padding: 1, ceilMode: true) }),
            ("avg", { try avgPool2d($0, kernelSize: 3, stride: 2, padding: 1, countIncludePad: false) }),
        ]
        for (name, pool) in pools {
            x.zeroGrad()
            let y = try pool(x)
            let upstream = try Tensor.randomNormal(y.shape, using: &rng)
            try y.backward(gradient: upstream)
            for i in [0, 5, 7] {
                let xi = try x.detached().slice(i..<(i + 1))
                xi.requiresGrad = true
                let yi = try pool(xi)
                try yi.backward(gradient: try upstream.slice(i..<(i + 1)))
                expectClose(try y.slice(i..<(i + 1)), yi, "\(name) output \(i)")
                expectClose(try x.grad!.slice(i..<(i + 1)), xi.grad, "\(name) grad input \(i)")
            }
        }
    }

    /// Depthwise convolution (direct kernel) against one single-channel convolution per
    /// channel (the im2col + GEMM path), for both ranks and every padding mode.
    @Test(arguments: [(2, PaddingMode.zeros), (2, .reflect), (1, .circular), (1, .replicate)])
    func depthwiseMatchesPerChannelConvolution(rank: Int, mode: PaddingMode) throws {
        var rng = SeededGenerator(seed: 14)
        let size = rank == 2 ? [13, 11] : [29]
        let kernel = rank == 2 ? [3, 2] : [4]
        let x = try Tensor.randomNormal([3, 6] + size, using: &rng, requiresGrad: true)
        let w = try Tensor.randomNormal([6, 1] + kernel, using: &rng, requiresGrad: true)
        let b = try Tensor.randomNormal([6], using: &rng, requiresGrad: true)
        let padding = Padding.explicit(before: rank == 2 ? [2, 1] : [3], after: rank == 2 ? [1, 0] : [2])
        let conv = { (x: Tensor, w: Tensor, b: Tensor, groups: Int) throws -> Tensor in
            rank == 2
                ? try conv2d(x, weight: w, bias: b, stride: [2, 1], padding: padding, dilation: [1, 2], groups: groups, paddingMode: mode)
                : try conv1d(x, weight: w, bias: b, stride: 2, padding: padding, dilation: 2, groups: groups, paddingMode: mode)
        }
        let y = try conv(x, w, b, 6)
        let upstream = try Tensor.randomNormal(y.shape, using: &rng)
        try y.backward(gradient: upstream)
        for ch in [0, 4, 5] {
            let xc = try x.detached().slice(axis: 1, ch..<(ch + 1)), wc = try w.detached().slice(ch..<(ch + 1))
            let bc = try b.detached().slice(ch..<(ch + 1))
            for t in [xc, wc, bc] { t.requiresGrad = true }
            let yc = try conv(xc, wc, bc, 1)
            try yc.backward(gradient: try upstream.slice(axis: 1, ch..<(ch + 1)))
            expectClose(try y.slice(axis: 1, ch..<(ch + 1)), yc, "output channel \(ch)")
            expectClose(try x.grad!.slice(axis: 1, ch..<(ch + 1)), xc.grad, "grad input channel \(ch)")
            expectClose(try w.grad!.slice(ch..<(ch + 1)), wc.grad, "grad weight channel \(ch)")
            expectClose(try b.grad!.slice(ch..<(ch + 1)), bc.grad, "grad bias channel \(ch)")
        }
    }

    /// Rows wide enough for the whole-plane depthwise kernels (zero padding through masked loads;
    /// tiles of 1–4 vectors × 2–8 rows, a masked tail, rows and columns that read only padding) at
    /// strides 1 and 2, 3×3, 5×5, 7×7 (ConvNeXt) and 2×4 kernels (the weight gradient's one-pass
    /// 3×3, kernel-row and tap-at-a-time sums), dilation, padding wider than the kernel, the
    /// flipped input gradient (stride 1, zeros) and the scatter one (stride 2, reflect); rows of
    /// other padding modes (the row passes over a column table); and small zero-padded planes
    /// (EfficientNet's 7² and 14²; rows under 12 wide run on a padded copy, at stride 1 as one flat row).
    @Test(arguments: [
        ([9, 70], [3, 3], [1, 2], [1, 1], 1, PaddingMode.zeros), ([9, 70], [3, 3], [2, 2], [1, 1], 1, .zeros),
        ([8, 53], [5, 5], [1, 1], [2, 2], 1, .zeros), ([7, 67], [3, 3], [2, 2], [1, 2], 2, .zeros),
        ([6, 41], [3, 3], [2, 2], [1, 1], 1, .reflect), ([6, 38], [3, 3], [1, 1], [1, 1], 1, .replicate),
        ([7, 7], [5, 5], [1, 1], [2, 2], 1, .zeros), ([14, 14], [3, 3], [1, 1], [1, 1], 1, .zeros),
        ([11, 9], [3, 3], [1, 1], [2, 2], 2, .zeros), ([14, 14], [5, 5], [2, 2], [2, 2], 1, .zeros),
        ([40, 20], [3, 3], [1, 1], [1, 0], 1, .zeros), ([5, 12], [3, 5], [1, 1], [1, 2], 1, .zeros),
        ([9, 30], [7, 7], [1, 1], [3, 3], 1, .zeros), ([6, 33], [2, 4], [2, 1], [0, 1], 1, .zeros),
        ([5, 20], [3, 3], [1, 2], [4, 5], 1, .zeros), ([17, 131], [3, 3], [1, 1], [1, 1], 1, .zeros),
        ([13, 45], [3, 3], [2, 1], [1, 1], 1, .zeros), ([25, 17], [3, 3], [1, 1], [0, 0], 1, .zeros),
        ([22, 40], [3, 3], [2, 2], [0, 1], 1, .zeros),
    ])
    func wideDepthwiseRowsMatchPerChannelConvolution(size: [Int], kernel: [Int], stride: [Int], padding: [Int],
                                                    dilation: Int, mode: PaddingMode) throws {
        var rng = SeededGenerator(seed: 21)
        let x = try Tensor.randomNormal([2, 5] + size, using: &rng, requiresGrad: true)
        let w = try Tensor.randomNormal([5, 1] + kernel, using: &rng, requiresGrad: true)
        let conv = { (x: Tensor, w: Tensor, groups: Int) throws -> Tensor in
            try conv2d(x, weight: w, stride: PerAxis(stride), padding: .explicit(before: padding, after: padding), dilation: PerAxis(dilation),
                       groups: groups, paddingMode: mode)
        }
        let y = try conv(x, w, 5)
        let upstream = try Tensor.randomNormal(y.shape, using: &rng)
        try y.backward(gradient: upstream)
        for ch in [0, 3] {
            let xc = try x.detached().slice(axis: 1, ch..<(ch + 1)), wc = try w.detached().slice(ch..<(ch + 1))
            for t in [xc, wc] { t.requiresGrad = true }
            let yc = try conv(xc, wc, 1)
            try yc.backward(gradient: try upstream.slice(axis: 1, ch..<(ch + 1)))
            expectClose(try y.slice(axis: 1, ch..<(ch + 1)), yc, "output channel \(ch)")
            expectClose(try x.grad!.slice(axis: 1, ch..<(ch + 1)), xc.grad, "grad input channel \(ch)")
            expectClose(try w.grad!.slice(ch..<(ch + 1)), wc.grad, "grad weight channel \(ch)")
        }
    }

    /// The input and weight gradients computed together (one pass per depthwise plane) equal
    /// each computed alone (separate passes), bit for bit.
    @Test(arguments: [([3, 3], [1, 1], [1, 1]), ([3, 3], [2, 2], [1, 1]), ([5, 5], [1, 1], [2, 2]), ([3, 3], [2, 1], [0, 1])])
    func depthwiseGradientsTogetherEqualAlone(kernel: [Int], stride: [Int], padding: [Int]) throws {
        var rng = SeededGenerator(seed: 23)
        let x = try Tensor.randomNormal([3, 6, 19, 37], using: &rng), w = try Tensor.randomNormal([6, 1] + kernel, using: &rng)
        let run = { (xGrad: Bool, wGrad: Bool) throws -> (Tensor?, Tensor?) in
            let (xc, wc) = (x.detached(), w.detached())
            (xc.requiresGrad, wc.requiresGrad) = (xGrad, wGrad)
            let y = try conv2d(xc, weight: wc, stride: PerAxis(stride), padding: .explicit(before: padding, after: padding), groups: 6)
            var r = SeededGenerator(seed: 5)
            try y.backward(gradient: try Tensor.randomNormal(y.shape, using: &r))
            return (xc.grad, wc.grad)
        }
        let both = try run(true, true), input = try run(true, false).0, weight = try run(false, true).1
        #expect(both.0!.scalars == input!.scalars)
        #expect(both.1!.scalars == weight!.scalars)
    }

    /// A large result that no one else holds goes back to `FreshStorage` when its tensor is
    /// released, and the next result of its size is written into it (values as computed).
    @Test func releasedLargeResultsAreReused() throws {
        #if os(Linux)
        let n = FreshStorage.keptMinimum + 4_567
        let a = Tensor([Float](repeating: 1.5, count: n))
        var sum: Tensor? = try a + a
        let storage = sum!.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        sum = nil
        #expect(FreshStorage.keptCounts.contains(n))
        let product = try a * a
        #expect(product.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } == storage)
        #expect(product.scalars.allSatisfy { $0 == 2.25 })
        // Scalars a caller still holds are not taken.
        var held: Tensor? = try a - a
        let copy = held!.scalars
        held = nil
        #expect(!FreshStorage.keptCounts.contains(n) && copy.allSatisfy { $0 == 0 })
        #endif
    }

    /// A recorded convolution's backward keeps its inputs, not its output (unless a fused
    /// activation's mask needs it), so a large output goes back to `FreshStorage` when released:
    /// kept by the backward, it was freed instead and the next one faulted in afresh (a quarter
    /// of a depthwise backward row's profile in the kernel's page clearing).
    @Test func recordedConvolutionOutputsAreReused() throws {
        #if os(Linux)
        let side = 2_900, n = side * side
        #expect(n >= FreshStorage.keptMinimum)
        let x = try Tensor(shape: [1, 1, side, side], scalars: [Float](repeating: 0.5, count: n))
        x.requiresGrad = true
        let w = try Tensor(shape: [1, 1, 3, 3], scalars: [Float](repeating: 0.25, count: 9))
        var y: Tensor? = try conv2d(x, weight: w, padding: .symmetric(1))
        #expect(y?.gradFunction == "conv2d")
        y = nil
        #expect(FreshStorage.keptCounts.contains(n))
        #endif
    }

    /// Transposed depthwise convolution runs the direct kernel's adjoint.
    @Test func depthwiseTransposedMatchesPerChannel() throws {
        var rng = SeededGenerator(seed: 15)
        let x = try Tensor.randomNormal([2, 4, 5, 6], using: &rng, requiresGrad: true)
        let w = try Tensor.randomNormal([4, 1, 3, 3], using: &rng, requiresGrad: true)
        let y = try convTranspose2d(x, weight: w, stride: 2, padding: 1, outputPadding: 1, groups: 4)
        try y.sum().backward()
        for ch in 0..<4 {
            let xc = try x.detached().slice(axis: 1, ch..<(ch + 1)), wc = try w.detached().slice(ch..<(ch + 1))
            for t in [xc, wc] { t.requiresGrad = true }
            let yc = try convTranspose2d(xc, weight: wc, stride: 2, padding: 1, outputPadding: 1)
            try yc.sum().backward()
            expectClose(try y.slice(axis: 1, ch..<(ch + 1)), yc, "output channel \(ch)")
            expectClose(try x.grad!.slice(axis: 1, ch..<(ch + 1)), xc.grad, "grad input channel \(ch)")
            expectClose(try w.grad!.slice(ch..<(ch + 1)), wc.grad, "grad weight channel \(ch)")
        }
    }
}
