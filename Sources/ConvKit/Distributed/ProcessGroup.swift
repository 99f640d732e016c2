/// The processes that train one model together, and the collective operations between them
/// (PyTorch's `torch.distributed` process group). Every rank must make the same calls in the
/// same order; a call on one rank waits for the others.
///
/// `MPIProcessGroup` runs over MPI (`mpirun`); `SingleProcessGroup` is the group of one.
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0..<worldSize. Rank 0 prints and writes files.
    var rank: Int { get }
    /// The number of processes.
    var worldSize: Int { get }
    /// Replaces `values` on every rank by their element-wise sum over all ranks.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `values` on every rank by their element-wise sum over all ranks.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Starts summing `values` in place; the buffer must stay alive and untouched until the
    /// returned reduction has completed.
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction
    /// Replaces `bytes` on every rank by rank `root`'s.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank's `values` (each rank gives the same count), in rank order.
    func allGather(_ values: [Int64]) throws -> [[Int64]]
}

/// A reduction started by `ProcessGroup.startAllReduceSum`.
public protocol PendingReduction: AnyObject {
    /// Whether it has completed (also lets the library make progress on it).
    func poll() throws -> Bool
    /// Waits until it has completed.
    func wait() throws
}

/// The group of one process: every collective is the identity.
public final class SingleProcessGroup: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction { Completed() }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allGather(_ values: [Int64]) throws -> [[Int64]] { [values] }

    final class Completed: PendingReduction {
        func poll() throws -> Bool { true }
        func wait() throws {}
    }
}

extension ProcessGroup {
    /// Whether this rank is the one that prints and writes (rank 0).
    public var isLeader: Bool { rank == 0 }

    /// Sums `values` over all ranks, in place.
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Sums `values` over all ranks, in place.
    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Replaces `values` on every rank by rank `root`'s (same count on every rank).
    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }
}
