/// Averages parameter gradients over the ranks of a group in buckets, as PyTorch DDP's reducer
/// does: parameters are put in buckets of about `bucketBytes` in reverse order (the order
/// backward usually finishes them); when every gradient of a bucket is complete its all-reduce
/// starts while backward goes on. Buckets start in index order on every rank (MPI needs the
/// same order of collectives everywhere). `finish` waits, divides by the world size and writes
/// the averages into `grad`. A parameter that got no gradient on a rank counts as zero there;
/// one that got none on any rank keeps `grad == nil` (so the optimizer skips it, as in one
/// process): each bucket carries one presence count per parameter after its gradients.
///
/// Bucket layout: [gradients of member 0, member 1, …, presence of member 0, member 1, …].
final class GradientReducer {
    let group: any ProcessGroup
    private let parameters: [Tensor]
    private var buckets: [Bucket] = []
    /// Parameter → (bucket, offset of its gradient in the bucket's buffer, its place among the bucket's members).
    private var place: [ObjectIdentifier: (bucket: Int, offset: Int, position: Int)] = [:]
    private var nextToStart = 0
    private var failure: (any Error)?
    /// Seconds spent inside the group's calls during the last pass (starting, polling, waiting).
    private(set) var communicationSeconds: Double = 0

    private final class Bucket {
        let members: [Int]
        let buffer: UnsafeMutableBufferPointer<Float>
        var ready = 0
        var pending: (any PendingReduction)?
        init(members: [Int], count: Int) {
            self.members = members
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: 0)
        }
        deinit { buffer.deallocate() }
    }

    init(group: any ProcessGroup, parameters: [Tensor], bucketBytes: Int) {
        (self.group, self.parameters) = (group, parameters)
        var members: [Int] = [], bytes = 0
        func close() {
            guard !members.isEmpty else { return }
            var offset = 0
            for (position, i) in members.enumerated() {
                place[ObjectIdentifier(parameters[i])] = (buckets.count, offset, position)
                offset += parameters[i].count
            }
            buckets.append(Bucket(members: members, count: offset + members.count))
            (members, bytes) = ([], 0)
        }
        for i in parameters.indices.reversed() {
            members.append(i)
            bytes += parameters[i].count * MemoryLayout<Float>.size
            if bytes >= bucketBytes { close() }
        }
        close()
    }

    /// Runs backward from `loss`, reducing gradients as they complete, then waits for every
    /// reduction and leaves each parameter's `grad` the average over the ranks.
    func backward(_ loss: Tensor) throws {
        for b in buckets { b.ready = 0; b.pending = nil }
        (nextToStart, failure, communicationSeconds) = (0, nil, 0)
        try loss.backward(gradient: nil) { [unowned self] leaf in
            guard failure == nil, let (b, offset, position) = place[ObjectIdentifier(leaf)] else { return }
            let bucket = buckets[b]
            if let g = leaf.grad {
                g.scalars.withUnsafeBufferPointer { source in
                    _ = UnsafeMutableBufferPointer(rebasing: bucket.buffer[offset..<(offset + source.count)]).initialize(from: source)
                }
            }
            bucket.buffer[bucket.buffer.count - bucket.members.count + position] = leaf.grad == nil ? 0 : 1
            bucket.ready += 1
            do { try startReadyBuckets() } catch { failure = error }
        }
        if let failure = failure ?? CollectiveFailure.take() { throw failure }
        try finish()
    }

    private func startReadyBuckets() throws {
        let start = ContinuousClock.now
        defer { communicationSeconds += seconds(since: start) }
        while nextToStart < buckets.count, buckets[nextToStart].ready == buckets[nextToStart].members.count {
            buckets[nextToStart].pending = try group.startAllReduceSum(buckets[nextToStart].buffer)
            nextToStart += 1
        }
        // Polling lets MPI move the started reductions on between backward's ops.
        for b in buckets[..<nextToStart] { _ = try b.pending?.poll() }
    }

    private func finish() throws {
        // Parameters that took no part in this pass: zero in their bucket, as DDP with
        // find_unused_parameters treats them.
        for b in buckets[nextToStart...] where b.ready < b.members.count {
            for i in b.members where parameters[i].grad == nil {
                let (_, offset, position) = place[ObjectIdentifier(parameters[i])]!
                UnsafeMutableBufferPointer(rebasing: b.buffer[offset..<(offset + parameters[i].count)]).update(repeating: 0)
                b.buffer[b.buffer.count - b.members.count + position] = 0
            }
            b.ready = b.members.count
        }
        try startReadyBuckets()
        let start = ContinuousClock.now
        for b in buckets { try b.pending?.wait() }
        communicationSeconds += seconds(since: start)
        let scale = 1 / Float(group.worldSize)
        for b in buckets {
            var offset = 0
            for (position, i) in b.members.enumerated() {
                let p = parameters[i]
                let ranksWithGradient = b.buffer[b.buffer.count - b.members.count + position]
                p.grad = ranksWithGradient == 0 ? nil : Tensor(uncheckedShape: p.shape, scalars: b.buffer[offset..<(offset + p.count)].map { $0 * scale })
                offset += p.count
            }
        }
    }

    /// Whether this reducer was laid out for exactly `parameters` (the trainable ones, in order).
    func isLaid(for parameters: [Tensor]) -> Bool {
        parameters.count == self.parameters.count && zip(parameters, self.parameters).allSatisfy { $0 === $1 }
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
