import ArgumentParser
import ConvKit
import Foundation

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the model zoo.")
    @OptionGroup var output: OutputOptions

    func run() throws {
        let rows = try Zoo.entries.map { e in (e, try e.build().parameterCount) }
        output.emit(.array(rows.map { e, n in .object([("name", .string(e.name)), ("parameters", .number(Double(n))),
                                                      ("input", .array(e.inputShape.map { .number(Double($0)) })),
                                                      ("description", .string(e.description))]) })) {
            table([["Model", "Parameters", "Input", "Description"]] + rows.map { e, n in
                [e.name, groupedDigits(n), e.inputShape.map(String.init).joined(separator: "×"), e.description]
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
    @Option(help: "Number of classes.") var classes: Int?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let entry = try Zoo.entry(model)
        let shape = try input.map { try integers($0, "--input") } ?? entry.inputShape
        guard shape.count == 3 else { throw ValidationError("--input must be C×H×W, e.g. 3x224x224") }
        let s = try entry.build(classes: classes, inputChannels: shape[0]).summary(inputShape: [1] + shape)
        output.emit(.object([("model", .string(s.modelName)), ("parameters", .number(Double(s.trainableParameters))),
                             ("multAdds", .number(Double(s.totalMultAdds))),
                             ("layers", .array(s.rows.map { r in .object([("name", .string(r.name)), ("type", .string(r.type)), ("depth", .number(Double(r.depth))),
                                                                          ("output", .array(r.outputShape.map { .number(Double($0)) })),
                                                                          ("parameters", .number(Double(r.parameters))),
                                                                          ("multAdds", .number(Double(r.multAdds)))]) }))])) { s.table }
    }
}

/// Where training and evaluation data come from.
struct DataOptions: ParsableArguments {
    @Option(help: "mnist (bundled subset unless --data-dir), cifar10, or folder (class per subfolder).") var dataset = "mnist"
    @Option(help: "Folder with the data (MNIST IDX files, cifar-10-batches-bin, or an image folder).") var dataDir: String?
    @Option(help: "Use only the first N samples of each split.") var limit: Int?
    @Option(help: "Keep only these classes, relabelled 0, 1, … (e.g. 0,1 for MNIST's zeros and ones).") var classes: String?
    @Option(help: "Shrink images by this factor with average pooling (2: 28×28 → 14×14).") var downsample = 1

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
        if let classes { data = try data.selecting(classes: try integers(classes, "--classes")) }
        data = try data.downsampled(by: downsample)
        return limit.map { data.prefix($0) } ?? data
    }
}

/// How inputs were normalised, stored with the weights so eval and predict repeat it.
struct Normalization {
    var mean: [Float], std: [Float]
    static func `default`(for dataset: String) -> Normalization? {
        switch dataset.lowercased() {
        case "mnist": Normalization(mean: [MNIST.normalization.mean], std: [MNIST.normalization.std])
        case "cifar10": Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
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
func savedNormalization(_ weights: String?) throws -> Normalization? {
    guard let weights else { return nil }
    return Normalization(metadata: try SafeTensors(contentsOf: weights).metadata)
}
