import Testing
import _ConvKitKernels

@Suite struct GEMMTests {
    /// Deterministic pseudo-random values in [-1, 1).
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    /// Plain triple loop in Double, the reference the blocked GEMM must match.
    static func naive(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float], _ b: [Float],
                      _ beta: Float, _ c: [Float]) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = ta ? a[p * m + i] : a[i * k + p]
                    let y = tb ? b[j * k + p] : b[p * n + j]
                    s += Double(x) * Double(y)
                }
                out[i * n + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * n + j])))
            }
        }
        return out
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 7), (4, 4, 4), (17, 33, 9), (9, 300, 270), (70, 5, 513)])
    func matchesNaiveProduct(size: (Int, Int, Int)) {
        let (m, n, k) = size
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                let a = Self.values(m * k, seed: 1), b = Self.values(k * n, seed: 2)
                var c = Self.values(m * n, seed: 3)
                let expected = Self.naive(ta, tb, m, n, k, alpha, a, b, beta, c)
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha,
                         a: pa.baseAddress!, lda: ta ? m : k, b: pb.baseAddress!, ldb: tb ? k : n,
                         beta: beta, c: pc.baseAddress!, ldc: n)
                }}}
                let worst = zip(c, expected).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
                #expect(worst < 1e-5, "m \(m) n \(n) k \(k) ta \(ta) tb \(tb) alpha \(alpha) beta \(beta): error \(worst)")
            }
        }
    }

    @Test func betaZeroIgnoresGarbageInC() {
        let a: [Float] = [1, 2], b: [Float] = [3, 4]
        var c: [Float] = [.nan]
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            gemm(transposeA: false, transposeB: false, m: 1, n: 1, k: 2, a: pa.baseAddress!, lda: 2,
                 b: pb.baseAddress!, ldb: 1, beta: 0, c: pc.baseAddress!, ldc: 1)
        }}}
        #expect(c == [11])
    }
}
