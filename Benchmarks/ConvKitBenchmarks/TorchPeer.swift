import Foundation

/// A long-lived `scripts/bench_torch.py` process: it receives a workload as one JSON line
/// and answers with one JSON line `{"seconds": …}`, so PyTorch runs alternately with
/// ConvKit on the same shapes in the same run.
final class TorchPeer {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    let version: String

    /// How to start a Python script: the interpreter and the arguments before the script's own.
    struct Python {
        let executable: String
        func arguments(_ script: String) -> [String] { executable == "/usr/bin/env" ? ["python3", script] : [script] }
    }
    /// The Python the running peer uses (set by `start`).
    nonisolated(unsafe) static var python: Python?

    /// Starts the peer with the first Python that imports torch: `$CONVKIT_TORCH_PYTHON`,
    /// `.venv-torch/bin/python`, then `python3`. Returns nil (and says why) when none does.
    /// The peer times each workload for at least `minTime` seconds, as ConvKit's side does.
    static func start(script: String, minTime: Double) -> TorchPeer? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["CONVKIT_TORCH_PYTHON"], ".venv-torch/bin/python", "/usr/bin/env"].compactMap { $0 }
        for python in candidates where python == "/usr/bin/env" || FileManager.default.isExecutableFile(atPath: python) {
            if let peer = try? TorchPeer(python: Python(executable: python), script: script, minTime: minTime) {
                Self.python = Python(executable: python)
                return peer
            }
        }
        return nil
    }

    private init(python: Python, script: String, minTime: Double) throws {
        process.executableURL = URL(fileURLWithPath: python.executable)
        process.arguments = python.arguments(script)
        var environment = ProcessInfo.processInfo.environment
        environment["CONVKIT_BENCH_MIN_TIME"] = String(minTime)
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        guard let hello = TorchPeer.readLine(output.fileHandleForReading), hello.hasPrefix("torch ") else {
            process.terminate()
            throw CocoaError(.featureUnsupported)
        }
        version = hello
    }

    /// Times `workload` in PyTorch; nil when the peer failed.
    func seconds(for workload: Workload) -> Double? {
        input.fileHandleForWriting.write(Data((workload.json + "\n").utf8))
        guard let line = TorchPeer.readLine(output.fileHandleForReading),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object["seconds"] as? Double
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes = [UInt8]()
        while true {
            guard let byte = try? handle.read(upToCount: 1), let b = byte.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(b)
        }
    }
}
