import ConvKit
import Foundation
import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// Property-based sweeps over random convolution and pooling geometries (rank 1 and 2, empty
/// batches, groups, dilation, every padding mode, ceil mode, invalid values): every valid one
/// must match a direct loop written from the definition, and every invalid one must throw a
/// `ConvKitError`, never trap. Case `i` of a sweep is reproducible from its seed alone.
@Suite struct GeometrySweepTests {
    static let cases = 1000

    // MARK: Convolution

    struct ConvCase: CustomStringConvertible {
        var rank = 1, batch = 1, groups = 1, perGroupIn = 1, perGroupOut = 1
        var size: [Int] = [], kernel: [Int] = [], stride: [Int] = [], dilation: [Int] = [], padding: [Int] = []
        var mode = PaddingMode.zeros
        var description: String {
            "rank \(rank) N \(batch) groups \(groups) C \(groups * perGroupIn) K \(groups * perGroupOut) size \(size) "
                + "kernel \(kernel) stride \(stride) dilation \(dilation) padding \(padding) \(mode)"
        }

        init(seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            rank = Int.random(in: 1...2, using: &g)
            batch = Int.random(in: 0...3, using: &g)
            groups = Int.random(in: 1...3, using: &g)
            perGroupIn = Int.random(in: 1...2, using: &g)
            perGroupOut = Int.random(in: 1...2, using: &g)
            var axes = AxisDraw(generator: g, rank: rank)
            size = axes.values(1...9)
            kernel = axes.values(1...4)
            stride = axes.mostly(atLeast: 1, 0...3)
            dilation = axes.mostly(atLeast: 1, 0...3)
            padding = axes.mostly(atLeast: 0, -1...3)
            mode = PaddingMode.allCases.randomElement(using: &axes.generator)!
        }

        /// PyTorch's rules: positive stride and dilation, non-negative padding, a dilated kernel
        /// that fits the padded input, reflect padding below the size, circular at most the size.
        var isValid: Bool {
            (0..<rank).allSatisfy { a in
                let positive = stride[a] >= 1 && dilation[a] >= 1 && padding[a] >= 0
                let fits: Bool = size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1 >= 0
                let reflectOK = mode != .reflect || padding[a] < size[a]
                let circularOK = mode != .circular || padding[a] <= size[a]
                return positive && fits && reflectOK && circularOK
            }
        }

        var outputSize: [Int] {
            (0..<rank).map { a in (size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) / stride[a] + 1 }
        }

        /// out[n, k, o] = bias[k] + Σ_{c in k's group} Σ_t x[n, c, source(o·s − p + t·d)] · w[k, c, t]
        func direct(_ x: [Float], _ w: [Float], _ bias: [Float]) -> [Float] {
            let g = ConvGeometry(batch: batch, inChannels: groups * perGroupIn, outChannels: groups * perGroupOut, groups: groups,
                                 inputSize: size, kernelSize: kernel, stride: stride, dilation: dilation,
                                 padBefore: padding, padAfter: padding, paddingMode: mode)
            return ReferenceConvolution.forward(g, x: x, w: w, bias: bias)
        }
    }

    // MARK: Pooling

    struct PoolCase: CustomStringConvertible {
        var rank = 1, batch = 1, channels = 1
        var size: [Int] = [], kernel: [Int] = [], stride: [Int] = [], dilation: [Int] = [], padding: [Int] = []
        var ceilMode = false, countIncludePad = true, max = true
        var description: String {
            "\(max ? "max" : "avg") rank \(rank) N \(batch) C \(channels) size \(size) kernel \(kernel) stride \(stride) "
                + "dilation \(dilation) padding \(padding) ceil \(ceilMode) countIncludePad \(countIncludePad)"
        }

        init(seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            rank = Int.random(in: 1...2, using: &g)
            batch = Int.random(in: 0...2, using: &g)
            channels = Int.random(in: 1...3, using: &g)
            max = Bool.random(using: &g)
            var axes = AxisDraw(generator: g, rank: rank)
            size = axes.values(1...9)
            kernel = axes.values(1...4)
            stride = axes.mostly(atLeast: 1, 0...3)
            dilation = max ? axes.values(1...3) : [Int](repeating: 1, count: rank)
            padding = axes.mostly(atLeast: 0, -1...2)
            ceilMode = Bool.random(using: &axes.generator)
            countIncludePad = Bool.random(using: &axes.generator)
        }

        /// Output length as PyTorch (`pooling_output_shape`): a last window that would start in
        /// the right padding is dropped in ceil mode.
        func outputLength(_ a: Int) -> Int {
            let span = size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1
            var out = (ceilMode ? (span + stride[a] - 1) / stride[a] : span / stride[a]) + 1
            if ceilMode && (out - 1) * stride[a] >= size[a] + padding[a] { out -= 1 }
            return out
        }

