import ArgumentParser
import ConvKit
import Foundation

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the model zoo.")
    @OptionGroup var output: OutputOptions

    func run() throws {
        struct Row: Encodable { let name: String, parameters: Int, input: [Int], description: String }
        let rows = try Zoo.entries.map { e in Row(name: e.name, parameters: try e.build().parameterCount, input: e.inputShape, description: e.description) }
        try output.emit(rows) {
            table([["Model", "Parameters", "Input", "Description"]] + rows.map { r in
                [r.name, groupedDigits(r.parameters), r.input.map(String.init).joined(separator: "×"), r.description]
            })
        }
    }
}

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Layer-by-layer table: output shape, parameters, mult-adds, receptive field.",
        discussion: "Example: convkit summary resnet18 --input 3x224x224")
    @Argument(help: "A zoo model (see `convkit models`).") var model: String
    @Option(help: "Input C×H×W (default: the model's native size).") var input: String?
    @Option(parsing: .unconditional, help: "Number of classes.") var classes: Int?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let entry = try Zoo.entry(model)
        let shape = try input.map { try PerAxis(parsing: $0, argument: "--input").values } ?? entry.inputShape
        guard shape.count == 3 else { throw ValidationError("--input must be C×H×W, e.g. 3x224x224") }
        let s = try entry.build(classes: classes, inputChannels: shape[0]).summary(inputShape: [1] + shape)
        try output.emit(s) { s.table }
    }
}

/// Where training and evaluation data come from.
struct DataOptions: ParsableArguments {
    @Option(help: "mnist (bundled subset unless --data-dir), cifar10, or folder (class per subfolder).") var dataset = "mnist"
    @Option(help: "Folder with the data (MNIST IDX files, cifar-10-batches-bin, or an image folder).") var dataDir: String?
    @Option(parsing: .unconditional, help: "Use only the first N samples of each split.") var limit: Int?
    @Option(help: "Keep only these classes, relabelled 0, 1, … (e.g. 0,1 for MNIST's zeros and ones).") var classes: String?
    @Option(parsing: .unconditional, help: "Shrink images by this factor with average pooling (2: 28×28 → 14×14).") var downsample = 1

    func load(_ split: MNIST.Split, channels: Int) throws -> ImageDataset {
        var data: ImageDataset
        switch dataset.lowercased() {
        case "mnist":
            data = try dataDir.map { try MNIST.load(folder: $0, split: split) } ?? MNIST.bundled(split)
        case "cifar10":
            guard let dataDir else { throw ValidationError("--dataset cifar10 needs --data-dir (see `convkit download cifar10`)") }
            data = try CIFAR10.load(folder: dataDir, split: split)
        case "folder":
            guard let dataDir else { throw ValidationError("--dataset folder needs --data-dir with one subfolder per class") }
            let sub = (dataDir as NSString).appendingPathComponent(split.rawValue)
            data = try ImageDataset(imageFolder: FileManager.default.fileExists(atPath: sub) ? sub : dataDir, channels: channels)
        default:
            throw ValidationError("--dataset must be mnist, cifar10 or folder, got '\(dataset)'")
        }
        if let classes { data = try data.selecting(classes: try integerList(classes, "--classes")) }
        data = try data.downsampled(by: downsample)
        return try limit.map { try data.prefix($0) } ?? data
    }
}

/// How inputs were normalised, stored with the weights so eval and predict repeat it.
struct InputNormalization {
    var mean: [Float], std: [Float]
    static func `default`(for dataset: String) -> InputNormalization? {
        switch dataset.lowercased() {
        case "mnist": InputNormalization(mean: [MNIST.normalization.mean], std: [MNIST.normalization.std])
        case "cifar10": InputNormalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
        default: nil
        }
    }
    var metadata: [String: String] {
        ["convkit.mean": mean.map { "\($0)" }.joined(separator: ","), "convkit.std": std.map { "\($0)" }.joined(separator: ",")]
    }
    init(mean: [Float], std: [Float]) { (self.mean, self.std) = (mean, std) }
    init?(metadata: [String: String]) {
        guard let m = metadata["convkit.mean"], let s = metadata["convkit.std"] else { return nil }
        mean = m.split(separator: ",").compactMap { Float($0) }
        std = s.split(separator: ",").compactMap { Float($0) }
    }
}

/// The normalisation saved with weights (none when the file has none).
func savedNormalization(_ weights: String?) throws -> InputNormalization? {
    guard let weights else { return nil }
    return InputNormalization(metadata: try SafeTensors(contentsOf: weights).metadata)
}

/// "0,1,5" → [0, 1, 5] (a list of class indices; at most 10,000).
func integerList(_ text: String, _ name: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !values.isEmpty, values.count == parts.count, values.count <= 10_000 else {
        throw ValidationError("\(name) must be integers separated by commas like 0,1, got '\(text.prefix(40))'")
    }
    return values
}
