import Foundation

/// A module that draws random numbers while training (dropout, stochastic depth); its
/// generator is part of a checkpoint so a resumed run repeats the same masks.
public protocol RandomizedModule: Module {
    var generator: SeededGenerator { get set }
}

extension Dropout: RandomizedModule {}
extension StochasticDepth: RandomizedModule {}

// A checkpoint is one safetensors file:
//   model.<state name>      the model's state_dict (F32, counters I64)
//   optimizer.<name>        the optimizer's state arrays (F32)
//   trainer.epoch, trainer.step            I64 scalars
//   rng.trainer, rng.module.<path>         generator states, 4 × I64 (bit patterns)
// with metadata convkit.checkpoint = "1" and the optimizer's type.

extension Trainer {
    /// Writes weights, optimizer state, epoch/step and every random generator to `path`
    /// atomically (temporary file in the same directory, fsync, rename, directory fsync):
    /// a failure leaves any earlier checkpoint at `path` intact.
    /// - Parameter metadata: more metadata to keep with it (what the run was asked, say);
    ///   ConvKit's own keys win over these.
    public func saveCheckpoint(to path: String, metadata: [String: String] = [:]) throws {
        var values: [(String, SafeTensors.Value)] = model.stateDict().map { ("model." + $0.0, $0.1) }
        values += optimizer.stateArrays().map { ("optimizer." + $0.0, .float32(shape: [$0.1.count], scalars: $0.1)) }
        values += [("trainer.epoch", .int64(shape: [], values: [epoch])), ("trainer.step", .int64(shape: [], values: [step]))]
        values.append(("rng.trainer", Self.encode(generator)))
        for (path, module) in model.namedModules() {
            if let m = module as? any RandomizedModule { values.append(("rng.module." + path, Self.encode(m.generator))) }
        }
        try SafeTensors.write(values, metadata: metadata.merging(["convkit.checkpoint": "1", "optimizer": "\(type(of: optimizer))"]) { _, own in own },
                              to: path)
    }

    /// Restores a checkpoint written by `saveCheckpoint` into this trainer's model and
    /// optimizer (built the same way), so that `fit` continues exactly where it stopped.
    /// Everything is validated first; on any error the trainer, model and optimizer are unchanged.
    /// - Throws: `ConvKitError.invalidFile` for a corrupt or truncated file, a file that is
    ///   not a checkpoint, or one made for another model or optimizer.
    public func resume(from path: String) throws {
        let file = try SafeTensors(contentsOf: path)
        guard file.metadata["convkit.checkpoint"] == "1" else {
            throw ConvKitError.invalidFile(path: path, message: "not a ConvKit checkpoint (no convkit.checkpoint metadata)")
        }
        let expectedOptimizer = "\(type(of: optimizer))"
        guard file.metadata["optimizer"] == expectedOptimizer else {
            throw ConvKitError.invalidFile(
                path: path, message: "checkpoint is for optimizer \(file.metadata["optimizer"] ?? "?"), this trainer uses \(expectedOptimizer)")
        }
        let optimizerState = Dictionary(uniqueKeysWithValues: try file.names.filter { $0.hasPrefix("optimizer.") }.map {
            (String($0.dropFirst("optimizer.".count)), try file.tensor($0).scalars)
        })
        let savedEpoch = try scalar(file, "trainer.epoch"), savedStep = try scalar(file, "trainer.step")
        let trainerGenerator = try Self.decode(file, "rng.trainer")
        let moduleGenerators = try model.namedModules().compactMap { path, m -> (any RandomizedModule, SeededGenerator)? in
            guard let r = m as? any RandomizedModule else { return nil }
            return (r, try Self.decode(file, "rng.module." + path))
        }
        // Apply: the model first (it validates everything before changing anything), then
        // the optimizer; if the optimizer's state does not fit, put the model back.
        let snapshot = model.namedState().map { ($0.entry.tensor, $0.entry.tensor.scalars) }
        try model.loadState(from: file, prefix: "model.")
        do {
            try optimizer.loadStateArrays(optimizerState)
        } catch {
            for (tensor, values) in snapshot { tensor.scalars = values }
            throw ConvKitError.invalidFile(path: path, message: "optimizer state does not fit: \(error)")
        }
        (epoch, step, generator) = (savedEpoch, savedStep, trainerGenerator)
        for (module, g) in moduleGenerators { module.generator = g }
    }

    private func scalar(_ file: SafeTensors, _ name: String) throws -> Int {
        guard let v = try file.integers(name).first else {
            throw ConvKitError.invalidFile(path: file.source, message: "'\(name)' is empty")
        }
        return v
    }

    private static func encode(_ g: SeededGenerator) -> SafeTensors.Value {
        let s = g.state
        return .int64(shape: [4], values: [s.0, s.1, s.2, s.3].map { Int(Int64(bitPattern: $0)) })
    }

    private static func decode(_ file: SafeTensors, _ name: String) throws -> SeededGenerator {
        let v = try file.integers(name).map { UInt64(bitPattern: Int64($0)) }
        guard v.count == 4 else {
            throw ConvKitError.invalidFile(path: file.source, message: "'\(name)' must hold 4 generator words, got \(v.count)")
        }
        return SeededGenerator(state: (v[0], v[1], v[2], v[3]))
    }
}
