import Synchronization
import _ConvKitMicroKernels

/// Result arrays that a kernel writes completely, without zero-filling them first: large ones
/// reuse the storage of a released tensor of the same size, or are backed by transparent huge
/// pages.
///
/// An array of 50 MB is fresh memory from the system on every call (glibc maps anything above
/// 32 MiB anew and unmaps it when freed), so its first write faults once per 4 KiB page and the
/// kernel zeroes every page: a 32 × 128 × 56² depthwise forward pass spent about 60 % of its time
/// there (`perf`, 2026-12-03). Two remedies, both for arrays of at least `hugePageMinimum` floats:
/// - **Reuse**: `Tensor`'s deinit hands its scalars to `keep` when nothing else holds them and
///   they are at least `keptMinimum` floats; the next result of exactly that size takes them
///   (no fault, no zeroing). At most `keptArrays` arrays of `keptFloats` floats in all are kept,
///   the oldest dropped first; `releaseKept()` frees them. Linux only (the uniqueness test
///   below reads the array's storage reference).
/// - **Huge pages**: a fresh array is advised as transparent huge pages before its first write,
///   so it faults once per 2 MiB (the kernel still zeroes it).
public enum FreshStorage {
    /// Arrays of at least this many floats (4 MiB: at least one whole 2 MiB page inside) are
    /// advised as huge pages.
    public static let hugePageMinimum = 1 << 20
    /// Released arrays of at least this many floats (32 MiB, glibc's largest threshold for
    /// mapping afresh: smaller ones come back from its heap) are kept for reuse.
    public static let keptMinimum = 1 << 23
    /// At most this many arrays are kept...
    public static let keptArrays = 4
    /// ...holding at most this many floats (512 MiB) in all.
    public static let keptFloats = 1 << 27

    private static let kept = Mutex<[[Float]]>([])

    /// `count` floats, all of which `fill` must write.
    public static func floats(count: Int, _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        if count >= keptMinimum, var reused = take(count) {
            reused.withUnsafeMutableBufferPointer { fill($0) }  // uniquely held: written in place
            return reused
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count >= hugePageMinimum, let base = buffer.baseAddress {
                ck_advise_huge_pages(base, count * MemoryLayout<Float>.stride)
            }
            fill(buffer)
            initialized = count
        }
    }

    /// Takes `array` for reuse (leaving it empty) when it is large enough and nothing else holds
    /// its storage; else leaves it as it is. Safe from any thread.
    public static func keep(_ array: inout [Float]) {
        guard array.count >= keptMinimum, array.count <= keptFloats, isUniquelyReferenced(&array) else { return }
        var taken = [Float]()
        swap(&taken, &array)
        let dropped: [[Float]] = kept.withLock { list in
            list.append(taken)
            var dropped: [[Float]] = []
            while list.count > keptArrays || list.reduce(0, { $0 + $1.count }) > keptFloats {
                dropped.append(list.removeFirst())
            }
            return dropped
        }
        _ = dropped  // freed here, outside the lock
    }

    /// Frees every kept array.
    public static func releaseKept() {
        let dropped = kept.withLock { list in
            defer { list = [] }
            return list
        }
        _ = dropped
    }

    /// The sizes of the kept arrays, oldest first (for tests and diagnostics).
    public static var keptCounts: [Int] { kept.withLock { $0.map(\.count) } }

    /// A kept array of exactly `count` floats (the newest), removed from the pool.
    private static func take(_ count: Int) -> [Float]? {
        kept.withLock { list in list.lastIndex { $0.count == count }.map { list.remove(at: $0) } }
    }

    /// Whether `array`'s storage has no other owner. The array is one reference to its storage
    /// object on Linux (no Objective-C bridging), checked in place like any class reference; a
    /// self-test at first use turns reuse off if that ever stops being so.
    static func isUniquelyReferenced(_ array: inout [Float]) -> Bool {
        #if os(Linux)
        return layoutHolds && storageIsUnique(&array)
        #else
        return false
        #endif
    }

    /// The storage reference's uniqueness, read in place (meaningful only where `layoutHolds`).
    private static func storageIsUnique(_ array: inout [Float]) -> Bool {
        withUnsafeMutablePointer(to: &array) { p in
            p.withMemoryRebound(to: AnyObject.self, capacity: 1) { isKnownUniquelyReferenced(&$0.pointee) }
        }
    }

    /// Whether the check above answers true for a fresh array and false for one held twice.
    private static let layoutHolds: Bool = {
        #if os(Linux)
        guard MemoryLayout<[Float]>.size == MemoryLayout<AnyObject>.size else { return false }
        var a = [Float](repeating: 1, count: 8)
        guard storageIsUnique(&a) else { return false }
        let b = a
        defer { withExtendedLifetime(b) {} }
        return !storageIsUnique(&a)
        #else
        return false
        #endif
    }()
}