        /// PyTorch's rules: positive stride, padding at most half the kernel size (undilated,
        /// for max pooling too), output ≥ 1.
        var isValid: Bool {
            (0..<rank).allSatisfy { a in
                let positive = stride[a] >= 1 && padding[a] >= 0 && padding[a] <= kernel[a] / 2
                let fits: Bool = size[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1 >= 0
                return positive && fits && outputLength(a) >= 1
            }
        }

        /// Direct loops; for max pooling also the flat input index each output came from.
        func direct(_ x: [Float]) -> (values: [Float], sources: [Int]) {
            let (h, w) = rank == 2 ? (size[0], size[1]) : (1, size[0])
            let (oh, ow) = rank == 2 ? (outputLength(0), outputLength(1)) : (1, outputLength(0))
            let (kh, kw) = rank == 2 ? (kernel[0], kernel[1]) : (1, kernel[0])
            let (sh, sw) = rank == 2 ? (stride[0], stride[1]) : (1, stride[0])
            let (dh, dw) = rank == 2 ? (dilation[0], dilation[1]) : (1, dilation[0])
            let (ph, pw) = rank == 2 ? (padding[0], padding[1]) : (0, padding[0])
            var values: [Float] = [], sources: [Int] = []
            for plane in 0..<(batch * channels) {
                for i in 0..<oh {
                    for j in 0..<ow {
                        if max {
                            var best = -Float.infinity, at = -1
                            for a in 0..<kh {
                                let r = i * sh - ph + a * dh
                                for b in 0..<kw {
                                    let q = j * sw - pw + b * dw
                                    guard (0..<h).contains(r), (0..<w).contains(q) else { continue }
                                    let index = (plane * h + r) * w + q
                                    if x[index] > best || at < 0 { (best, at) = (x[index], index) }
                                }
                            }
                            values.append(best)
                            sources.append(at)
                        } else {
                            // avg_pool: the divisor counts the window clipped to the padded input
                            // (countIncludePad) or to the input itself.
                            let (r0, q0) = (i * sh - ph, j * sw - pw)
                            let (r1, q1) = (Swift.min(r0 + kh, h + ph), Swift.min(q0 + kw, w + pw))
                            let padded = (r1 - r0) * (q1 - q0)
                            let (ra, qa, rb, qb) = (Swift.max(r0, 0), Swift.max(q0, 0), Swift.min(r1, h), Swift.min(q1, w))
                            var sum: Double = 0
                            for r in ra..<Swift.max(rb, ra) { for q in qa..<Swift.max(qb, qa) { sum += Double(x[(plane * h + r) * w + q]) } }
                            let inside = Swift.max(rb - ra, 0) * Swift.max(qb - qa, 0)
                            values.append(Float(sum / Double(countIncludePad ? padded : inside)))
                        }
                    }
                }
            }
            return (values, sources)
        }
    }

    @Test func poolingMatchesTheDefinitionOrThrows() throws {
        var valid = 0, refused = 0
        for i in 0..<Self.cases {
            let t = PoolCase(seed: UInt64(9000 + i))
            var g = SeededGenerator(seed: UInt64(13000 + i))
            let x = try Tensor.randomNormal([t.batch, t.channels] + t.size, using: &g, requiresGrad: true)
            let run = {
                switch (t.max, t.rank) {
                case (true, 1): try maxPool1d(x, kernelSize: PerAxis(t.kernel), stride: PerAxis(t.stride), padding: PerAxis(t.padding),
                                              dilation: PerAxis(t.dilation), ceilMode: t.ceilMode)
                case (true, _): try maxPool2d(x, kernelSize: PerAxis(t.kernel), stride: PerAxis(t.stride), padding: PerAxis(t.padding),
                                              dilation: PerAxis(t.dilation), ceilMode: t.ceilMode)
                case (false, 1): try avgPool1d(x, kernelSize: PerAxis(t.kernel), stride: PerAxis(t.stride), padding: PerAxis(t.padding),
                                               ceilMode: t.ceilMode, countIncludePad: t.countIncludePad)
                case (false, _): try avgPool2d(x, kernelSize: PerAxis(t.kernel), stride: PerAxis(t.stride), padding: PerAxis(t.padding),
                                               ceilMode: t.ceilMode, countIncludePad: t.countIncludePad)
                }
            }
            guard t.isValid else {
                #expect(throws: ConvKitError.self, "case \(i) (\(t)) is invalid in PyTorch but ran") { _ = try run() }
                refused += 1
                continue
            }
            let y = try run()
            valid += 1
            #expect(y.shape == [t.batch, t.channels] + (0..<t.rank).map(t.outputLength), "case \(i) (\(t))")
            let (expected, sources) = t.direct(x.scalars)
            #expect(maxRelativeError(y.scalars, expected) < 1e-5, "case \(i) (\(t)): output differs from the direct loop")
            let upstream = try Tensor.randomNormal(y.shape, using: &g)
            try y.backward(gradient: upstream)
            if t.max {
                // Each output's gradient goes to the input its maximum came from.
                var grad = [Float](repeating: 0, count: x.count)
                for (o, source) in sources.enumerated() where source >= 0 { grad[source] += upstream.scalars[o] }
                #expect(maxRelativeError(x.grad?.scalars ?? [], grad) < 1e-5, "case \(i) (\(t)): input gradient")
            } else {
                let plain = zip(expected, upstream.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let scale = zip(expected, upstream.scalars).reduce(1.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                #expect(abs(dot(x.scalars, x.grad?.scalars ?? []) - plain) < 1e-5 * scale, "case \(i) (\(t)): input gradient")
            }
        }
        #expect(valid > Self.cases / 3 && refused > Self.cases / 10, "valid \(valid), refused \(refused)")
    }
}

/// Per-axis draws for a random geometry.
private struct AxisDraw {
    var generator: SeededGenerator
    let rank: Int

    mutating func values(_ range: ClosedRange<Int>) -> [Int] { (0..<rank).map { _ in Int.random(in: range, using: &generator) } }

    /// Mostly valid values: one below `floor` is kept one time in four (an invalid value that
    /// must be refused) and raised to `floor` otherwise.
    mutating func mostly(atLeast floor: Int, _ range: ClosedRange<Int>) -> [Int] {
        values(range).map { $0 < floor && Int.random(in: 0..<4, using: &generator) > 0 ? floor : $0 }
    }
}

private func dot(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// max |a − b| / (1 + |b|), or infinity when the counts differ.
private func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(Float(0)) { Swift.max($0, abs($1.0 - $1.1) / (1 + abs($1.1))) }
}
