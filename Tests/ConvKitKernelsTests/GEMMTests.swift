import Testing
import _ConvKitKernels
import _ConvKitTestSupport

@Suite struct GEMMTests {
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

    typealias GEMM = @Sendable (Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                      Float, UnsafeMutablePointer<Float>, Int) -> Void
    static let implementations: [String: GEMM] = [
        "gemm": { gemm(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7, b: $8, ldb: $9, beta: $10, c: $11, ldc: $12) },
        "referenceGEMM": { referenceGEMM(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7, b: $8, ldb: $9, beta: $10, c: $11, ldc: $12) },
        "packedGEMM": { packedGEMM(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7, b: $8, ldb: $9, beta: $10, c: $11, ldc: $12) },
    ]

    /// dotGEMM (A · Bᵀ only): k tails of 1–15 (masked loads; 16 lanes on AVX-512, 8 on AVX2),
    /// whole vectors only (k = 16), several k blocks (≤ 768 each),
    /// 3 × 4 tile remainders in m and n, the threaded split by columns and by rows, a strided
    /// C whose extra columns must stay untouched, and beta 0 over garbage.
    @Test(arguments: [(1, 1, 1), (2, 3, 9), (3, 4, 8), (3, 4, 16), (4, 5, 31), (5, 7, 385), (32, 9, 784), (7, 13, 1601),
                      (64, 290, 200), (300, 10, 1000)])
    func dotGEMMMatchesNaiveProduct(size: (Int, Int, Int)) {
        guard MicroKernel.isAvailable else { return }
        let (m, n, k) = size, ldc = n + 3
        for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
            let a = TestRandom.values(m * k, seed: 7), b = TestRandom.values(n * k, seed: 8)
            var c = TestRandom.values(m * ldc, seed: 9)
            let dense = (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + n)] }
            let expected = Self.naive(false, true, m, n, k, alpha, a, b, beta, dense)
            let before = c
            if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } } }
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                dotGEMM(m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                        beta: beta, c: pc.baseAddress!, ldc: ldc)
            }}}
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    let (x, e) = (c[i * ldc + j], expected[i * n + j])
                    worst = max(worst, x.isNaN ? .infinity : Swift.abs(x - e) / (1 + Swift.abs(e)))
                }
                #expect(c[(i * ldc + n)..<((i + 1) * ldc)] == before[(i * ldc + n)..<((i + 1) * ldc)])
            }
            #expect(worst < 2e-5, "dotGEMM m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta): error \(worst)")
        }
    }

    /// Sizes hit tile remainders in every direction, several k blocks (kc = 256), several
    /// m blocks and the threaded path (m·n·k ≥ 2²¹), split by columns (101 × 150) and by
    /// rows (301 × 40).
    @Test(arguments: ["gemm", "referenceGEMM", "packedGEMM"],
          [(1, 1, 1), (3, 5, 7), (6, 16, 4), (12, 32, 9), (17, 33, 9), (9, 300, 270), (70, 5, 513), (101, 150, 290),
           (301, 40, 200)])
    func matchesNaiveProduct(implementation: String, size: (Int, Int, Int)) throws {
        if implementation == "packedGEMM" && !MicroKernel.isAvailable { return }  // no SIMD kernel on this CPU
        let f = try #require(Self.implementations[implementation])
        let (m, n, k) = size
        let big = m * n * k > 1_000_000
        for (ta, tb) in big ? [(false, false), (true, true)] : [(false, false), (true, false), (false, true), (true, true)] {
            for (alpha, beta) in big ? [(Float(-2), Float(0.25))] : [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                let a = TestRandom.values(m * k, seed: 1), b = TestRandom.values(k * n, seed: 2)
                var c = TestRandom.values(m * n, seed: 3)
                let expected = Self.naive(ta, tb, m, n, k, alpha, a, b, beta, c)
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    f(ta, tb, m, n, k, alpha, pa.baseAddress!, ta ? m : k, pb.baseAddress!, tb ? k : n, beta, pc.baseAddress!, n)
                }}}
                let worst = zip(c, expected).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
                #expect(worst < 2e-5, "\(implementation) m \(m) n \(n) k \(k) ta \(ta) tb \(tb) alpha \(alpha) beta \(beta): error \(worst)")
            }
        }
    }

    /// A row bias is added to every element of its row, on every path (packed with stored
    /// tiles, packed edge tiles, dot products, reference) and for beta 0 over garbage, 1 and
    /// another value, threaded or not.
    @Test(arguments: [(1, 1, 1), (5, 20, 9), (32, 784, 9), (13, 37, 300), (64, 300, 200), (6, 5, 400), (40, 8, 800)])
    func rowBiasIsAddedPerRow(size: (Int, Int, Int)) {
        let (m, n, k) = size
        let bias = TestRandom.values(m, seed: 10)
        for tb in [false, true] {
            for beta: Float in [0, 1, 0.25] {
                let a = TestRandom.values(m * k, seed: 11), b = TestRandom.values(k * n, seed: 12)
                var c = TestRandom.values(m * n, seed: 13)
                var expected = Self.naive(false, tb, m, n, k, 1, a, b, beta, c)
                for i in 0..<m { for j in 0..<n { expected[i * n + j] += bias[i] } }
                if beta == 0 { c = [Float](repeating: .nan, count: m * n) }
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in bias.withUnsafeBufferPointer { pbias in
                        gemm(transposeA: false, transposeB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                             b: pb.baseAddress!, ldb: tb ? k : n, beta: beta, c: pc.baseAddress!, ldc: n,
                             rowBias: pbias.baseAddress!)
                    }}
                }}
                let worst = zip(c, expected).map { $0.isNaN ? .infinity : Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
                #expect(worst < 2e-5, "m \(m) n \(n) k \(k) tb \(tb) beta \(beta): error \(worst)")
            }
        }
    }

    /// The packed path and the reference path agree on a strided C (ldc > n).
    @Test func packedMatchesReferenceWithLeadingDimensions() throws {
        guard MicroKernel.isAvailable else { return }
        let (m, n, k, ldc) = (29, 45, 300, 50)
        let a = TestRandom.values(m * k, seed: 4), b = TestRandom.values(k * n, seed: 5)
        var c1 = TestRandom.values(m * ldc, seed: 6)
        var c2 = c1
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            c1.withUnsafeMutableBufferPointer { pc in
                packedGEMM(transposeA: false, transposeB: false, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                           b: pb.baseAddress!, ldb: n, beta: 1, c: pc.baseAddress!, ldc: ldc)
            }
            c2.withUnsafeMutableBufferPointer { pc in
                referenceGEMM(transposeA: false, transposeB: false, m: m, n: n, k: k, a: pa.baseAddress!, lda: k,
                              b: pb.baseAddress!, ldb: n, beta: 1, c: pc.baseAddress!, ldc: ldc)
            }
        }}
        let worst = zip(c1, c2).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
        #expect(worst < 2e-5)
        // Columns past n are untouched.
        for i in 0..<m { #expect(c1[(i * ldc + n)..<((i + 1) * ldc)] == c2[(i * ldc + n)..<((i + 1) * ldc)]) }
    }

    /// A packed once (`PackedA`) gives the same bits as A packed inside the product: every k
    /// block (k up to 1,000, blocks of at most 384), partial row panels, Aᵀ, alpha, bias, one or
    /// several threads (columns split with the panels shared, rows split packing their own).
    @Test(arguments: [(1, 40, 5), (13, 70, 400), (40, 33, 800), (200, 20, 1000), (12, 640, 300)])
    func prepackedAGivesTheSameBits(size: (Int, Int, Int)) throws {
        guard MicroKernel.isAvailable else { return }
        let (m, n, k) = size
        let a = TestRandom.values(m * k, seed: 7), b = TestRandom.values(k * n, seed: 8), bias = TestRandom.values(m, seed: 9)
        for (transposeA, threaded) in [(false, false), (true, false), (false, true), (true, true)] {
            var plain = [Float](repeating: .nan, count: m * n), reused = plain
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in bias.withUnsafeBufferPointer { pbias in
                let lda = transposeA ? m : k
                packedGEMM(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda,
                           b: pb.baseAddress!, ldb: n, beta: 0, c: &plain, ldc: n, rowBias: pbias.baseAddress!, threaded: threaded)
                let packed = PackedA(transposeA: transposeA, m: m, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda)!
                defer { packed.deallocate() }
                packedGEMM(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda,
                           b: pb.baseAddress!, ldb: n, beta: 0, c: &reused, ldc: n, rowBias: pbias.baseAddress!, threaded: threaded,
                           packedA: packed)
            }}}
            #expect(plain == reused && !plain.contains { $0.isNaN }, "\(size) transposeA \(transposeA) threaded \(threaded)")
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
