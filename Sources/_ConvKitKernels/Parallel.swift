
/// A pointer that worker threads may share because each writes a disjoint region.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    init(_ base: UnsafePointer<T>) { self.base = UnsafeMutablePointer(mutating: base) }
}

enum Parallel {
    /// Elements below which a memory-bound pass (ReLU, a bias gradient) stays on one thread:
    /// handing a chunk to another one costs a few microseconds even when it is spinning.
    static let memoryPassThreshold = 1 << 18

    /// Workers for a memory-bound pass over `count` elements.
    static func memoryPassWorkers(_ count: Int) -> Int { count >= memoryPassThreshold ? MicroKernel.threads : 1 }

    /// Elements below which a pass with an exponential per element (SiLU: about 1.3 cycles an
    /// element at AVX-512, 20 times a ReLU's) stays on one thread: 16 Ki elements are ~7 µs.
    static let arithmeticPassThreshold = 1 << 14

    /// Workers for a pass over `count` elements that costs an exponential each.
    static func arithmeticPassWorkers(_ count: Int) -> Int { count >= arithmeticPassThreshold ? MicroKernel.threads : 1 }

    /// Splits `0..<count` into at most `workers` (default: one per core) contiguous chunks
    /// and runs `body(chunk, worker)` on each, in parallel when there is more than one chunk
    /// (on the `WorkerPool`'s threads; `worker` is the chunk's index, so per-worker scratch
    /// indexed by it is never shared).
    static func forEachChunk(_ count: Int, workers: Int = MicroKernel.threads,
                             _ body: @Sendable (Range<Int>, Int) -> Void) {
        let t = max(1, min(workers, count))
        if t == 1 {
            body(0..<count, 0)
            return
        }
        WorkerPool.shared.run(chunks: t) { w in
            body((count * w / t)..<(count * (w + 1) / t), w)
        }
    }
}
