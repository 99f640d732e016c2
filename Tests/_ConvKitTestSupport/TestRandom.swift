import _ConvKitKernels

/// Deterministic pseudo-random numbers for tests: a 64-bit linear congruential generator
/// (Knuth's MMIX multiplier), so every case is reproducible from its seed alone on every machine.
public struct TestRandom {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A value in 0..<n (from the high bits, which have the longest period).
    public mutating func next(_ n: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1
        return Int(state >> 33) % n
    }

    /// `count` values in [−1, 1] on a grid of 0.001.
    public mutating func values(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(next(2001)) / 1000 - 1 }
    }

    /// `count` values in [−1, 1) from `seed` alone (PCG's increment; the GEMM tests' numbers).
    public static func values(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }
}

extension TestRandom {
    /// A random convolution geometry for the kernels' definition tests: rank 1 + trial % 3, one or
    /// two groups, kernels of 1–3 taps on leading axes (`lastKernel` on the last), dilation 1–2,
    /// strides 1–2 on leading axes and on the last 1 (even trials) or 1–4 (odd), padding mode
    /// trial % 4 with random padding before and after, `width` outputs along the last axis (a
    /// few along the others), `batch` items, 1–6 input and `outChannels` output channels per group.
    /// May be invalid (the caller skips those).
    public mutating func convolutionGeometry(
        trial: Int, lastKernel: ClosedRange<Int>, width: ClosedRange<Int>, batch: ClosedRange<Int>, outChannels: ClosedRange<Int>
    ) -> ConvGeometry {
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + next(r.count) }
        let rank = 1 + trial % 3
        let groups = 1 + next(2)
        let kernel = (0..<rank).map { a in a == rank - 1 ? pick(lastKernel) : 1 + next(3) }
        let dilation = (0..<rank).map { _ in 1 + next(2) }
        let stride = (0..<rank).map { a in a == rank - 1 ? 1 + next(trial % 2 == 0 ? 1 : 4) : 1 + next(2) }
        let mode = PaddingMode.allCases[trial % 4]
        let padBefore = (0..<rank).map { a in next(kernel[a]) }, padAfter = (0..<rank).map { a in next(kernel[a]) }
        let outputs = pick(width)
        let size = (0..<rank).map { a in
            a == rank - 1 ? (outputs - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1 - padBefore[a] - padAfter[a] + next(stride[a])
                : dilation[a] * (kernel[a] - 1) + 1 + next(4)
        }
        return ConvGeometry(
            batch: pick(batch), inChannels: groups * (1 + next(6)), outChannels: groups * pick(outChannels),
            groups: groups, inputSize: size, kernelSize: kernel, stride: stride, dilation: dilation,
            padBefore: padBefore, padAfter: padAfter, paddingMode: mode)
    }
}
