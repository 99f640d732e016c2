import _ConvKitMicroKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MicroKernel {
    /// The most worker threads a kernel uses: `CONVKIT_THREADS` when it is an integer in 1…64,
    /// else the CPUs this process may run on (its affinity mask, so a rank that `mpirun` binds to
    /// one core uses one thread), at most 64.
    static let threads: Int = threadSetting(getenv("CONVKIT_THREADS").map { String(cString: $0) }) ?? allowedCPUs

    /// `CONVKIT_THREADS` as a thread count, or nil when it is absent or not an integer in 1…64
    /// (the CLI reports that as an error; the kernels then use every allowed CPU).
    public static func threadSetting(_ text: String?) -> Int? {
        guard let text, let n = Int(text), (1...64).contains(n) else { return nil }
        return n
    }

    /// Worker threads in use (see `threads`).
    public static var workerThreads: Int { threads }

    /// CPUs in this process's affinity mask (1…64).
    static var allowedCPUs: Int { max(1, min(Int(ck_allowed_cpus()), 64)) }
}
