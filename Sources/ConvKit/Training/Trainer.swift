import Foundation

/// What a training run reports as it goes (to the terminal progress bar, the lab, tests).
public enum TrainingEvent: Sendable {
    /// After every optimizer step.
    case batch(BatchProgress)
    /// After every epoch, with the validation result when a validation set was given.
    case epoch(EpochRecord)
}

/// Progress after one optimizer step.
public struct BatchProgress: Sendable {
    /// 1-based epoch and batch within it.
    public let epoch: Int, batch: Int, batchesPerEpoch: Int, totalEpochs: Int
    /// The batch's mean loss and accuracy.
    public let loss: Float, accuracy: Float
    /// Samples per second since the epoch began.
    public let samplesPerSecond: Double
    /// Seconds until the run ends at the current speed.
    public let secondsRemaining: Double
    /// The learning rate used for this step.
    public let learningRate: Float
}

/// The result of one epoch.
public struct EpochRecord: Sendable {
    public let epoch: Int
    /// Mean training loss and accuracy over the epoch's batches (in training mode).
    public let trainLoss: Float, trainAccuracy: Float
    /// The validation evaluation (evaluation mode), when a validation set was given.
    public let validation: Evaluation?
    /// Wall-clock seconds of the epoch, with validation.
    public let seconds: Double
    /// Seconds of the training steps alone (no validation).
    public let trainingSeconds: Double
    /// Of `trainingSeconds`, those spent in collective operations with other ranks (waiting for
    /// gradient all-reduces and metric sums, broadcasting buffers); 0 in a single process.
    public let communicationSeconds: Double
}

/// Trains a classifier with cross-entropy: the one training loop used by the library, the
/// CLI and the lab. Seeded shuffling, augmentation and dropout make runs repeat bit for bit
/// on the same machine; `saveCheckpoint`/`resume` continue a run exactly.
public final class Trainer {
    public let model: any Module
    public let optimizer: any Optimizer
    public let batchSize: Int
    /// The learning rate the schedule scales.
    public let baseLearningRate: Float
    public var schedule: LearningRateSchedule
    /// When set, gradients are clipped to this global L2 norm before each step.
    public var maxGradientNorm: Float?
    public var labelSmoothing: Float
    public var augmentation: Augmentation
    /// Epochs completed.
    public internal(set) var epoch = 0
    /// Optimizer steps taken.
    public internal(set) var step = 0
    /// Draws the shuffling order and the augmentation.
    public internal(set) var generator: SeededGenerator
    /// When set, `fit` trains data-parallel with the other ranks of its group (see `DataParallel`).
    public var dataParallel: DataParallel? {
        didSet { reducer = nil }
    }
    private var reducer: GradientReducer?
    private let stopFlag = StopFlag()

    /// - Throws: `ConvKitError.invalidArgument` for a batch size below 1, crop padding outside
    ///   0…4,096, a gradient-norm cap that is not a positive number, label smoothing outside 0…1.
    public init(model: any Module, optimizer: any Optimizer, batchSize: Int = 64, seed: UInt64 = 0,
                schedule: LearningRateSchedule = .constant, maxGradientNorm: Float? = nil, labelSmoothing: Float = 0,
                augmentation: Augmentation = Augmentation()) throws {
        guard batchSize >= 1 else {
            throw ConvKitError.invalidArgument(op: "Trainer", argument: "batchSize", message: "must be at least 1, got \(batchSize)")
        }
        try Limits.check(augmentation.cropPadding, in: 0...4096, op: "Trainer", argument: "cropPadding")
        if let maxGradientNorm { try Limits.check(maxGradientNorm, in: 1e-12...Float.greatestFiniteMagnitude, op: "Trainer", argument: "maxGradientNorm") }
        try Limits.check(labelSmoothing, in: 0...1, op: "Trainer", argument: "labelSmoothing")
        (self.model, self.optimizer, self.batchSize, self.schedule) = (model, optimizer, batchSize, schedule)
        (self.maxGradientNorm, self.labelSmoothing, self.augmentation) = (maxGradientNorm, labelSmoothing, augmentation)
        baseLearningRate = optimizer.learningRate
        generator = SeededGenerator(seed: seed)
    }

    /// Optimizer steps of a run of `epochs` epochs over `samples` samples at this batch size
    /// (what a schedule's `totalSteps` needs).
    /// - Throws: `ConvKitError.invalidArgument` for epochs outside 1…1,000,000 or no samples.
    public func totalSteps(epochs: Int, samples: Int) throws -> Int {
        try Limits.check(epochs, in: 1...1_000_000, op: "fit", argument: "epochs")
        try Limits.check(samples, in: 1...Int.max, op: "fit", argument: "samples")
        return try Limits.product(epochs, (samples - 1) / batchSize + 1, op: "fit", what: "steps")
    }

