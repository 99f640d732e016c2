import _ConvKitKernels
import Foundation

/// The worker threads ConvKit's kernels use: `CONVKIT_THREADS` when it is an integer in 1…64,
/// else the CPUs this process may run on (its affinity mask: a rank that `mpirun` binds to one
/// core uses one thread), at most 64. Read once, at the first kernel call.
public enum KernelThreads {
    /// The thread count in use.
    public static var count: Int { MicroKernel.workerThreads }

    /// - Throws: `ConvKitError.invalidArgument` when `CONVKIT_THREADS` is set but is not an
    ///   integer in 1…64 (the kernels would ignore it and use every allowed CPU).
    public static func checkEnvironment() throws {
        guard let text = ProcessInfo.processInfo.environment["CONVKIT_THREADS"] else { return }
        guard MicroKernel.threadSetting(text) != nil else {
            throw ConvKitError.invalidArgument(op: "environment", argument: "CONVKIT_THREADS",
                                               message: "must be an integer in 1…64, got '\(text.prefix(40))'")
        }
    }
}
