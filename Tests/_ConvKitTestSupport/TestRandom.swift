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