    /// Asks a running `fit` to stop after the current batch (safe from another thread).
    public func stop() { stopFlag.set() }

    /// Trains until `epochs` epochs are complete (continuing from `epoch`, e.g. after
    /// `resume`), evaluating on `validation` after each epoch.
    /// - Parameter onEvent: called after every step and epoch; throwing from it stops training.
    /// - Returns: the records of the epochs run by this call.
    /// - Throws: `ConvKitError.training` when a loss is NaN or infinite — before that step
    ///   changes any weight — naming the epoch and step; `ConvKitError.invalidArgument` for
    ///   `epochs` outside 1…1,000,000 or below the epochs already completed, or empty data.
    @discardableResult
    public func fit(
        _ data: ImageDataset, epochs: Int, validation: ImageDataset? = nil,
        onEvent: (TrainingEvent) throws -> Void = { _ in }
    ) throws -> [EpochRecord] {
        try Limits.check(epochs, in: 1...1_000_000, op: "fit", argument: "epochs")
        guard data.count > 0 else {
            throw ConvKitError.invalidArgument(op: "fit", argument: "data", message: "is empty; there is nothing to train on")
        }
        // Asking for the epochs already done is a no-op (a run killed after its last checkpoint
        // resumes to write its weights); asking for fewer is a mistake.
        guard epoch <= epochs else {
            throw ConvKitError.invalidArgument(
                op: "fit", argument: "epochs", message: "is \(epochs) but the run has completed \(epoch) already; ask for at least that many")
        }
        var records: [EpochRecord] = []
        stopFlag.clear()
        try synchronizeRanks(data, validation: validation, epochs: epochs)
        while epoch < epochs && !stopFlag.isSet {
            let record = try trainEpoch(data, totalEpochs: epochs, validation: validation, onEvent: onEvent)
            records.append(record)
            try onEvent(.epoch(record))
        }
        return records
    }

    private func trainEpoch(
        _ data: ImageDataset, totalEpochs: Int, validation: ImageDataset?, onEvent: (TrainingEvent) throws -> Void
    ) throws -> EpochRecord {
        model.train()
        let group = dataParallel.map(\.group)
        let world = group?.worldSize ?? 1
        var order = Array(0..<data.count)
        order.shuffle(using: &generator)
        // With several ranks: this rank's shard, and its own augmentation draws (every rank
        // draws one word from the shared generator, so it stays the same on all of them).
        var rankGenerator: SeededGenerator?
        if let group, world > 1 {
            order = try DistributedSampler(rank: group.rank, worldSize: world).shard(order)
            rankGenerator = SeededGenerator(seed: generator.next() &+ UInt64(group.rank) &* 0x9E37_79B9_7F4A_7C15)
        }
        // The trainable parameters (frozen ones take no part, as in DDP); laid out again when that set changes.
        let trainable = optimizer.parameters.filter(\.requiresGrad)
        if let dataParallel, world > 1, !(reducer?.isLaid(for: trainable) ?? false) {
            reducer = GradientReducer(group: dataParallel.group, parameters: trainable, bucketBytes: dataParallel.bucketBytes)
        }
        // A batch larger than the data is the whole data (and keeps b · size from overflowing).
        let size = Swift.min(batchSize, order.count)
        let batches = (order.count - 1) / size + 1
        let epochSamples = order.count * world
        let start = Date()
        var lossSum: Double = 0, correct = 0, seen = 0, communication: Double = 0
        for b in 0..<batches {
            if world == 1 && stopFlag.isSet { break }
            let indices = order[(b * size)..<Swift.min((b + 1) * size, order.count)]
            var (images, labels) = data.batch(indices)
            if rankGenerator != nil {
                images = augmentation.apply(to: images, using: &rankGenerator!)
            } else {
                images = augmentation.apply(to: images, using: &generator)
            }
            optimizer.learningRate = schedule.rate(at: step, base: baseLearningRate)
            let communicationStart = ContinuousClock.now
            try broadcastBuffers()
            communication += seconds(since: communicationStart)
            let buffers = model.namedState().filter { $0.entry.kind != .parameter }.map { ($0.entry.tensor, $0.entry.tensor.scalars) }
            let logits = try model.forward(images)
            let loss = try crossEntropy(logits, targets: labels, labelSmoothing: labelSmoothing)
            let hits = zip(try logits.argmax(axis: 1), labels).filter { $0 == $1 }.count
            // Loss, hits, samples and "stop" summed over the ranks: every rank sees the same
            // numbers, so a NaN on one rank or a stop request stops all of them at this step.
            var totals = [Double(try loss.item()) * Double(labels.count), Double(hits), Double(labels.count), stopFlag.isSet ? 1 : 0]
            if let group, world > 1 {
                let t = ContinuousClock.now
                try group.allReduceSum(&totals)
                communication += seconds(since: t)
            }
            let value = Float(totals[0] / totals[2])
            guard value.isFinite else {
                for (tensor, values) in buffers { tensor.scalars = values }  // undo this forward's running statistics
                throw ConvKitError.training(
                    message: "loss is \(value) at epoch \(epoch + 1), step \(step + 1) (batch \(b + 1) of \(batches)); "
                        + "the weights are those before this step — try a lower learning rate or gradient clipping")
            }
            if totals[3] > 0 {
                for (tensor, values) in buffers { tensor.scalars = values }
                stopFlag.set()
                break
            }
            optimizer.zeroGrad()
            if let reducer {
                try reducer.backward(loss)
                communication += reducer.communicationSeconds
            } else {
                try loss.backward()
            }
            if let maxGradientNorm { clipGradientNorm(optimizer.parameters, maxNorm: maxGradientNorm) }
            try optimizer.step()
            step += 1
            (lossSum, correct, seen) = (lossSum + totals[0], correct + Int(totals[1]), seen + Int(totals[2]))
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(seen) / Swift.max(elapsed, 1e-9)
            let remaining = Double(epochSamples - seen + (totalEpochs - epoch - 1) * epochSamples) / rate
            try onEvent(.batch(BatchProgress(
                epoch: epoch + 1, batch: b + 1, batchesPerEpoch: batches, totalEpochs: totalEpochs, loss: value,
                accuracy: Float(totals[1] / totals[2]), samplesPerSecond: rate, secondsRemaining: remaining,
                learningRate: optimizer.learningRate)))
        }
        if !stopFlag.isSet { epoch += 1 }
        let trainingSeconds = Date().timeIntervalSince(start)
        let validationResult = try validation.map { try Trainer.evaluate(model, on: $0, group: group) }
        model.train()
        return EpochRecord(epoch: epoch, trainLoss: Float(lossSum / Double(Swift.max(seen, 1))),
                           trainAccuracy: Float(correct) / Float(Swift.max(seen, 1)), validation: validationResult,
                           seconds: Date().timeIntervalSince(start), trainingSeconds: trainingSeconds,
                           communicationSeconds: communication)
    }

