import ConvKit
import Foundation
import Testing

/// `mpirun` (Open MPI) on this machine, or nil: the distributed tests need it (CI installs
/// openmpi-bin; `swift test` elsewhere skips them).
private let mpirun: String? = {
    let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/mpirun" }
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
          let version = try? CLI.launch(URL(fileURLWithPath: path), ["--version"], in: nil), version.stdout.contains("Open MPI")
    else { return nil }
    return path
}()

/// Data-parallel training under `mpirun -np 2` and `-np 3` (uneven shards): against one process,
/// run to run, and when a rank differs or dies.
@Suite(.serialized, .enabled(if: mpirun != nil, "needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev)"))
struct DistributedTests {
    /// `mpirun -np ranks executable arguments…` (Open MPI), killed after `seconds`.
    static func launch(ranks: Int, _ executable: URL, _ arguments: [String], in directory: URL, seconds: Int = 300) throws -> CLI.Result {
        try run(["-np", "\(ranks)", executable.path] + arguments, in: directory, seconds: seconds)
    }

    static func run(_ mpiArguments: [String], in directory: URL, seconds: Int = 300) throws -> CLI.Result {
        let r = try CLI.launch(URL(fileURLWithPath: "/usr/bin/timeout"),
                               ["-s", "KILL", "\(seconds)", try #require(mpirun), "--allow-run-as-root", "--oversubscribe"] + mpiArguments,
                               in: directory)
        return CLI.Result(status: r.process.terminationStatus, stdout: r.stdout, stderr: r.stderr)
    }

    static let training = ["train", "lenet5", "--distributed", "--limit", "512", "--epochs", "1", "--optimizer", "sgd", "--lr", "0.05"]

    /// Largest |a − b| relative to each tensor's largest |b|, over every tensor of two weight files.
    static func largestDifference(_ a: URL, _ b: URL) throws -> Float {
        let (x, y) = (try SafeTensors(contentsOf: a.path), try SafeTensors(contentsOf: b.path))
        #expect(x.names.sorted() == y.names.sorted())
        return try x.names.map { name in
            let (p, q) = (try x.tensor(name).scalars, try y.tensor(name).scalars)
            let scale = max(q.map(abs).max() ?? 0, 1e-6)
            return (zip(p, q).map { abs($0 - $1) }.max() ?? 0) / scale
        }.max() ?? 0
    }

    @Test(arguments: ["plain", "batchnorm", "syncbn"], [2, 3])
    func trainingMatchesOneProcess(scenario: String, ranks: Int) throws {
        let checks = try #require(CLI.executable("ConvKitDistributedChecks"))
        let r = try Self.launch(ranks: ranks, checks, [scenario], in: try CLI.temporaryDirectory())
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("ok ") }, "\(r.stdout)")
        #expect(lines.allSatisfy { $0.contains("\(ranks) ranks") })
    }

    @Test func commandLineMatchesOneProcessAndRepeatsBitForBit() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = try #require(CLI.binary)
        for name in ["a", "b"] {
            let r = try Self.launch(ranks: 2, binary, Self.training + ["--batch-size", "16", "-o", "\(name).safetensors"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.components(separatedBy: "test accuracy").count == 2, "only rank 0 prints: \(r.stdout)")
        }
        let single = try CLI.run(["train", "lenet5", "--limit", "512", "--epochs", "1", "--optimizer", "sgd", "--lr", "0.05",
                                  "--batch-size", "32", "-o", "one.safetensors"], in: dir)
        #expect(single.status == 0, "\(single.stderr)")
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        #expect(try Data(contentsOf: a) == Data(contentsOf: b), "same seed and world size: the same bytes")
        let difference = try Self.largestDifference(a, dir.appendingPathComponent("one.safetensors"))
        #expect(difference <= 1e-5, "2 ranks × 16 against 1 × 32: \(difference)")
    }

    @Test func resumingWithTheSameRanksIsExact() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = try #require(CLI.binary)
        // Crop augmentation and dropout-free lenet5: the per-rank augmentation generators must resume too.
        let base = ["train", "lenet5", "--distributed", "--limit", "512", "--batch-size", "16", "--crop-padding", "2"]
        let whole = try Self.launch(ranks: 2, binary, base + ["--epochs", "3", "-o", "whole.safetensors"], in: dir)
        let first = try Self.launch(ranks: 2, binary, base + ["--epochs", "1", "--checkpoint", "run.ckpt"], in: dir)
        let rest = try Self.launch(ranks: 2, binary, ["train", "--distributed", "--resume", "run.ckpt", "--epochs", "3", "-o", "resumed.safetensors"],
                                   in: dir)
        for r in [whole, first, rest] { #expect(r.status == 0, "\(r.stderr)") }
        #expect(try Self.largestDifference(dir.appendingPathComponent("resumed.safetensors"), dir.appendingPathComponent("whole.safetensors")) == 0)
    }

    @Test func unevenShardsWithThreeRanks() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 500 training samples over 3 ranks: 167 each, one padded repeat; still the same bytes twice.
        for name in ["a", "b"] {
            let r = try Self.launch(ranks: 3, try #require(CLI.binary),
                                    ["train", "lenet5", "--distributed", "--limit", "500", "--epochs", "2", "--batch-size", "16",
                                     "-o", "\(name).safetensors", "--json"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("\"ranks\":3"), "\(r.stdout)")
        }
        #expect(try Data(contentsOf: dir.appendingPathComponent("a.safetensors")) == Data(contentsOf: dir.appendingPathComponent("b.safetensors")))
    }

    @Test func aRankWithOtherDataOrAnotherModelIsNamed() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = try #require(CLI.binary).path
        let base = ["--distributed", "--epochs", "1"]
        let data = try Self.run(["-np", "1", binary, "train", "lenet5", "--limit", "512"] + base
                                + [":", "-np", "1", binary, "train", "lenet5", "--limit", "256"] + base, in: dir, seconds: 120)
        #expect(data.status != 0)
        #expect(data.stderr.contains("rank 1 of 2 differs from rank 0: training samples 256 (rank 0: 512)"), "\(data.stderr)")
        let model = try Self.run(["-np", "2", binary, "train", "lenet5", "--limit", "512"] + base
                                 + [":", "-np", "1", binary, "train", "course-cnn", "--limit", "512"] + base, in: dir, seconds: 120)
        #expect(model.status != 0)
        #expect(model.stderr.contains("rank 2 of 3 differs from rank 0: model state"), "\(model.stderr)")
        let noBatchNorm = try Self.launch(ranks: 2, try #require(CLI.binary), ["train", "lenet5", "--sync-batchnorm"] + base, in: dir, seconds: 120)
        #expect(noBatchNorm.status != 0)
        #expect(noBatchNorm.stderr.contains("--sync-batchnorm: lenet5 has no batch norm to synchronise"), "\(noBatchNorm.stderr)")
    }

    @Test func aKilledRankEndsTheJobAndTheRunResumes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("run.ckpt").path
        let tag = UUID().uuidString
        let job = Process()
        job.executableURL = URL(fileURLWithPath: try #require(mpirun))
        job.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "2", try #require(CLI.binary).path, "train", "lenet5",
                         "--distributed", "--limit", "2048", "--batch-size", "8", "--epochs", "40", "--checkpoint", checkpoint]
        job.environment = ProcessInfo.processInfo.environment.merging(["CONVKIT_TEST_TAG": tag]) { $1 }
        job.currentDirectoryURL = dir
        let err = Pipe()
        (job.standardOutput, job.standardError) = (FileHandle.nullDevice, err)
        try job.run()
        defer { if job.isRunning { job.terminate() } }
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline && job.isRunning { usleep(50_000) }
        try #require(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint after the first epoch")
        let rank1 = try #require(Self.processes(tagged: tag, rank: 1).first, "rank 1's process")
        let killed = Date()
        kill(rank1, SIGKILL)
        while job.isRunning && Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        #expect(!job.isRunning, "the job must end within 30 s of a rank's death")
        job.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(job.terminationStatus != 0)
        #expect(stderr.contains("signal 9"), "mpirun names the dead rank: \(stderr)")
        // The checkpoint is whole (written atomically) and the run continues from it, also with 3 ranks.
        let saved = try SafeTensors(contentsOf: checkpoint)
        let epochs = try #require(try saved.integers("trainer.epoch").first)
        let resumed = try Self.launch(ranks: 3, try #require(CLI.binary),
                                      ["train", "--distributed", "--resume", checkpoint, "--epochs", "\(epochs + 1)"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("after \(epochs + 1) epochs"), "\(resumed.stdout)")
        #expect(resumed.stderr.contains("written by a run of 2 rank(s), this one has 3"), "\(resumed.stderr)")
    }

    /// Processes whose environment holds CONVKIT_TEST_TAG=tag and OMPI_COMM_WORLD_RANK=rank.
    static func processes(tagged tag: String, rank: Int) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            let variables = Set(environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            return variables.contains("CONVKIT_TEST_TAG=\(tag)") && variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") ? pid : nil
        }
    }
}
