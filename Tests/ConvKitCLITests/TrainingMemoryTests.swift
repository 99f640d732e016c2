import ConvKit
import Foundation
import Testing

/// A training run's resident memory is flat across epochs: nothing a step allocates (tensors,
/// the autograd graph, optimizer state, batches) outlives the step.
@Suite struct TrainingMemoryTests {
    @Test func residentMemoryIsFlatAcrossEpochs() throws {
        // 16 steps per epoch: a leak of even one batch's activations per step (≥ 3 MB) would add
        // ≥ 48 MB per epoch.
        let run = try CLI.run(["train", "course-cnn", "--limit", "512", "--batch-size", "32", "--epochs", "6", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let records = try #require(try JSONValue.parse(Array(run.stdout.utf8)).arrayValue)
        let resident = records.compactMap { $0["residentMB"].flatMap { if case let .number(d) = $0 { d } else { nil } } }
        #expect(resident.count == 6)
        // After the first epochs (allocator pools and caches fill up), no growth beyond one
        // allocator step: a leaked batch per step would add ≥ 4 × 48 MB from epoch 2 to epoch 6,
        // while glibc's arenas alone were seen to step once by 24 MB with other tests running.
        let settled = resident[1], peak = resident[1...].max() ?? 0
        print("resident memory per epoch (MB): \(resident)")
        #expect(peak - settled < 64, "resident memory grew from \(settled) MB to \(peak) MB across epochs: \(resident)")
    }

    /// The allocator setting `convkit` and the benchmark apply (glibc's `mallopt`) is found
    /// and accepted; elsewhere it reports that nothing was changed.
    @Test func keepFreedMemoryIsAccepted() {
        #if os(Linux)
        #expect(ProcessMemory.keepFreedMemory())
        #else
        #expect(!ProcessMemory.keepFreedMemory())
        #endif
    }

    /// The peak is a high-water mark: at least the current resident size, and at least a
    /// 64 MB block while that block is resident.
    @Test func peakResidentMemoryIsAHighWaterMark() throws {
        let now = try #require(ProcessMemory.residentBytes())
        #expect(try #require(ProcessMemory.peakResidentBytes()) >= now - (1 << 20))
        let block = [UInt8](repeating: 1, count: 64 << 20)
        let peak = try #require(ProcessMemory.peakResidentBytes())
        #expect(peak >= block.count, "peak \(peak) bytes while a \(block.count)-byte block is resident")
    }
}
