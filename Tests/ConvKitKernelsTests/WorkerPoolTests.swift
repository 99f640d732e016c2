import Dispatch
import Synchronization
import Testing
import _ConvKitKernels
import Foundation

/// The persistent worker pool runs every chunk exactly once, whether its helpers are spinning,
/// asleep (after a pause longer than their spin), asked from inside a region (nested: the
/// inner region goes to `concurrentPerform`), or asked from several threads at once.
@Suite struct WorkerPoolTests {
    /// Runs `chunks` chunks on `pool`, each adding its index + 1 to its own slot.
    static func counts(_ pool: WorkerPool, chunks: Int) -> [Int] {
        let slots = Mutex([Int](repeating: 0, count: chunks))
        pool.run(chunks: chunks) { i in slots.withLock { $0[i] += i + 1 } }
        return slots.withLock { $0 }
    }

    @Test func everyChunkRunsOnce() {
        let pool = WorkerPool(helpers: 3)
        for chunks in [1, 2, 3, 4, 7, 64, 1000] {
            #expect(Self.counts(pool, chunks: chunks) == (1...chunks).map { $0 }, "\(chunks) chunks")
        }
        // Many short regions back to back (helpers spinning), then one after they slept.
        for _ in 0..<2000 { #expect(Self.counts(pool, chunks: 2) == [1, 2]) }
        Thread.sleep(forTimeInterval: Double(WorkerPool.spinNanoseconds) / 1e9 * 5)
        #expect(Self.counts(pool, chunks: 5) == [1, 2, 3, 4, 5])
    }

    @Test func nestedAndConcurrentRegions() {
        let pool = WorkerPool(helpers: 1)
        let total = Atomic<Int>(0)
        pool.run(chunks: 4) { _ in
            pool.run(chunks: 3) { j in total.wrappingAdd(j + 1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 6)
        let sums = Mutex([Int](repeating: 0, count: 8))
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for _ in 0..<200 {
                pool.run(chunks: 5) { i in sums.withLock { $0[t] += i } }
            }
        }
        #expect(sums.withLock { $0 } == [Int](repeating: 200 * 10, count: 8))
    }
}
