import ArgumentParser
import ConvKit
import ConvKitHub
import Foundation

/// Everything `train` was asked, saved with its checkpoints and weights (metadata
/// `convkit.train`, JSON) so that `--resume`, `eval` and `predict` repeat it without flags.
/// nil means "not given": on `--resume` the checkpoint's value is used, and a given value
/// that differs from it is an error rather than a silent change of run.
struct TrainSettings: Codable, Equatable {
    var model: String?
    var optimizer: String?, learningRate: Float?, momentum: Float?, weightDecay: Float?, schedule: String?, clip: Float?
    var batchSize: Int?, seed: UInt64?, cropPadding: Int?, flip: Bool?
    var dataset: String?, dataDir: String?, limit: Int?, classes: String?, downsample: Int?, valSplit: Float?
    /// Set in what `train` saves: every value is then the run's (nil meaning "none"), so any
    /// given value that differs, even from nil, changes the run.
    var recorded: Bool?

    static let key = "convkit.train"

    /// These settings with every default filled in, marked as a run's record.
    var record: TrainSettings {
        var s = self
        s.model = s.model ?? "course-cnn"; s.optimizer = s.optimizer ?? "adam"; s.learningRate = s.learningRate ?? 1e-3
        s.momentum = s.momentum ?? 0.9; s.weightDecay = s.weightDecay ?? 0; s.schedule = s.schedule ?? "constant"
        s.batchSize = s.batchSize ?? 64; s.seed = s.seed ?? 0; s.cropPadding = s.cropPadding ?? 0; s.flip = s.flip ?? false
        s.dataset = s.dataset ?? "mnist"; s.downsample = s.downsample ?? 1
        s.recorded = true
        return s
    }

    init(metadata: [String: String]) throws {
        guard let text = metadata[Self.key] else { self.init(); return }
        do { self = try JSONDecoder().decode(TrainSettings.self, from: Data(text.utf8)) } catch {
            throw ValidationError("the file's \(Self.key) metadata is not valid: \(error)")
        }
    }

    init() {}

    var metadata: [String: String] { [Self.key: (try? jsonText(self)) ?? "{}"] }

    /// `given` where set, else `saved`; a value set in both that differs is an error naming the option.
    static func merged(given: TrainSettings, saved: TrainSettings, source: String) throws -> TrainSettings {
        var result = given
        func take<T: Equatable>(_ key: WritableKeyPath<TrainSettings, T?>, _ option: String) throws {
            if let g = given[keyPath: key], saved[keyPath: key] != g, saved[keyPath: key] != nil || saved.recorded == true {
                let was = saved[keyPath: key].map { "\($0)" } ?? "none"
                throw ValidationError("\(option) \(g) conflicts with \(was) in \(source); leave it out to continue that run, or start a new one")
            }
            result[keyPath: key] = given[keyPath: key] ?? saved[keyPath: key]
        }
        try take(\.model, "the model"); try take(\.optimizer, "--optimizer"); try take(\.learningRate, "--lr")
        try take(\.momentum, "--momentum"); try take(\.weightDecay, "--weight-decay"); try take(\.schedule, "--schedule")
        try take(\.clip, "--clip"); try take(\.batchSize, "--batch-size"); try take(\.seed, "--seed")
        try take(\.cropPadding, "--crop-padding"); try take(\.flip, "--flip"); try take(\.dataset, "--dataset")
        try take(\.dataDir, "--data-dir"); try take(\.limit, "--limit"); try take(\.classes, "--classes")
        try take(\.downsample, "--downsample"); try take(\.valSplit, "--val-split")
        return result
    }

    func makeOptimizer(_ parameters: [Tensor]) throws -> any Optimizer {
        let rate = learningRate ?? 1e-3, decay = weightDecay ?? 0
        switch (optimizer ?? "adam").lowercased() {
        case "adam": return try Adam(parameters: parameters, learningRate: rate, weightDecay: decay)
        case "adamw": return try AdamW(parameters: parameters, learningRate: rate, weightDecay: decay == 0 ? 0.01 : decay)
        case "sgd": return try SGD(parameters: parameters, learningRate: rate, momentum: momentum ?? 0.9, weightDecay: decay)
        default: throw ValidationError("--optimizer must be adam, adamw or sgd, got '\((optimizer ?? "").prefix(40))'")
        }
    }

