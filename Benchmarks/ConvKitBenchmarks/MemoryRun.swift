import ConvKit
import Foundation

/// The peak-memory comparison: each side trains the course CNN in a fresh process and reports
/// its peak resident set size, so neither side's other workloads count.
enum MemoryRun {
    static let steps = 200, batch = 64

    /// Runs in the child process: trains, then prints `{"peakMB": …}`.
    static func trainAndReport() throws -> String {
        var rng = SeededGenerator(seed: 1)
        let model = try Zoo.courseCNN(seed: 1)
        let images = try Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
        let labels = (0..<batch).map { $0 % 10 }
        let optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        for _ in 0..<steps {
            optimizer.zeroGrad()
            try crossEntropy(try model(images), targets: labels).backward()
            try optimizer.step()
        }
        return "{\"peakMB\": \(Double(ProcessMemory.peakResidentBytes() ?? 0) / 1_048_576)}"
    }

    /// Starts a child that trains and reports; its peak RSS in MB, or nil when it failed.
    static func measure(executable: String, arguments: [String]) -> Double? {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object["peakMB"] as? Double
    }
}
