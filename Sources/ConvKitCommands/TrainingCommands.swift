import ArgumentParser
import ConvKit
import Foundation

/// Optimizer and schedule options for `train` and `demo`.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "adam, adamw or sgd.") var optimizer = "adam"
    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate.") var learningRate: Float = 1e-3
    @Option(parsing: .unconditional, help: "SGD momentum.") var momentum: Float = 0.9
    @Option(parsing: .unconditional, help: "Weight decay.") var weightDecay: Float = 0
    @Option(help: "constant, cosine, step (×0.1 every third of the run) or onecycle.") var schedule = "constant"
    @Option(parsing: .unconditional, help: "Clip gradients to this global norm.") var clip: Float?

    func make(_ parameters: [Tensor]) throws -> any Optimizer {
        switch optimizer.lowercased() {
        case "adam": try Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case "adamw": try AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay == 0 ? 0.01 : weightDecay)
        case "sgd": try SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        default: throw ValidationError("--optimizer must be adam, adamw or sgd, got '\(optimizer)'")
        }
    }

    func schedule(totalSteps: Int) throws -> LearningRateSchedule {
        switch schedule.lowercased() {
        case "constant": .constant
        case "cosine": .cosine(totalSteps: totalSteps)
        case "step": .step(stepSize: Swift.max(totalSteps / 3, 1), gamma: 0.1)
        case "onecycle": .oneCycle(maxRate: learningRate, totalSteps: totalSteps)
        default: throw ValidationError("--schedule must be constant, cosine, step or onecycle, got '\(schedule)'")
        }
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a zoo model; weights (and checkpoints) are safetensors that PyTorch loads.",
        discussion: """
            Examples: convkit train --epochs 5 -o course-cnn.safetensors          (course CNN, bundled MNIST)
                      convkit train lenet5 --optimizer sgd --lr 0.05 --schedule cosine --checkpoint run.ckpt
                      convkit train --resume run.ckpt --epochs 10
            """)
    @Argument(help: "A zoo model (default: the course CNN).") var model = "course-cnn"
    @OptionGroup var data: DataOptions
    @OptionGroup var optimization: OptimizerOptions
    @Option(parsing: .unconditional, help: "Epochs to reach (counting those of a resumed checkpoint).") var epochs = 5
    @Option(parsing: .unconditional, help: "Batch size.") var batchSize = 64
    @Option(parsing: .unconditional, help: "Seed for initialisation, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Augmentation: crop padding in pixels (0 = none).") var cropPadding = 0
    @Flag(help: "Random horizontal flips.") var flip = false
    @Option(help: "Write a checkpoint here after every epoch.") var checkpoint: String?
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Option(name: .shortAndLong, help: "Write the trained weights here.") var output: String?
    @Flag(help: "Print the epoch records as JSON (with the process's resident memory after each epoch).") var json = false

    func run() throws {
        // Output paths first: a typo in -o must not cost a training run.
        for path in [output, checkpoint].compactMap({ $0 }) { try checkWritable(path) }
        let entry = try Zoo.entry(model)
        let normalization = InputNormalization.default(for: data.dataset)
        func prepare(_ d: ImageDataset) throws -> ImageDataset { try normalization.map { try d.normalized(mean: $0.mean, std: $0.std) } ?? d }
        let train = try prepare(try data.load(.train, channels: entry.inputShape[0]))
        let test = try prepare(try data.load(.test, channels: entry.inputShape[0]))
        let net = try entry.build(classes: train.classCount, inputChannels: train.sampleShape[0], seed: seed)
        let optimizer = try optimization.make(net.parameters)
        let trainer = try Trainer(model: net, optimizer: optimizer, batchSize: batchSize, seed: seed,
                                  maxGradientNorm: optimization.clip,
                                  augmentation: Augmentation(cropPadding: cropPadding, horizontalFlip: flip))
        trainer.schedule = try optimization.schedule(totalSteps: try trainer.totalSteps(epochs: epochs, samples: train.count))
        if let resume { try trainer.resume(from: resume) }
        let progress = ProgressBar.terminal()
        var records: [EpochRecord] = [], resident: [Int] = []
        try trainer.fit(train, epochs: epochs, validation: test) { event in
            progress(event)
            if case let .epoch(r) = event {
                records.append(r)
                resident.append(ProcessMemory.residentBytes() ?? 0)
                if let checkpoint { try trainer.saveCheckpoint(to: checkpoint) }
            }
        }
        if let output {
            try net.save(to: output, metadata: (normalization?.metadata ?? [:]).merging(["convkit.model": entry.name]) { a, _ in a })
        }
        if json {
            struct Row: Encodable { let epoch: Int, loss: Float, testAccuracy: Float?, residentMB: Double }
            print(try jsonText(zip(records, resident).map { r, bytes in
                Row(epoch: r.epoch, loss: r.trainLoss, testAccuracy: r.validation?.accuracy, residentMB: (Double(bytes) / 1_048_576 * 10).rounded() / 10)
            }))
        } else if let last = records.last?.validation {
            print(String(format: "test accuracy %.2f%% after %d epochs", last.accuracy * 100, trainer.epoch) + (output.map { "; weights: \($0)" } ?? ""))
        } else {
            print("the checkpoint has completed \(trainer.epoch) epochs already; nothing to train" + (output.map { "; weights: \($0)" } ?? ""))
        }
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Accuracy, per-class accuracy and confusion matrix of weights on a test set.",
        discussion: "Example: convkit eval course-cnn --weights course-cnn.safetensors   (weights saved by ConvKit or by PyTorch)")
    @Argument(help: "A zoo model.") var model = "course-cnn"
    @Option(help: "Weights (safetensors, PyTorch state_dict names).") var weights: String
    @OptionGroup var data: DataOptions
    @Flag(help: "Do not normalise inputs (for weights trained on raw [0, 1] pixels).") var raw = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let entry = try Zoo.entry(model)
        var test = try data.load(.test, channels: entry.inputShape[0])
        if !raw, let n = try savedNormalization(weights) ?? InputNormalization.default(for: data.dataset) {
            test = try test.normalized(mean: n.mean, std: n.std)
        }
        let (_, net) = try loadModel(model, classes: test.classCount, inputChannels: test.sampleShape[0], weights: weights)
        let result = try Trainer.evaluate(net, on: test)
        try output.emit(result) {
            String(format: "accuracy %.2f%% (%d samples), loss %.4f\n", result.accuracy * 100, result.count, result.loss)
                + "per class: " + zip(test.classNames, result.perClassAccuracy).map { "\($0) \(String(format: "%.1f", $1 * 100))%" }.joined(separator: ", ")
                + "\n" + result.confusionTable(classNames: test.classNames)
        }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Top-k classes with probabilities for an image.",
        discussion: "Example: convkit predict digit.png --weights course-cnn.safetensors --top 3")
    @Argument(help: "A PNG image (resized and converted to the model's input).") var image: String
    @Option(help: "A zoo model.") var model = "course-cnn"
    @Option(help: "Weights (safetensors).") var weights: String
    @Option(parsing: .unconditional, help: "How many classes to show.") var top = 3
    @Option(help: "Class names, comma-separated (default: 0, 1, …).") var classNames: String?
    @Flag(help: "Invert gray levels (dark digit on light paper → MNIST's light on dark).") var invert = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (entry, net) = try loadModel(model, weights: weights)
        net.eval()
        var picture = try PNG.read(path: image).withChannels(entry.inputShape[0]).resized(width: entry.inputShape[2], height: entry.inputShape[1])
        if invert { picture.pixels = picture.pixels.map { 1 - $0 } }
        var x = picture.tensor
        if let n = try savedNormalization(weights) {
            x = try ImageDataset.normalize(x, mean: n.mean, std: n.std)
        }
        let probabilities = try withGradientsDisabled { try net(try x.unsqueezed(axis: 0)).softmax(axis: 1) }.scalars
        let names = classNames?.split(separator: ",").map(String.init) ?? []
        let ranked = try rankedClasses(probabilities, names: names, top: top)
        try output.emit(ranked) {
            ranked.map { String(format: "%@  %.2f%%", $0.name, $0.probability * 100) }.joined(separator: "\n")
        }
    }
}

