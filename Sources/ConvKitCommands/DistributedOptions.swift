import ArgumentParser
import ConvKit
import Foundation

/// `train --distributed`: data-parallel training over MPI (run under `mpirun`).
struct DistributedOptions: ParsableArguments {
    @Flag(help: "Train data-parallel with the other ranks of an MPI job: mpirun -np 2 convkit train --distributed … (--batch-size is per rank).")
    var distributed = false
    @Option(parsing: .unconditional, help: "With --distributed: MiB of gradients per all-reduce (default 25, as PyTorch DDP).")
    var bucketMb: Double?
    @Flag(help: "With --distributed: batch norm over the whole global batch (nn.SyncBatchNorm) instead of each rank's own.")
    var syncBatchnorm = false

    /// Checkpoint and weights metadata: the ranks of the run that wrote them.
    static let worldSizeKey = "convkit.worldSize"

    /// The group to train in: one process, or with `--distributed` MPI's world (under an MPI launcher only).
    func processGroup() throws -> any ProcessGroup {
        if bucketMb != nil && !distributed { throw ValidationError("--bucket-mb needs --distributed") }
        if syncBatchnorm && !distributed { throw ValidationError("--sync-batchnorm needs --distributed") }
        if let bucketMb { _ = try DataParallel(group: SingleProcessGroup(), bucketMegabytes: bucketMb) }  // checked before any work
        guard distributed else { return SingleProcessGroup() }
        guard MPIProcessGroup.isLaunchedByMPI else {
            throw ValidationError("--distributed trains with the other ranks of an MPI job; start it with an MPI launcher, "
                                  + "e.g. mpirun -np 2 convkit train --distributed … (no launcher found: OMPI_COMM_WORLD_SIZE, PMI_SIZE and PMIX_RANK are unset)")
        }
        return try MPIProcessGroup.world()
    }

    /// What changes when a checkpoint of a run with another number of ranks is resumed.
    func resumeNote(checkpoint: String, worldSize: Int, batchSize: Int) throws -> String? {
        let saved = Int(try SafeTensors(contentsOf: checkpoint).metadata[Self.worldSizeKey] ?? "1") ?? 1
        guard saved != worldSize else { return nil }
        return "\(checkpoint) was written by a run of \(saved) rank(s), this one has \(worldSize): weights, optimizer state and "
            + "epoch carry over exactly; from here each step averages \(worldSize) × \(batchSize) samples instead of \(saved) × \(batchSize), "
            + "so the remaining epochs differ from an uninterrupted run of either size"
    }
}
