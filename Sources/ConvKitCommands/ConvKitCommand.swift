import ArgumentParser
import ConvKit
import Foundation

/// `convkit`: the course's examples and the model workflow from the command line. Every
/// number comes from the ConvKit library; this target only parses, calls and prints.
public struct ConvKitCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "convkit",
        abstract: "Convolutional networks in Swift: the course's examples, models, training.",
        discussion: """
            Start with `convkit demo` (trains the course CNN on the bundled digits and writes pictures).
            Course arithmetic: conv1d, conv2d, pool, outsize, params, rf, matrix, equivariance, correlation, filter.
            Models: models, summary, train, eval, predict, visualize, download. The lab: lab.
            """,
        version: ConvKitVersion.string,
        subcommands: [
            Demo.self, Conv1D.self, Conv2D.self, Pool.self, Filter.self, OutSize.self, Params.self, ReceptiveField.self,
            Summary.self, Models.self, Matrix.self, Equivariance.self, Correlation.self,
            Train.self, Evaluate.self, Predict.self, Explain.self, Visualize.self, Download.self, Weights.self, Convert.self, Lab.self,
        ])

    public init() {}

    /// Runs `convkit arguments…` in this process: help and version go to stdout with status
    /// 0; any error becomes one line on stderr (`convkit: …`) and a non-zero status. Never
    /// exits the process, so tests and the generated-input harness call it directly.
    /// - Returns: the exit status.
    public static func main(arguments: [String]) async -> Int32 {
        ProcessMemory.keepFreedMemory()
        do {
            try KernelThreads.checkEnvironment()
            try ConvolutionAlgorithm.checkEnvironment()
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            return 0
        } catch let code as ExitCode {
            return code.rawValue  // a status without a message (what to say was said already)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data(("convkit: " + oneLineMessage(error) + "\n").utf8))
            return code == .success ? 1 : code.rawValue
        }
    }

    /// An error as one line: ConvKit's own message, ArgumentParser's message without the
    /// usage block, or Foundation's description instead of an `NSError` dump.
    static func oneLineMessage(_ error: any Error) -> String {
        let text: String
        switch error {
        case let e as ConvKitError: text = e.description
        case let e as ValidationError: text = e.message
        case let e as CocoaError: text = e.localizedDescription
        case let e as DecodingError: text = "\(e)"
        default:
            let described = message(for: error)
            text = described.hasPrefix("Error Domain=") ? (error as NSError).localizedDescription : described
        }
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") }.joined(separator: "; ")
        return line.isEmpty ? "failed (\(type(of: error)))" : String(line.prefix(2000))
    }
}
