import ArgumentParser
import ConvKit

/// `convkit`: the course's examples and the model workflow from the command line. Every
/// number comes from the ConvKit library; this target only parses, calls and prints.
@main
struct ConvKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit",
        abstract: "Convolutional networks in Swift: the course's examples, models, training.",
        discussion: """
            Start with `convkit demo` (trains the course CNN on the bundled digits and writes pictures).
            Course arithmetic: conv1d, conv2d, pool, outsize, params, rf, matrix, equivariance, correlation, filter.
            Models: models, summary, train, eval, predict, visualize, download. The lab: lab.
            """,
        subcommands: [
            Demo.self, Conv1D.self, Conv2D.self, Pool.self, Filter.self, OutSize.self, Params.self, ReceptiveField.self,
            Summary.self, Models.self, Matrix.self, Equivariance.self, Correlation.self,
            Train.self, Evaluate.self, Predict.self, Visualize.self, Download.self, Lab.self,
        ])

    /// Keeps freed tensor memory in the process (faster training steps), then runs the command.
    static func main() async {
        ProcessMemory.keepFreedMemory()
        await main(nil)
    }
}
