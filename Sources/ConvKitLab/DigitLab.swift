import ConvKit
import Foundation

/// The digit lab's state: the course CNN (or uploaded weights for a zoo model that takes
/// 28×28 gray input), one training job at a time on its own thread, and the events it
/// produced for the pages to stream.
///
/// @unchecked Sendable: every mutable field is guarded by `lock`; the model being trained is
/// touched only by the training thread, and the model used for predictions is rebuilt from
/// snapshots taken on that thread.
final class DigitLab: @unchecked Sendable {
    struct Event: Codable, Sendable {
        var kind: String  // "batch", "epoch", "done", "stopped", "error"
        var epoch: Int
        var batch: Int?
        var batchesPerEpoch: Int?
        var loss: Float?
        var accuracy: Float?
        var testAccuracy: Float?
        var message: String?
        /// The first layer's filters (K, kH, kW), sent every few batches.
        var filters: [[[Float]]]?
    }

    private let lock = NSLock()
    /// Held while the predictor runs, so an explanation (which changes its parameters' flags) runs alone.
    private let inference = NSLock()
    private var modelName = "course-cnn"
    private var predictor: Sequential
    private var events: [Event] = []
    private var trainer: Trainer?
    private var running = false
    /// Stop was asked for during the current job (it may have come before its trainer existed).
    private var stopRequested = false
    private(set) var generation = 0

    /// Starts from the bundled trained weights (`Zoo.bundledCourseCNN`), so drawings are
    /// recognised before any training; Train continues from them.
    init() throws {
        predictor = try Zoo.bundledCourseCNN()
        predictor.eval()
    }

    var isTraining: Bool { lock.withLock { running } }

    func status() -> (model: String, training: Bool, events: Int) { lock.withLock { (modelName, running, events.count) } }

    /// Events from index `start` on, and whether the job has ended (no more will come).
    func events(from start: Int) -> (events: [Event], finished: Bool, generation: Int) {
        lock.withLock { (Array(events.dropFirst(Swift.min(start, events.count))), !running, generation) }
    }

    /// Probabilities and every layer's output for one 28×28 drawing in [0, 1].
    func predict(_ pixels: [Float]) throws -> (probabilities: [Float], layers: [(name: String, output: Tensor)]) {
        let model = lock.withLock { predictor }
        let x = try Self.input(pixels).unsqueezed(axis: 0)
        let outputs = try inference.withLock { try withGradientsDisabled { try model.intermediateOutputs(x) } }
        let probabilities = try (outputs.last ?? x).softmax(axis: 1).scalars
        return (probabilities, zip(model.layers, outputs).map { ("\($0.name) \(type(of: $0.module))", $1) })
    }

    /// Why the model gives its class (or `target`) for one drawing, and the heat map over it.
    func explain(_ pixels: [Float], method: ExplanationMethod, target: Int?) throws -> (explanation: Explanation, overlay: Image) {
        let model = lock.withLock { predictor }
        let drawing = try Image(width: 28, height: 28, channels: 1, pixels: pixels.map { Swift.min(Swift.max($0, 0), 1) })
        // Explaining sets the parameters' requiresGrad while it runs: one request at a time.
        let explanation = try inference.withLock { try model.explain(try Self.input(pixels), method: method, target: target) }
        return (explanation, try explanation.overlay(on: drawing))
    }

    /// A drawing (28 × 28 values in [0, 1]) normalised as the bundled digits are: (1, 28, 28).
    private static func input(_ pixels: [Float]) throws -> Tensor {
        let (mean, std) = MNIST.normalization
        return try ImageDataset.normalize(try Tensor(shape: [1, 28, 28], scalars: pixels), mean: [mean], std: [std])
    }

    /// The first convolution's filters as (K, kH, kW) grids (channels averaged).
    func filters() -> [[[Float]]] {
        Self.filters(of: lock.withLock { predictor })
    }

    static func filters(of model: Sequential) -> [[[Float]]] {
        guard let conv = model.namedModules().lazy.compactMap({ $0.module as? Conv2d }).first,
              let maps = try? Pictures.filterMaps(conv) else { return [] }
        return maps.map(rows)
    }

