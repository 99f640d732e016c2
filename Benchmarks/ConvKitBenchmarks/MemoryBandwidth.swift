import Dispatch
import Foundation

/// The machine's memory bandwidth as STREAM's triad measures it (McCalpin): a[i] = b[i] + s·c[i]
/// over arrays far larger than the caches, counted as 3 × 4 bytes per element (two reads, one
/// write; the write-allocate read is not counted, as STREAM does not).
enum MemoryBandwidth {
    /// GB/s, the best of 5 passes with the work split over `threads`.
    static func triad(threads: Int, elements: Int = 16 << 20) -> Double {
        let a = UnsafeMutableBufferPointer<Float>.allocate(capacity: elements)
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: elements)
        let c = UnsafeMutableBufferPointer<Float>.allocate(capacity: elements)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        a.initialize(repeating: 0); b.initialize(repeating: 1); c.initialize(repeating: 2)
        let buffers = Buffers(a: a, b: b, c: c)
        let chunk = (elements + threads - 1) / threads
        var best = 0.0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let range = (t * chunk)..<min((t + 1) * chunk, elements)
                for i in range { buffers.a[i] = buffers.b[i] + 3 * buffers.c[i] }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = max(best, 12 * Double(elements) / seconds / 1e9)
        }
        return best
    }

    // @unchecked: each thread writes its own disjoint range of `a`.
    private struct Buffers: @unchecked Sendable {
        let a: UnsafeMutableBufferPointer<Float>, b: UnsafeMutableBufferPointer<Float>, c: UnsafeMutableBufferPointer<Float>
    }
}
