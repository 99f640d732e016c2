import Synchronization

/// Workspace buffers kept between kernel calls. A convolution's workspace (Winograd's
/// transformed filters and per-worker slabs, the direct path's padded slab, im2col columns)
/// allocated afresh for every call came from new pages whenever it was large (glibc maps
/// allocations above its threshold, at most 32 MiB, straight from the kernel), and every page
/// then faulted on first touch: the stores of ResNet-18's Winograd filter transform, the first
/// to write its last stage's 38 MB workspace, had half of that function's samples in a batch-16
/// forward profile, and 22 % once the workspace was kept.
///
/// `withBuffer` lends the smallest kept buffer that is large enough, or allocates one; when
/// it is handed back, the pool keeps the largest buffers, at most `keptBuffers` of them and
/// `keptFloats` floats in all, and frees the rest. Contents are whatever the last user left:
/// kernels overwrite what they read. Safe to use from several threads.
public final class WorkspacePool: Sendable {
    /// The pool the convolution entry points use: two buffers, 32 Mi floats (128 MiB) at most.
    public static let shared = WorkspacePool(keptBuffers: 2, keptFloats: 1 << 25)

    /// A buffer and its size in floats.
    private struct Buffer: @unchecked Sendable {  // owned by the pool or by one borrower at a time
        let base: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    /// The most buffers and floats kept while no one borrows them.
    public let keptBuffers: Int, keptFloats: Int
    private let kept = Mutex<[Buffer]>([])

    /// A pool that keeps at most `keptBuffers` buffers of `keptFloats` floats in all.
    public init(keptBuffers: Int, keptFloats: Int) {
        (self.keptBuffers, self.keptFloats) = (max(0, keptBuffers), max(0, keptFloats))
    }

    deinit { kept.withLock { $0.forEach { $0.base.deallocate() } } }

    /// Runs `body` with a buffer of at least `count` floats (1 when `count` < 1), uninitialised
    /// or holding an earlier user's values.
    public func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let n = max(count, 1)
        let buffer = take(n) ?? Buffer(base: .allocate(capacity: n), capacity: n)
        defer { give(buffer) }
        return try body(buffer.base)
    }

    /// Floats held in kept buffers now (for tests and diagnostics).
    public var keptCapacity: [Int] { kept.withLock { $0.map(\.capacity) } }

    /// The smallest kept buffer of at least `n` floats, removed from the pool.
    private func take(_ n: Int) -> Buffer? {
        kept.withLock { list in
            let fitting = list.indices.filter { list[$0].capacity >= n }
            guard let best = fitting.min(by: { list[$0].capacity < list[$1].capacity }) else { return nil }
            return list.remove(at: best)
        }
    }

    /// Returns `buffer` to the pool, then frees what is past the limits (the smallest first).
    private func give(_ buffer: Buffer) {
        let freed: [Buffer] = kept.withLock { list in
            list.append(buffer)
            list.sort { $0.capacity > $1.capacity }
            var keep = [Buffer](), drop = [Buffer](), total = 0
            for b in list {
                if keep.count < keptBuffers && total + b.capacity <= keptFloats {
                    keep.append(b)
                    total += b.capacity
                } else {
                    drop.append(b)
                }
            }
            list = keep
            return drop
        }
        freed.forEach { $0.base.deallocate() }
    }
}