/// Refuses an output path whose folder does not exist or cannot be written, before any work.
func checkWritable(_ path: String) throws {
    guard !path.isEmpty else { throw ValidationError("the output path is empty") }
    // URL, not NSString: Foundation on Linux traps on "." deletingLastPathComponent.
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(path): the folder '\(dir)' does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: dir) else { throw ValidationError("\(path): the folder '\(dir)' is not writable") }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError("\(path) is a folder, not a file")
    }
}

struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download full MNIST or CIFAR-10, verified against the published MD5 checksums.",
        discussion: "Example: convkit download mnist --to data/mnist")
    @Argument(help: "mnist or cifar10.") var dataset: String
    @Option(help: "Folder to download into.") var to: String
    @Option(help: "Base URL of a mirror (MNIST) or the archive URL (CIFAR-10).") var mirror: String?

    func run() async throws {
        // A failed download leaves no folder behind that it created.
        let existed = FileManager.default.fileExists(atPath: to)
        do { try await download() } catch {
            if !existed, (try? FileManager.default.contentsOfDirectory(atPath: to))?.isEmpty ?? false {
                try? FileManager.default.removeItem(atPath: to)
            }
            throw error
        }
    }

    private func download() async throws {
        switch dataset.lowercased() {
        case "mnist":
            let base = try mirror.map { try url($0) } ?? URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!
            let train = try await MNIST.download(into: to, split: .train, mirror: base)
            print("MNIST in \(to): \(groupedDigits(train.count)) training digits, checksums verified")
        case "cifar10":
            let file = try mirror.map { RemoteFile(url: try url($0), md5: CIFAR10.remoteFile.md5) } ?? CIFAR10.remoteFile
            let train = try await CIFAR10.download(into: to, split: .train, from: file)
            print("CIFAR-10 in \(to)/cifar-10-batches-bin: \(groupedDigits(train.count)) training images, checksum verified")
        default:
            throw ValidationError("dataset must be mnist or cifar10, got '\(dataset)'")
        }
    }

    private func url(_ s: String) throws -> URL {
        guard let u = URL(string: s), u.scheme != nil else { throw ValidationError("--mirror must be a URL, got '\(s)'") }
        return u
    }
}
