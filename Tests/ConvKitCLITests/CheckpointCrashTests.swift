import ConvKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Checkpoints under faults: `convkit train --checkpoint` killed with SIGKILL at random moments
/// (many of them while a checkpoint is being written), and a disk that refuses the write.
@Suite(.serialized) struct CheckpointCrashTests {
    /// Small enough that a checkpoint (course CNN weights + Adam state, 5.2 MB) is written
    /// every ~0.1 s, so writes are a large share of the run's time.
    static let training = ["train", "course-cnn", "--limit", "64", "--batch-size", "32", "--seed", "5"]

    @Test func sigkillNeverCostsTheLastCompleteCheckpoint() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let epochs = 8
        let reference = dir.appendingPathComponent("reference.safetensors").path
        let uninterrupted = try CLI.run(Self.training + ["--epochs", "\(epochs)", "-o", reference])
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")

        let checkpoint = dir.appendingPathComponent("run.ckpt").path
        let output = dir.appendingPathComponent("resumed.safetensors").path
        var random = SeededGenerator(seed: 2026)
        var kills = 0, killsMidWrite = 0, finishedRuns = 0, runsSinceFinish = 0
        while kills < 100 {
            var arguments = Self.training + ["--epochs", "\(epochs)", "--checkpoint", checkpoint, "-o", output]
            if FileManager.default.fileExists(atPath: checkpoint) { arguments += ["--resume", checkpoint] }
            let process = Process()
            process.executableURL = try #require(CLI.binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let leftovers = Set(temporaryFiles(of: checkpoint))
            try process.run()
            // Every 25th run goes to the end; the others are killed, half of them as soon as a
            // checkpoint write is seen in progress (plus a random delay), half at a random moment.
            runsSinceFinish += 1
            if runsSinceFinish <= 25 {
                if kills % 2 == 0 {
                    _ = waitForTemporaryFile(of: checkpoint, while: process, timeout: 5)
                    usleep(UInt32.random(in: 0...1_000, using: &random))
                } else {
                    usleep(UInt32.random(in: 0...600_000, using: &random))
                }
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    kills += 1
                    if !Set(temporaryFiles(of: checkpoint)).subtracting(leftovers).isEmpty { killsMidWrite += 1 }
                    // The newest complete checkpoint must load, whatever the kill interrupted.
                    if FileManager.default.fileExists(atPath: checkpoint) {
                        let file = try SafeTensors(contentsOf: checkpoint)
                        #expect(file.metadata["convkit.checkpoint"] == "1")
                        #expect((try file.integers("trainer.epoch").first ?? -1) >= 1)
                    }
                    continue
                }
            }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            // A run resumed any number of times ends with the same weights, bit for bit.
            #expect(FileManager.default.contents(atPath: output) == FileManager.default.contents(atPath: reference),
                    "weights after \(kills) kills differ from the uninterrupted run")
            #expect(temporaryFiles(of: checkpoint).isEmpty, "abandoned temporary files were not cleaned up")
            finishedRuns += 1
            runsSinceFinish = 0
            try FileManager.default.removeItem(atPath: checkpoint)
            try FileManager.default.removeItem(atPath: output)
        }
        print("checkpoint kill test: \(kills) SIGKILLs, \(killsMidWrite) while a checkpoint was being written, \(finishedRuns) resumed runs finished identical")
        #expect(finishedRuns >= 3)
        #expect(killsMidWrite >= 20, "too few kills landed during a checkpoint write (\(killsMidWrite))")
    }

    @Test func aFailingWriteKeepsThePreviousCheckpoint() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("run.ckpt").path
        let first = try CLI.run(Self.training + ["--epochs", "1", "--checkpoint", checkpoint])
        #expect(first.status == 0, "\(first.stderr)")
        let before = try #require(FileManager.default.contents(atPath: checkpoint))

        // A file-size limit of 1 MiB (with SIGXFSZ ignored, so write() fails with EFBIG) stands
        // in for a full disk: the next checkpoint, 5 MB, cannot be written.
        let binary = try #require(CLI.binary).path
        let command = "trap '' XFSZ; ulimit -f 1024; exec \"$0\" \"$@\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command, binary] + Self.training + ["--epochs", "3", "--resume", checkpoint, "--checkpoint", checkpoint]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(stderr.contains("run.ckpt") && stderr.contains("writing failed: File too large"), "\(stderr)")
        #expect(FileManager.default.contents(atPath: checkpoint) == before, "the previous checkpoint was damaged")
        #expect(temporaryFiles(of: checkpoint).isEmpty, "the failed write left its temporary file")
    }

    /// Temporary files that `AtomicFile` writes beside `path` (`.<name>.tmp-<pid>-<random>`).
    func temporaryFiles(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        return names.filter { $0.hasPrefix("." + url.lastPathComponent + ".tmp-") }
    }

    /// Polls until a checkpoint write is in progress (a temporary file exists) or the process ends.
    func waitForTemporaryFile(of path: String, while process: Process, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let before = Set(temporaryFiles(of: path))
        while process.isRunning && Date() < deadline {
            if !Set(temporaryFiles(of: path)).subtracting(before).isEmpty { return true }
            usleep(200)
        }
        return false
    }
}
