import Dispatch
import Testing
import _ConvKitKernels

/// The workspace pool lends a buffer large enough, reuses kept buffers (the smallest that
/// fits), keeps no more than its limits, and survives borrowers on several threads.
@Suite struct WorkspacePoolTests {
    @Test func lendsLargeEnoughBuffersAndReusesThem() {
        let pool = WorkspacePool(keptBuffers: 2, keptFloats: 1_000)
        let first = pool.withBuffer(count: 500) { p in
            for i in 0..<500 { p[i] = Float(i) }  // the whole requested size is writable
            return UInt(bitPattern: p)
        }
        #expect(pool.keptCapacity == [500])
        // A smaller request gets the kept buffer back, with the last user's values in it.
        let (again, value) = pool.withBuffer(count: 300) { p in (UInt(bitPattern: p), p[299]) }
        #expect(again == first && value == 299)
        // A larger one gets a new buffer; both are kept (2 buffers, 1,000 floats).
        let larger = pool.withBuffer(count: 500 + 400) { p in UInt(bitPattern: p) }
        #expect(larger != first)
        #expect(pool.keptCapacity == [900])  // 900 + 500 > 1,000: the smaller one was freed
        // The smallest buffer that fits is lent: a 100-float request next to a kept 900.
        _ = pool.withBuffer(count: 100) { _ in pool.withBuffer(count: 50) { _ in 0 } }
        #expect(pool.keptCapacity.sorted() == [50, 900])
        #expect(pool.withBuffer(count: 40) { UInt(bitPattern: $0) } != larger)  // the 50, not the 900
        // Nothing at all is kept past the float limit; a request of 0 still gets a buffer.
        pool.withBuffer(count: 5_000) { p in p[4_999] = 1 }
        #expect(pool.keptCapacity.allSatisfy { $0 <= 1_000 })
        #expect(pool.withBuffer(count: 0) { _ in true })
    }

    @Test func borrowersOnSeveralThreadsGetTheirOwnBuffers() {
        let pool = WorkspacePool(keptBuffers: 2, keptFloats: 1 << 16)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let n = 100 + i * 37
            let ok = pool.withBuffer(count: n) { p in
                for j in 0..<n { p[j] = Float(i) }
                for _ in 0..<100 { _ = p[n / 2] }
                return (0..<n).allSatisfy { p[$0] == Float(i) }  // no one else wrote into it
            }
            #expect(ok, "borrower \(i)")
        }
        #expect(pool.keptCapacity.count <= 2)
    }
}
