/// One rank's share of an epoch, as `torch.utils.data.DistributedSampler(drop_last=False)`
/// splits it: the order is padded with its own first entries (repeated as often as needed) to
/// a multiple of the world size, then rank r takes entries r, r + W, r + 2W, … So every rank
/// has ⌈n / W⌉ samples (the same number of steps), ranks see disjoint samples except for the
/// ≤ W − 1 padded repeats, and batch j of every rank together is batch j of one process with
/// W times the batch size over the same order (when W divides n).
public struct DistributedSampler: Sendable, Equatable {
    public let rank: Int, worldSize: Int

    /// - Throws: `ConvKitError.invalidArgument` for a world size below 1 or a rank outside 0..<worldSize.
    public init(rank: Int, worldSize: Int) throws {
        try Limits.check(worldSize, in: 1...(1 << 24), op: "DistributedSampler", argument: "worldSize")
        try Limits.check(rank, in: 0...(worldSize - 1), op: "DistributedSampler", argument: "rank")
        (self.rank, self.worldSize) = (rank, worldSize)
    }

    /// Samples per rank for a dataset of `count`: ⌈count / W⌉.
    public func samplesPerRank(_ count: Int) -> Int { count == 0 ? 0 : (count - 1) / worldSize + 1 }

    /// This rank's entries of `order` (the epoch's permutation, the same on every rank).
    public func shard(_ order: [Int]) -> [Int] {
        guard !order.isEmpty else { return [] }
        let perRank = samplesPerRank(order.count)
        return (0..<perRank).map { order[(rank + $0 * worldSize) % order.count] }
    }
}
