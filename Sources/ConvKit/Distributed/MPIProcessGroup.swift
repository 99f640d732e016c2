import _ConvKitMPI
import Foundation

/// The process group of an MPI job (`mpirun -np N …`), over MPI_COMM_WORLD.
///
/// MPI is loaded at run time, so ConvKit needs no MPI to build: Open MPI's `libmpi.so.40` or
/// MPICH's `libmpich.so.12`, whichever the launcher expects (or `CONVKIT_MPI_LIBRARY`). Errors
/// are returned rather than aborting (MPI_ERRORS_RETURN), and become `ConvKitError.distributed`.
/// A rank that dies is the launcher's to detect: `mpirun` then ends every rank of the job.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let worldSize: Int
    /// The MPI library's own name and version (`MPI_Get_library_version`'s first line).
    public let libraryVersion: String
    nonisolated(unsafe) private static var shared: MPIProcessGroup?

    /// Whether this process was started by an MPI launcher (Open MPI's `mpirun`, MPICH's Hydra,
    /// Slurm's `srun` with PMI): `OMPI_COMM_WORLD_SIZE`, `PMI_SIZE` or `PMIX_RANK` is set.
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"].contains { environment[$0] != nil }
    }

    /// Loads MPI and initialises it (once per process: later calls return the same group).
    /// - Parameter library: the MPI library to load; default `CONVKIT_MPI_LIBRARY` or the launcher's.
    /// - Throws: `ConvKitError.distributed` when no MPI library loads or MPI_Init fails.
    public static func world(library: String? = ProcessInfo.processInfo.environment["CONVKIT_MPI_LIBRARY"]) throws -> MPIProcessGroup {
        if let shared { return shared }
        try call("loading MPI") { ck_mpi_load(library, $0, $1) }
        var rank: Int32 = 0, size: Int32 = 0
        var version = [CChar](repeating: 0, count: 512)
        try call("MPI_Init") { ck_mpi_init(&rank, &size, &version, version.count, $0, $1) }
        let group = MPIProcessGroup(rank: Int(rank), worldSize: Int(size), libraryVersion: Self.text(version))
        shared = group
        // Every rank that initialised MPI finalises it, or the launcher reports the job as failed.
        atexit { _ = ck_mpi_finalize() }
        return group
    }

    private init(rank: Int, worldSize: Int, libraryVersion: String) {
        (self.rank, self.worldSize, self.libraryVersion) = (rank, worldSize, libraryVersion)
    }

    /// Ends every rank of the job at once with `code` (MPI_Abort): for an error on one rank
    /// that the others cannot know about.
    public func abort(code: Int32 = 1) -> Never {
        ck_mpi_abort(code)
        fatalError("MPI_Abort returned")
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        try Self.chunks(values.count) { start, n in
            try Self.call("all-reduce") { ck_mpi_allreduce_sum_f32(values.baseAddress! + start, n, $0, $1) }
        }
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        try Self.chunks(values.count) { start, n in
            try Self.call("all-reduce") { ck_mpi_allreduce_sum_f64(values.baseAddress! + start, n, $0, $1) }
        }
    }

    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction {
        var slots: [Int32] = []
        do {
            try Self.chunks(values.count) { start, n in
                var slot: Int32 = 0
                try Self.call("all-reduce") { ck_mpi_start_allreduce_sum_f32(values.baseAddress! + start, n, &slot, $0, $1) }
                slots.append(slot)
            }
        } catch {
            for slot in slots { _ = try? Self.call("wait") { ck_mpi_wait(slot, $0, $1) } }
            throw error
        }
        return Pending(slots: slots)
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        try Limits.check(root, in: 0...(worldSize - 1), op: "broadcast", argument: "root")
        try Self.chunks(bytes.count) { start, n in
            try Self.call("broadcast") { ck_mpi_broadcast(bytes.baseAddress! + start, n, Int32(root), $0, $1) }
        }
    }

    public func allGather(_ values: [Int64]) throws -> [[Int64]] {
        guard !values.isEmpty else { return Array(repeating: [], count: worldSize) }
        try Limits.check(values.count, in: 1...(1 << 20), op: "allGather", argument: "values")
        var received = [Int64](repeating: 0, count: values.count * worldSize)
        try Self.call("all-gather") { ck_mpi_allgather_i64(values, Int32(values.count), &received, $0, $1) }
        return (0..<worldSize).map { Array(received[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    /// MPI counts are `int`: a larger buffer goes in pieces of at most 2^30 elements.
    private static func chunks(_ count: Int, _ body: (Int, Int32) throws -> Void) throws {
        var start = 0
        while start < count {
            let n = Swift.min(count - start, 1 << 30)
            try body(start, Int32(n))
            start += n
        }
    }

    private static func call(_ what: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 1024)
        let code = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if code != 0 { throw ConvKitError.distributed(message: "\(what): \(text(message))") }
    }

    /// A NUL-terminated C string in a buffer.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    final class Pending: PendingReduction {
        private var slots: [Int32]
        init(slots: [Int32]) { self.slots = slots }

        func poll() throws -> Bool {
            while let slot = slots.first {
                var done: Int32 = 0
                try MPIProcessGroup.call("all-reduce") { ck_mpi_test(slot, &done, $0, $1) }
                if done == 0 { return false }
                slots.removeFirst()
            }
            return true
        }

        func wait() throws {
            while let slot = slots.first {
                slots.removeFirst()
                try MPIProcessGroup.call("all-reduce") { ck_mpi_wait(slot, $0, $1) }
            }
        }
    }
}