    /// Loads uploaded weights (safetensors or a PyTorch checkpoint) into a fresh zoo model that takes 28×28 gray input.
    func load(weights bytes: [UInt8], model name: String) throws {
        let entry = try Zoo.entry(name)
        guard entry.inputShape == [1, 28, 28] else {
            throw LabError(status: .unprocessableContent, message: "model '\(name)' takes \(entry.inputShape), the digit lab draws 1×28×28")
        }
        let model = try entry.build()
        try model.loadState(from: try WeightsFile.read(bytes: bytes, source: "uploaded weights"))
        model.eval()
        try lock.withLock {
            guard !running else { throw LabError(status: .conflict, message: "training is running; stop it before loading weights") }
            (predictor, modelName) = (model, name)
        }
    }

    /// Starts training the current model on the bundled digits on its own thread.
    func startTraining(epochs: Int, learningRate: Float, limit: Int?) throws {
        // Read under the lock here, so the training thread works with copies.
        let (name, seed): (String, UInt64) = try lock.withLock {
            guard !running else { throw LabError(status: .conflict, message: "a training job is already running") }
            running = true
            stopRequested = false
            events = []
            generation += 1
            return (modelName, UInt64(generation))
        }
        let thread = Thread { [self] in
            do {
                let train = try MNIST.bundled(.train, normalized: true), test = try MNIST.bundled(.test, normalized: true)
                let model = try Zoo.entry(name).build(seed: seed)
                // Start from the weights in use, so Train continues what the page shows.
                try model.copyState(from: lock.withLock { predictor })
                let trainer = try Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: learningRate),
                                          batchSize: 64, seed: seed)
                lock.withLock { self.trainer = trainer }
                let data = try limit.map { try train.prefix($0) } ?? train
                try trainer.fit(data, epochs: epochs, validation: try test.prefix(500)) { event in
                    self.record(event, model: model)
                    // A Stop that came before the trainer existed (or before fit began) takes effect here.
                    if self.lock.withLock({ self.stopRequested }) { trainer.stop() }
                }
                let stopped = trainer.epoch < epochs
                self.publish(model, event: Event(kind: stopped ? "stopped" : "done", epoch: trainer.epoch))
            } catch {
                self.publish(nil, event: Event(kind: "error", epoch: 0, message: "\(error)"))
            }
            self.lock.withLock { self.running = false; self.trainer = nil }
        }
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Asks the running job to stop after its current batch.
    func stopTraining() -> Bool {
        lock.withLock {
            stopRequested = running
            trainer?.stop()
            return running
        }
    }

    private func record(_ event: TrainingEvent, model: Sequential) {
        switch event {
        case let .batch(b):
            let withFilters = b.batch % 10 == 1 || b.batch == b.batchesPerEpoch
            publish(withFilters ? model : nil, event: Event(
                kind: "batch", epoch: b.epoch, batch: b.batch, batchesPerEpoch: b.batchesPerEpoch, loss: b.loss, accuracy: b.accuracy,
                filters: withFilters ? Self.filters(of: model) : nil))
        case let .epoch(r):
            publish(model, event: Event(kind: "epoch", epoch: r.epoch, loss: r.trainLoss, accuracy: r.trainAccuracy,
                                        testAccuracy: r.validation?.accuracy))
        }
    }

    /// Appends an event; with a model, also makes a snapshot of it the predictor (taken on
    /// the training thread, so it is consistent).
    private func publish(_ model: Sequential?, event: Event) {
        var snapshot: Sequential?
        if let model {
            do {
                let copy = try Zoo.entry(lock.withLock { modelName }).build()
                try copy.copyState(from: model)
                copy.eval()
                snapshot = copy
            } catch {
                // The training thread's own model: a copy cannot fail unless the zoo changed; say so in the stream.
                lock.withLock { events.append(Event(kind: "error", epoch: event.epoch, message: "snapshot failed: \(error)")) }
            }
        }
        lock.withLock {
            if let snapshot { predictor = snapshot }
            events.append(event)
        }
    }
}
