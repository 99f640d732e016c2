import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// The broadcast kernel merges axes into rows; these check it against an element-by-element
/// walk of the broadcast (multi-index → each operand's flat index) on random shape pairs,
/// including size-1 and size-0 axes, scalars, operands of lower rank, and outputs large enough
/// to be split across cores mid-row.
@Suite struct BroadcastKernelTests {
    /// Flat index into `shape` (aligned on the last axes, size-1 axes held) of output multi-index `index`.
    static func source(_ index: [Int], _ shape: [Int]) -> Int {
        let offset = index.count - shape.count
        var flat = 0
        for axis in shape.indices { flat = flat * shape[axis] + (shape[axis] == 1 ? 0 : index[axis + offset]) }
        return flat
    }

    /// Every multi-index of `shape`, row-major.
    static func indices(_ shape: [Int]) -> [[Int]] {
        shape.reduce([[]]) { partial, size in partial.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
    }

    /// A random output shape and two operand shapes that broadcast to it.
    static func shapes(_ random: inout TestRandom, large: Bool) -> (out: [Int], a: [Int], b: [Int]) {
        let rank = large ? 2 + random.next(2) : random.next(5)
        let out = (0..<rank).map { _ in large ? 20 + random.next(80) : random.next(8) == 0 ? 0 : 1 + random.next(5) }
        func operand() -> [Int] {
            let dropped = random.next(rank + 1)
            return out.dropFirst(dropped).map { random.next(3) == 0 ? 1 : $0 }
        }
        return (out, operand(), operand())
    }

    static func values(_ shape: [Int], _ random: inout TestRandom) -> [Float] {
        (0..<shape.reduce(1, *)).map { _ in Float(random.next(2001)) / 100 - 10 + (random.next(2) == 0 ? 0.5 : 0.25) }
    }

    @Test(arguments: [false, true])
    func arithmeticMatchesTheElementwiseWalk(large: Bool) {
        var random = TestRandom(seed: large ? 71 : 72)
        for trial in 0..<(large ? 12 : 300) {
            var (out, aShape, bShape) = Self.shapes(&random, large: large)
            let total = out.reduce(1, *)
            if total == 0 { (aShape, bShape) = (out, out) }
            let a = Self.values(aShape, &random), b = Self.values(bShape, &random)
            let walk = Self.indices(out)
            let operations: [(BroadcastKernel.Operation, (Float, Float) -> Float)] = [(.add, +), (.subtract, -), (.multiply, *), (.divide, /)]
            for (operation, f) in operations {
                var got = [Float](repeating: .nan, count: total)
                BroadcastKernel.apply(operation, a: a, aShape: aShape, b: b, bShape: bShape, outShape: out, output: &got)
                let want = walk.map { f(a[Self.source($0, aShape)], b[Self.source($0, bShape)]) }
                #expect(got == want, "trial \(trial): \(operation) \(aShape) with \(bShape) → \(out)")
            }
            var expanded = [Float](repeating: .nan, count: total)
            BroadcastKernel.expand(a, shape: aShape, outShape: out, output: &expanded)
            #expect(expanded == walk.map { a[Self.source($0, aShape)] }, "trial \(trial): expand \(aShape) → \(out)")
        }
    }

    /// Summing back to an operand's shape equals adding each element to its source, in
    /// double, within float rounding of the row sums; values are quarter-integers, so small
    /// sums are exact.
    @Test(arguments: [false, true])
    func sumMatchesTheElementwiseWalk(large: Bool) {
        var random = TestRandom(seed: large ? 73 : 74)
        for trial in 0..<(large ? 12 : 300) {
            let (out, target, _) = Self.shapes(&random, large: large)
            let g = Self.values(out, &random)
            var want = [Double](repeating: 0, count: target.reduce(1, *))
            for (o, index) in Self.indices(out).enumerated() { want[Self.source(index, target)] += Double(g[o]) }
            var got = [Float](repeating: .nan, count: want.count)
            BroadcastKernel.sum(g, shape: out, to: target, output: &got)
            let scale = g.reduce(1) { $0 + abs(Double($1)) }
            #expect(zip(got, want).allSatisfy { abs(Double($0) - $1) <= 1e-6 * scale }, "trial \(trial): \(out) → \(target)")
        }
    }
}
