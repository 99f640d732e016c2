import Dispatch
import Foundation
import Synchronization
import _ConvKitMicroKernels

/// Worker threads that stay up between parallel regions and spin briefly before they sleep,
/// so that a region of a few hundred microseconds (a layer of a batch-1 forward pass) does not
/// wait for sleeping threads to be woken: handing work to `DispatchQueue.concurrentPerform`
/// made a batch-1 forward pass slower on two threads than on one (MobileNetV2 35.8 against
/// 47.7 img/s, the course CNN 1,579 against 2,401).
///
/// A region's chunks are claimed one at a time from a shared counter by the caller and by the
/// helpers that joined while the region was open; the caller returns once every chunk is done
/// and every helper has left, so no helper touches the region's closure afterwards. A region
/// started while another is running (a nested region, or a second thread) goes to
/// `concurrentPerform` as before.
public final class WorkerPool: @unchecked Sendable {
    /// One helper per allowed thread beyond the caller's.
    public static let shared = WorkerPool(helpers: MicroKernel.threads - 1)

    /// How long an idle helper spins before it sleeps. Regions of a forward or backward pass
    /// follow each other within microseconds; between training steps or requests, helpers sleep.
    public static let spinNanoseconds: UInt64 = 200_000

    /// The region being run: its closure (escaping only in type: the caller waits for every
    /// helper to drop it) and its chunk count.
    private final class Region: @unchecked Sendable {
        let body: (Int) -> Void
        let chunks: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        init(body: @escaping (Int) -> Void, chunks: Int) { (self.body, self.chunks) = (body, chunks) }

        /// Runs chunks until none is left.
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < chunks else { return }
                body(i)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    /// The open region and the helpers inside it (under the lock).
    private struct State {
        var region: Region?
        var open = false
        var inside = 0
    }

    private let helpers: Int
    private let state = Mutex(State())
    /// Bumped for every region; helpers spin on it.
    private let generation = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    /// A pool with `helpers` threads besides the caller's, started on its first region.
    public init(helpers: Int) { self.helpers = max(0, helpers) }

    /// Runs `body(i)` for i in 0..<chunks, on the caller's thread and the helpers.
    public func run(chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 1, helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            if chunks == 1 { return body(0) }
            return withoutActuallyEscaping(body) { body in
                let unchecked = UncheckedBody(body)
                DispatchQueue.concurrentPerform(iterations: chunks) { unchecked.body($0) }
            }
        }
        defer { busy.store(false, ordering: .releasing) }
        startHelpers()
        withoutActuallyEscaping(body) { body in
            var region: Region? = Region(body: body, chunks: chunks)
            state.withLock { $0 = State(region: region, open: true, inside: 0) }
            generation.wrappingAdd(1, ordering: .releasing)
            if sleepers.load(ordering: .acquiring) > 0 {
                for _ in 0..<sleepers.exchange(0, ordering: .acquiringAndReleasing) { wake.signal() }
            }
            region!.work()
            // Close the region to latecomers, then wait for the chunks and the helpers inside.
            state.withLock { $0.open = false }
            while region!.done.load(ordering: .acquiring) < chunks || state.withLock({ $0.inside }) > 0 { spinHint() }
            state.withLock { $0.region = nil }
            region = nil
        }
    }

    private func startHelpers() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        for _ in 0..<helpers {
            let thread = Thread { [self] in helperLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func helperLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            // Spin for a while, then sleep until a region is announced.
            let start = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spinHint()
                spins += 1
                if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds {
                    sleepers.wrappingAdd(1, ordering: .acquiringAndReleasing)
                    if generation.load(ordering: .acquiring) == seen { wake.wait() }
                    spins = 0
                }
            }
            seen = generation.load(ordering: .acquiring)
            // Join the region if it is still open; leave it before the caller may return.
            var region = state.withLock { s -> Region? in
                guard s.open, let r = s.region else { return nil }
                s.inside += 1
                return r
            }
            guard region != nil else { continue }
            region!.work()
            region = nil
            state.withLock { $0.inside -= 1 }
        }
    }

    @inline(__always)
    private func spinHint() { ck_spin_pause() }
}

/// A non-Sendable closure handed to `concurrentPerform`, which runs it only during the call.
private struct UncheckedBody: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}
