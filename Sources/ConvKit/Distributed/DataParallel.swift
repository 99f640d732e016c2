/// Data-parallel training settings, with `torch.nn.parallel.DistributedDataParallel`'s meaning:
/// every rank holds the whole model and trains on its own shard of each epoch
/// (`DistributedSampler`); `batchSize` is per rank, so one step sees W × batchSize samples.
///
/// Set `Trainer.dataParallel` on every rank, then call `fit` on every rank:
/// - at the start of `fit`, the ranks compare models, data and trainer state (an error names
///   the rank that differs) and take rank 0's weights, buffers and optimizer state;
/// - before each forward, rank 0's buffers (batch-norm running statistics) are broadcast, so
///   each rank normalises with its own batch's statistics and rank 0's running statistics are
///   the ones kept (DDP's `broadcast_buffers=True`; see `Module.synchronizeBatchNorm(over:)` for
///   statistics over the whole global batch);
/// - gradients are averaged over the ranks in buckets during backward (`GradientReducer`);
/// - the loss, accuracy and validation metrics reported are over all ranks' samples.
/// Only rank 0 should print or write files; `Trainer.isLeader` tells.
public struct DataParallel {
    public let group: any ProcessGroup
    /// The gradient bucket size in bytes (DDP's `bucket_cap_mb`, default 25 MiB).
    public let bucketBytes: Int

    /// - Parameter bucketMegabytes: MiB of gradients per all-reduce, 0.001…4,096.
    /// - Throws: `ConvKitError.invalidArgument` for a bucket size outside that range or not a number.
    public init(group: any ProcessGroup, bucketMegabytes: Double = 25) throws {
        guard bucketMegabytes.isFinite, (0.001...4096).contains(bucketMegabytes) else {
            throw ConvKitError.invalidArgument(
                op: "DataParallel", argument: "bucketMegabytes", message: "must be in 0.001…4096, got \(bucketMegabytes)")
        }
        self.group = group
        bucketBytes = Int(bucketMegabytes * 1_048_576)
    }
}

extension DataParallel {
    /// Whether every rank of a data-parallel `fit` throws `error` at the same point (so no rank
    /// is left waiting): ranks that differ at the start, and a NaN or infinite loss (checked
    /// on the loss summed over the ranks). Other errors may be one rank's alone.
    public static func isRaisedByEveryRank(_ error: any Error) -> Bool {
        switch error as? ConvKitError {
        case .training?: true
        case let .distributed(message)?: message.hasPrefix(Self.mismatchPrefix)
        default: false
        }
    }

    static let mismatchPrefix = "ranks differ: "
}

extension Trainer {
    /// Whether this process prints and writes files: rank 0, or the only process.
    public var isLeader: Bool { dataParallel?.group.isLeader ?? true }

    /// The ranks agree on what they train (else an error naming the first rank that differs),
    /// then take rank 0's weights, buffers and optimizer state.
    func synchronizeRanks(_ data: ImageDataset, validation: ImageDataset?, epochs: Int) throws {
        guard let group = dataParallel?.group, group.worldSize > 1 else { return }
        let state = model.namedState()
        var shapeHash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over every state name and shape
        for (name, entry) in state {
            for byte in (name + "\(entry.tensor.shape)").utf8 { shapeHash = (shapeHash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        let g = generator.state
        let fields: [(String, Int64)] = [
            ("model state (names and shapes, hashed)", Int64(bitPattern: shapeHash)), ("parameters", Int64(optimizer.parameters.count)),
            ("training samples", Int64(data.count)), ("classes", Int64(data.classCount)),
            ("sample shape (hashed)", Int64(data.sampleShape.reduce(17) { $0 &* 31 &+ $1 })),
            ("validation samples", Int64(validation?.count ?? -1)), ("batch size", Int64(batchSize)), ("epochs", Int64(epochs)),
            ("completed epochs", Int64(epoch)), ("steps", Int64(step)),
            ("generator state (seed)", Int64(bitPattern: g.0 ^ g.1 &* 3 ^ g.2 &* 5 ^ g.3 &* 7)),
        ]
        let all = try group.allGather(fields.map(\.1))
        for (rank, values) in all.enumerated().dropFirst() {
            let differences = fields.indices.filter { values[$0] != all[0][$0] }.map { i -> String in
                fields[i].0.hasSuffix("(hashed)") || fields[i].0.hasSuffix("(seed)")
                    ? fields[i].0 : "\(fields[i].0) \(values[i]) (rank 0: \(all[0][i]))"
            }
            if !differences.isEmpty {
                throw ConvKitError.distributed(
                    message: DataParallel.mismatchPrefix + "rank \(rank) of \(group.worldSize) differs from rank 0: " + differences.joined(separator: ", ")
                        + "; every rank must build the same model on the same data with the same options")
            }
        }
        try Self.broadcast(state.map(\.entry.tensor), over: group)
        let optimizerState = optimizer.stateArrays()
        var flat = optimizerState.flatMap(\.1)
        try group.broadcast(&flat, root: 0)
        var offset = 0
        var arrays: [String: [Float]] = [:]
        for (name, values) in optimizerState {
            arrays[name] = Array(flat[offset..<(offset + values.count)])
            offset += values.count
        }
        try optimizer.loadStateArrays(arrays)
        var words = [g.0, g.1, g.2, g.3]
        try words.withUnsafeMutableBytes { try group.broadcast($0, root: 0) }
        generator = SeededGenerator(state: (words[0], words[1], words[2], words[3]))
    }

    /// Rank 0's buffers (running statistics) on every rank, in one broadcast.
    func broadcastBuffers() throws {
        guard let group = dataParallel?.group, group.worldSize > 1 else { return }
        let buffers = model.namedState().filter { $0.entry.kind != .parameter }.map(\.entry.tensor)
        guard !buffers.isEmpty else { return }
        try Self.broadcast(buffers, over: group)
    }

    /// Rank 0's values of `tensors` on every rank, in one broadcast.
    private static func broadcast(_ tensors: [Tensor], over group: any ProcessGroup) throws {
        var flat = tensors.flatMap(\.scalars)
        try group.broadcast(&flat, root: 0)
        var offset = 0
        for t in tensors {
            t.scalars = Array(flat[offset..<(offset + t.count)])
            offset += t.count
        }
    }
}
