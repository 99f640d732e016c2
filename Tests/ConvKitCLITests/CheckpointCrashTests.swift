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
            process.currentDirectoryURL = dir
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
                    _ = waitForTemporaryFile(of: checkpoint, while: process, timeout: 60)
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
        process.currentDirectoryURL = dir
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

    /// Whether this machine lets an unprivileged process mount a tmpfs in its own namespaces.
    static let canMountTmpfs: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.currentDirectoryURL = FileManager.default.temporaryDirectory
        probe.arguments = ["-rm", "sh", "-c", "mount -t tmpfs -o size=1m none /tmp"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// A real full disk: a 7 MB tmpfs (mounted in a private mount namespace) holds one checkpoint
    /// but not the temporary file of the next.
    @Test(.enabled(if: canMountTmpfs, "needs unshare -rm and tmpfs mounts"))
    func aFullDiskKeepsThePreviousCheckpoint() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = dir.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let train = Self.training.map { "'\($0)'" }.joined(separator: " ")
        let script = """
            mount -t tmpfs -o size=7m none "$1" || exit 90
            "$2" \(train) --epochs 1 --checkpoint "$1/run.ckpt" > /dev/null 2>&1 || exit 91
            cp "$1/run.ckpt" "$3/before.ckpt"
            "$2" \(train) --epochs 3 --resume "$1/run.ckpt" --checkpoint "$1/run.ckpt" > /dev/null 2> "$3/stderr.txt"
            echo $? > "$3/status.txt"
            cp "$1/run.ckpt" "$3/after.ckpt"
            ls -a "$1" > "$3/listing.txt"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.currentDirectoryURL = dir
        process.arguments = ["-rm", "sh", "-c", script, "sh", disk.path, try #require(CLI.binary).path, dir.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        func read(_ name: String) -> String {
            String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) ?? Data(), as: UTF8.self)
        }
        #expect(read("status.txt").trimmingCharacters(in: .whitespacesAndNewlines) != "0")
        #expect(read("stderr.txt").contains("No space left on device"), "\(read("stderr.txt"))")
        let before = FileManager.default.contents(atPath: dir.appendingPathComponent("before.ckpt").path)
        #expect(before != nil && before == FileManager.default.contents(atPath: dir.appendingPathComponent("after.ckpt").path),
                "the previous checkpoint was damaged")
        #expect(!read("listing.txt").contains(".tmp-"), "the failed write left its temporary file: \(read("listing.txt"))")
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