    /// Evaluates the model (in evaluation mode, without recording gradients).
    public func evaluate(_ data: ImageDataset, batchSize: Int = 256) throws -> Evaluation {
        try Trainer.evaluate(model, on: data, batchSize: batchSize, group: dataParallel?.group)
    }

    /// Evaluates `model` on `data` in evaluation mode; restores the previous mode afterwards.
    /// - Parameter group: when given, each rank evaluates its contiguous share of `data` and the
    ///   result (loss and confusion matrix) is summed over the ranks, so every rank returns the
    ///   evaluation of the whole set.
    /// - Throws: `ConvKitError.invalidArgument` for empty data or a batch size below 1.
    public static func evaluate(_ model: any Module, on data: ImageDataset, batchSize: Int = 256,
                                group: (any ProcessGroup)? = nil) throws -> Evaluation {
        guard data.count > 0 else {
            throw ConvKitError.invalidArgument(op: "evaluate", argument: "data", message: "is empty; there is nothing to evaluate")
        }
        try Limits.check(batchSize, in: 1...Int.max, op: "evaluate", argument: "batchSize")
        let wasTraining = model.isInTrainingMode
        model.eval()
        defer { model.train(wasTraining) }
        let (rank, world) = (group?.rank ?? 0, group?.worldSize ?? 1)
        // Rank r's share: samples ⌊r·n/W⌋ ..< ⌊(r+1)·n/W⌋ (n·W cannot overflow: W ≤ 2^24, n < 2^39).
        let share = (data.count * rank / world)..<(data.count * (rank + 1) / world)
        var accumulator = EvaluationAccumulator(classes: data.classCount)
        try withGradientsDisabled {
            let size = Swift.max(1, Swift.min(batchSize, share.count))
            for start in stride(from: share.lowerBound, to: share.upperBound, by: size) {
                let (images, labels) = data.batch(start..<Swift.min(start + size, share.upperBound))
                let logits = try model.forward(images)
                try accumulator.add(logits: logits, labels: labels, meanLoss: try crossEntropy(logits, targets: labels).item())
            }
        }
        if let group, world > 1 { try accumulator.sum(over: group) }
        return accumulator.evaluation
    }
}

/// A thread-safe flag for stopping a run from another thread (the lab's Stop button).
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
    func clear() { lock.lock(); value = false; lock.unlock() }
}
