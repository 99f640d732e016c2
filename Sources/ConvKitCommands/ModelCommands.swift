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
    @Option(help: "mnist (bundled subset unless --data-dir), cifar10, or folder (class per subfolder).") var dataset: String?
    @Option(help: "Folder with the data (MNIST IDX files, cifar-10-batches-bin, or an image folder).") var dataDir: String?
    @Option(parsing: .unconditional, help: "Use only the first N samples of each split.") var limit: Int?
    @Option(help: "Keep only these classes, relabelled 0, 1, … (e.g. 0,1 for MNIST's zeros and ones).") var classes: String?
    @Option(parsing: .unconditional, help: "Shrink images by this factor with average pooling (2: 28×28 → 14×14).") var downsample: Int?
    @Option(parsing: .unconditional, help: "For a folder without train/ and test/: hold out this fraction (e.g. 0.2) as the test set.")
    var valSplit: Float?

    init() {}

    init(_ s: TrainSettings) {
        (dataset, dataDir, limit, classes, downsample, valSplit) = (s.dataset, s.dataDir, s.limit, s.classes, s.downsample, s.valSplit)
    }

    /// The dataset's usual normalisation (none for image folders).
    var defaultNormalization: (mean: [Float], std: [Float])? {
        switch (dataset ?? "mnist").lowercased() {
        case "mnist": ([MNIST.normalization.mean], [MNIST.normalization.std])
        case "cifar10": (CIFAR10.normalization.mean, CIFAR10.normalization.std)
        default: nil
        }
    }

    /// The training and test splits. An image folder with `train/` and `test/` subfolders uses
    /// them; one without needs `--val-split`, so that a model is never tested on its training data.
    /// - Parameter training: false when only the test split is needed (evaluation); the
    ///   returned training split is then the test split.
    func loadSplits(channels: Int, training: Bool = true) throws -> (train: ImageDataset, test: ImageDataset) {
        var (train, test): (ImageDataset, ImageDataset)
        switch (dataset ?? "mnist").lowercased() {
        case "mnist":
            test = try dataDir.map { try MNIST.load(folder: $0, split: .test) } ?? MNIST.bundled(.test)
            train = training ? try dataDir.map { try MNIST.load(folder: $0, split: .train) } ?? MNIST.bundled(.train) : test
        case "cifar10":
            guard let dataDir else { throw ValidationError("--dataset cifar10 needs --data-dir (see `convkit download cifar10`)") }
            test = try CIFAR10.load(folder: dataDir, split: .test)
            train = training ? try CIFAR10.load(folder: dataDir, split: .train) : test
        case "folder":
            guard let dataDir else { throw ValidationError("--dataset folder needs --data-dir with one subfolder per class") }
            let root = URL(fileURLWithPath: dataDir)
            let (trainDir, testDir) = (root.appendingPathComponent("train").path, root.appendingPathComponent("test").path)
            if FileManager.default.fileExists(atPath: trainDir) && FileManager.default.fileExists(atPath: testDir) {
                guard valSplit == nil else { throw ValidationError("--val-split is for a folder without train/ and test/; \(dataDir) has both") }
                (train, test) = (try ImageDataset(imageFolder: trainDir, channels: channels), try ImageDataset(imageFolder: testDir, channels: channels))
            } else {
                guard let valSplit else {
                    throw ValidationError("\(dataDir) has no train/ and test/ subfolders; give --val-split 0.2 to hold out a fifth as the test set")
                }
                (train, test) = try ImageDataset(imageFolder: dataDir, channels: channels).split(holdOut: valSplit, seed: 0)
            }
        default:
            throw ValidationError("--dataset must be mnist, cifar10 or folder, got '\((dataset ?? "").prefix(40))'")
        }
        if let classes {
            let selected = try integerList(classes, "--classes")
            (train, test) = (try train.selecting(classes: selected), try test.selecting(classes: selected))
        }
        (train, test) = (try train.downsampled(by: downsample ?? 1), try test.downsampled(by: downsample ?? 1))
        if let limit { (train, test) = (try train.prefix(limit), try test.prefix(limit)) }
        return (train, test)
    }
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