    func makeSchedule(totalSteps: Int) throws -> LearningRateSchedule {
        switch (schedule ?? "constant").lowercased() {
        case "constant": return .constant
        case "cosine": return .cosine(totalSteps: totalSteps)
        case "step": return .step(stepSize: Swift.max(totalSteps / 3, 1), gamma: 0.1)
        case "onecycle": return .oneCycle(maxRate: learningRate ?? 1e-3, totalSteps: totalSteps)
        default: throw ValidationError("--schedule must be constant, cosine, step or onecycle, got '\((schedule ?? "").prefix(40))'")
        }
    }
}

/// Optimizer and schedule options for `train`.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "adam, adamw or sgd (default adam).") var optimizer: String?
    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate (default 0.001).") var learningRate: Float?
    @Option(parsing: .unconditional, help: "SGD momentum (default 0.9).") var momentum: Float?
    @Option(parsing: .unconditional, help: "Weight decay (default 0; 0.01 for adamw).") var weightDecay: Float?
    @Option(help: "constant, cosine, step (×0.1 every third of the run) or onecycle (default constant).") var schedule: String?
    @Option(parsing: .unconditional, help: "Clip gradients to this global norm.") var clip: Float?
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a zoo model; weights (and checkpoints) are safetensors that PyTorch loads.",
        discussion: """
            Examples: convkit train --epochs 5 -o course-cnn.safetensors          (course CNN, bundled MNIST)
                      convkit train lenet5 --optimizer sgd --lr 0.05 --schedule cosine --checkpoint run.ckpt
                      convkit train --resume run.ckpt --epochs 10                (same model, data and optimizer as the run)
            Weights and checkpoints record the model, classes, input shape, normalisation and these options, so
            `--resume`, `eval` and `predict` need no repeated flags; a flag that contradicts the checkpoint is an error.
            """)
    @Argument(help: "A zoo model (default: the course CNN, or the checkpoint's).") var model: String?
    @OptionGroup var data: DataOptions
    @OptionGroup var optimization: OptimizerOptions
    @Option(parsing: .unconditional, help: "Epochs to reach (counting those of a resumed checkpoint).") var epochs = 5
    @Option(parsing: .unconditional, help: "Batch size (default 64).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Seed for initialisation, shuffling and augmentation (default 0).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Augmentation: crop padding in pixels (default 0 = none).") var cropPadding: Int?
    @Flag(inversion: .prefixedNo, help: "Random horizontal flips (default off).") var flip: Bool?
    @Option(help: "Write a checkpoint here after every epoch.") var checkpoint: String?
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Option(name: .shortAndLong, help: "Write the trained weights here.") var output: String?
    @Flag(help: "Print the epoch records as JSON (with the process's resident memory after each epoch).") var json = false
    @OptionGroup var distribution: DistributedOptions

    var given: TrainSettings {
        var s = TrainSettings()
        (s.model, s.optimizer, s.learningRate, s.momentum, s.weightDecay, s.schedule, s.clip) =
            (model?.lowercased(), optimization.optimizer?.lowercased(), optimization.learningRate, optimization.momentum,
             optimization.weightDecay, optimization.schedule?.lowercased(), optimization.clip)
        (s.batchSize, s.seed, s.cropPadding, s.flip) = (batchSize, seed, cropPadding, flip)
        (s.dataset, s.dataDir, s.limit, s.classes, s.downsample, s.valSplit) =
            (data.dataset?.lowercased(), data.dataDir, data.limit, data.classes, data.downsample, data.valSplit)
        return s
    }

    func run() throws {
        let group = try distribution.processGroup()
        guard group.worldSize > 1 else { return try train(group: group) }
        do { try train(group: group) } catch {
            // An error every rank reached together (ranks that differ, a NaN loss: decided on
            // numbers summed over the ranks) is printed once, by rank 0, and every rank exits.
            // Any other error is this rank's alone while the others may be waiting in a
            // collective: it ends the whole job (MPI_Abort).
            if DataParallel.isRaisedByEveryRank(error) {
                if group.isLeader { throw error }
                throw ExitCode.failure
            }
            let rank = group.rank == 0 ? "" : " (rank \(group.rank) of \(group.worldSize))"
            FileHandle.standardError.write(Data("convkit\(rank): \(ConvKitCommand.oneLineMessage(error))\n".utf8))
            (group as? MPIProcessGroup)?.abort(code: 1)
            throw error
        }
    }

    private func train(group: any ProcessGroup) throws {
        // Output paths first: a typo in -o must not cost a training run. Only rank 0 writes.
        if group.isLeader { for path in [output, checkpoint].compactMap({ $0 }) { try checkWritable(path) } }
        let saved = try resume.map { try TrainSettings(metadata: try SafeTensors(contentsOf: $0).metadata) } ?? TrainSettings()
        let settings = try TrainSettings.merged(given: given, saved: saved, source: resume ?? "the checkpoint")
        let entry = try Zoo.entry(settings.model ?? "course-cnn")
        let options = DataOptions(settings)
        let normalization = options.defaultNormalization
        func prepare(_ d: ImageDataset) throws -> ImageDataset { try normalization.map { try d.normalized(mean: $0.mean, std: $0.std) } ?? d }
        let (rawTrain, rawTest) = try options.loadSplits(channels: entry.inputShape[0])
        let (train, test) = (try prepare(rawTrain), try prepare(rawTest))
        let net = try entry.build(classes: train.classCount, inputChannels: train.sampleShape[0], seed: settings.seed ?? 0)
        // One sample through the model first: images of a size the model cannot take are named, not a shape error deep in a layer.
        do { _ = try withGradientsDisabled { try net(train.batch(0..<1).images) } } catch {
            throw ValidationError("the images are \(train.sampleShape.map(String.init).joined(separator: "×")) (C×H×W) but \(entry.name) "
                                  + "takes \(entry.inputShape.map(String.init).joined(separator: "×")); resize them or pick another model (\(error))")
        }
        let trainer = try Trainer(model: net, optimizer: try settings.makeOptimizer(net.parameters), batchSize: settings.batchSize ?? 64,
                                  seed: settings.seed ?? 0, maxGradientNorm: settings.clip,
                                  augmentation: Augmentation(cropPadding: settings.cropPadding ?? 0, horizontalFlip: settings.flip ?? false))
        trainer.dataParallel = try DataParallel(group: group, bucketMegabytes: distribution.bucketMb ?? 25)
        if distribution.syncBatchnorm, net.synchronizeBatchNorm(over: group) == 0 {
            throw ValidationError("--sync-batchnorm: \(entry.name) has no batch norm to synchronise")
        }
        let samplesPerRank = try DistributedSampler(rank: group.rank, worldSize: group.worldSize).samplesPerRank(train.count)
        trainer.schedule = try settings.makeSchedule(totalSteps: try trainer.totalSteps(epochs: epochs, samples: samplesPerRank))
        let info = ModelInfo(model: entry.name, classNames: train.classNames, inputShape: train.sampleShape,
                             mean: normalization?.mean, std: normalization?.std)
        let metadata = info.metadata.merging(settings.record.metadata) { a, _ in a }
            .merging([DistributedOptions.worldSizeKey: "\(group.worldSize)"]) { a, _ in a }
        if let resume {
            try trainer.resume(from: resume)
            if group.isLeader, let note = try distribution.resumeNote(checkpoint: resume, worldSize: group.worldSize, batchSize: trainer.batchSize) {
                FileHandle.standardError.write(Data("convkit: \(note)\n".utf8))
            }
        }
        let progress = group.isLeader ? ProgressBar.terminal() : { _ in }
        var records: [EpochRecord] = [], resident: [Int] = []
        try trainer.fit(train, epochs: epochs, validation: test) { event in
            progress(event)
            if case let .epoch(r) = event {
                records.append(r)
                resident.append(ProcessMemory.residentBytes() ?? 0)
                if let checkpoint, group.isLeader { try trainer.saveCheckpoint(to: checkpoint, metadata: metadata) }
            }
        }
        guard group.isLeader else { return }
        if let output { try net.save(to: output, metadata: metadata) }
        if json {
            struct Row: Encodable {
                let epoch: Int, loss: Float, testAccuracy: Float?, residentMB: Double
                let trainingSeconds: Double, communicationSeconds: Double, ranks: Int
            }
            func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
            print(try jsonText(zip(records, resident).map { r, bytes in
                Row(epoch: r.epoch, loss: r.trainLoss, testAccuracy: r.validation?.accuracy, residentMB: (Double(bytes) / 1_048_576 * 10).rounded() / 10,
                    trainingSeconds: rounded(r.trainingSeconds), communicationSeconds: rounded(r.communicationSeconds), ranks: group.worldSize)
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
        discussion: """
            Example: convkit eval --weights course-cnn.safetensors   (weights saved by ConvKit or by PyTorch)
            Weights saved by `convkit train` know their model, classes, data and normalisation; for others give the model.
            """)
    @Argument(help: "A zoo model (default: the one the weights name, else course-cnn).") var model: String?
    @Option(help: "Weights (safetensors, PyTorch state_dict names).") var weights: String
    @OptionGroup var data: DataOptions
    @Flag(help: "Do not normalise inputs (for weights trained on raw [0, 1] pixels).") var raw = false
    @Option(help: "Also draw the confusion matrix into this PNG.") var confusion: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        if let confusion { try checkWritable(confusion) }
        // The training run's data (dataset, folder, classes, downsampling, hold-out) unless given
        // here: evaluating on other data is allowed; --limit is this run's own.
        let saved = try TrainSettings(metadata: try WeightsFile.read(contentsOf: weights).metadata)
        var options = data
        options.dataset = data.dataset ?? saved.dataset
        options.dataDir = data.dataDir ?? saved.dataDir
        options.classes = data.classes ?? saved.classes
        options.downsample = data.downsample ?? saved.downsample
        options.valSplit = data.valSplit ?? saved.valSplit
        let (entry, net, info) = try Zoo.load(weights: weights, model: model)
        var test = try options.loadSplits(channels: info?.inputShape.first ?? entry.inputShape[0], training: false).test
        if !raw, let n = info.flatMap({ i in i.mean.map { (mean: $0, std: i.std ?? []) } }) ?? options.defaultNormalization {
            test = try test.normalized(mean: n.mean, std: n.std)
        }
        let result = try Trainer.evaluate(net, on: test)
        let names = info?.classesKnown == true ? info!.classNames : test.classNames
        if let confusion { try PNG.write(try Pictures.confusionMatrix(result, classNames: names), to: confusion) }
        try output.emit(result) {
            String(format: "accuracy %.2f%% (%d samples), loss %.4f\n", result.accuracy * 100, result.count, result.loss)
                + "per class: " + zip(names, result.perClassAccuracy).map { "\($0) \(String(format: "%.1f", $1 * 100))%" }.joined(separator: ", ")
                + "\n" + result.confusionTable(classNames: names)
        }
    }
}

struct Predict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Top-k classes with probabilities for an image (PNG or JPEG).",
        discussion: """
            Examples: convkit predict digit.png --weights course-cnn.safetensors --top 3   (class names and normalisation come with the weights)
                      convkit predict photo.jpg --model resnet50 --pretrained --top 5     (torchvision's ImageNet weights, downloaded once)
                      convkit predict photo.jpg --model resnet18 --weights resnet18-f37072fd.pth
            ImageNet models (1,000 classes) preprocess as their published weights do: resize, center crop, normalise.
            """)
    @Argument(help: "A PNG or JPEG file, a bundled photo (camera, chelsea) or test digit (digit0 … digit999).") var image: String
    @OptionGroup var source: ClassifierOptions
    @Option(parsing: .unconditional, help: "How many classes to show.") var top = 3
    @OptionGroup var output: OutputOptions

    func run() async throws {
        _ = try Limits.check(top, in: 1...Int.max, op: "predict", argument: "--top")
        let loaded = try await source.load(image: image)
        let probabilities = try withGradientsDisabled { try loaded.model(try loaded.input.unsqueezed(axis: 0)).softmax(axis: 1) }.scalars
        let ranked = try rankedClasses(probabilities, names: loaded.classNames, top: top)
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
        abstract: "Download full MNIST or CIFAR-10, or published weights, verified against their checksums.",
        discussion: """
            Examples: convkit download mnist --to data/mnist
                      convkit download weights resnet18   (into $CONVKIT_HOME/weights, default ~/.cache/convkit/weights)
                      convkit download weights resnet50:IMAGENET1K_V2 --mirror http://127.0.0.1:8000/models/
            """)
    @Argument(help: "mnist, cifar10 or weights.") var what: String
    @Argument(help: "For weights: a model (its default weights) or MODEL:WEIGHTS, e.g. resnet50:IMAGENET1K_V2.") var name: String?
    @Option(help: "Folder to download a dataset into.") var to: String?
    @Option(help: "Base URL of a mirror (MNIST, weights: $CONVKIT_MIRROR by default) or the archive URL (CIFAR-10).") var mirror: String?

    func run() async throws {
        if what.lowercased() == "weights" {
            guard let name else { throw ValidationError("download weights needs a model name, e.g. resnet18") }
            let weights = try PretrainedWeights.named(name)
            let mirror = try self.mirror.map { try url($0) } ?? Hub.environmentMirror()
            let path = try await downloadWeights(weights, mirror: mirror)
            print("\(weights.id) in \(path.path) (SHA-256 verified)")
            return
        }
        guard let to else { throw ValidationError("--to FOLDER is needed for datasets") }
        // A failed download leaves no folder behind that it created.
        let existed = FileManager.default.fileExists(atPath: to)
        do { try await download(to) } catch {
            if !existed, (try? FileManager.default.contentsOfDirectory(atPath: to))?.isEmpty ?? false {
                try? FileManager.default.removeItem(atPath: to)
            }
            throw error
        }
    }

    private func download(_ to: String) async throws {
        switch what.lowercased() {
        case "mnist":
            let base = try mirror.map { try url($0) } ?? URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!
            let train = try await MNIST.download(into: to, split: .train, mirror: base)
            print("MNIST in \(to): \(groupedDigits(train.count)) training digits, checksums verified")
        case "cifar10":
            let file = try mirror.map { RemoteFile(url: try url($0), checksum: CIFAR10.remoteFile.checksum) } ?? CIFAR10.remoteFile
            let train = try await CIFAR10.download(into: to, split: .train, from: file)
            print("CIFAR-10 in \(to)/cifar-10-batches-bin: \(groupedDigits(train.count)) training images, checksum verified")
        default:
            throw ValidationError("what must be mnist, cifar10 or weights, got '\(what)'")
        }
    }

    private func url(_ s: String) throws -> URL {
        guard let u = URL(string: s), u.scheme != nil else { throw ValidationError("--mirror must be a URL, got '\(s)'") }
        return u
    }
}

/// Published weights from the cache, downloaded first (with a progress bar on a terminal) when missing.
func downloadWeights(_ weights: PretrainedWeights, mirror: URL?) async throws -> URL {
    if let cached = Hub.cached(weights) { return cached }
    let bar = ProgressBar.downloading(weights.fileName)
    let path = try await Hub.download(weights, mirror: mirror, progress: bar)
    FileHandle.standardError.write(Data("\n".utf8))
    return path
}
