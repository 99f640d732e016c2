import Foundation
import Testing
import _ConvKitKernels

/// Fresh result arrays hold exactly what their fill wrote, at every size around the huge-page
/// threshold; on Linux with transparent huge pages available, a large one is backed by them.
@Suite struct FreshStorageTests {
    @Test(arguments: [0, 1, 1_000, FreshStorage.hugePageMinimum - 1, FreshStorage.hugePageMinimum, 3 << 20])
    func holdsWhatTheFillWrote(count: Int) {
        let a = FreshStorage.floats(count: count) { out in
            for i in out.indices { out[i] = Float(i % 1_000) - 0.5 }
        }
        #expect(a.count == count)
        #expect(a.indices.allSatisfy { a[$0] == Float($0 % 1_000) - 0.5 })
    }

    /// The mappings that hold a 64 MiB result report huge pages in /proc/self/smaps (skipped where
    /// THP is off or absent). Without the advice, glibc's fresh mapping of it faults in 4 KiB pages.
    @Test func largeResultsAreBackedByHugePages() throws {
        guard let mode = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8),
              mode.contains("[always]") || mode.contains("[madvise]") else { return }
        let count = (16 << 20) + 12_345  // a size no other test releases, so this one is fresh, not reused
        let a = FreshStorage.floats(count: count) { out in out.initialize(repeating: 1) }
        let address = a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops after a page.
        let data = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        let smaps = String(decoding: data, as: UTF8.self)
        // The advice splits the mapping at 2 MiB boundaries: sum over every mapping the result overlaps.
        let end = address + UInt(count * MemoryLayout<Float>.stride)
        var inside = false, hugeKiB = 0, mappings = 0
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] < end && address < bounds[1]
                if inside { mappings += 1 }
            } else if inside, fields.first == "AnonHugePages:", fields.count >= 2 {
                hugeKiB += Int(fields[1]) ?? 0
            }
        }
        #expect(a[count - 1] == 1)
        // 64 MiB holds 31 or 32 aligned 2 MiB pages; compaction may fail for a few of them.
        #expect(hugeKiB >= 16 * 2_048, "AnonHugePages of the result's \(mappings) mappings: \(hugeKiB) kB")
    }
}

/// Released arrays are kept only when nothing else holds them, come back for a result of exactly
/// their size (the same storage, rewritten), and the pool stays within its limits. Sizes are odd
/// ones no other test allocates, since tests run concurrently and share the pool.
@Suite(.serialized) struct FreshStorageReuseTests {
    private func address(_ a: [Float]) -> UInt { a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }

    @Test func keepsUnsharedArraysAndReusesThem() throws {
        #if os(Linux)
        let n = FreshStorage.keptMinimum + 1_231
        var a = FreshStorage.floats(count: n) { $0.initialize(repeating: 3) }
        let before = address(a)
        FreshStorage.keep(&a)
        #expect(a.isEmpty && FreshStorage.keptCounts.contains(n))
        let b = FreshStorage.floats(count: n) { out in for i in out.indices { out[i] = Float(i & 7) } }
        #expect(address(b) == before && !FreshStorage.keptCounts.contains(n))
        #expect(b.indices.allSatisfy { b[$0] == Float($0 & 7) })
        #endif
    }

    @Test func leavesSharedAndSmallArraysAlone() {
        let n = FreshStorage.keptMinimum + 2_341
        var shared = [Float](repeating: 1, count: n)
        let other = shared
        FreshStorage.keep(&shared)
        #expect(shared.count == n && other.count == n && !FreshStorage.keptCounts.contains(n))
        var small = [Float](repeating: 1, count: FreshStorage.keptMinimum - 1)
        FreshStorage.keep(&small)
        #expect(small.count == FreshStorage.keptMinimum - 1)
    }

    @Test func dropsTheOldestPastItsLimits() {
        #if os(Linux)
        let sizes = (0...FreshStorage.keptArrays).map { FreshStorage.keptMinimum + 3_001 + $0 }
        for n in sizes {
            var a = [Float](repeating: 0, count: n)
            FreshStorage.keep(&a)
        }
        let kept = FreshStorage.keptCounts
        #expect(kept.count <= FreshStorage.keptArrays && !kept.contains(sizes[0]) && kept.contains(sizes.last!))
        #expect(kept.reduce(0, +) <= FreshStorage.keptFloats)
        FreshStorage.releaseKept()
        #expect(!FreshStorage.keptCounts.contains(sizes.last!))
        #endif
    }
}
