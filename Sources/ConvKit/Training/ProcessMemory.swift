import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This process's memory use: for showing that a long training run does not leak (resident
/// memory flat across epochs) and for comparing peak memory in benchmarks.
public enum ProcessMemory {
    /// The resident set size now, in bytes (Linux: `/proc/self/statm`); nil where unavailable.
    public static func residentBytes() -> Int? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        return nil
        #endif
    }

    /// The largest resident set size so far (`getrusage`), in bytes.
    public static func peakResidentBytes() -> Int? {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return nil }
        #if os(Linux)
        return usage.ru_maxrss * 1024  // kilobytes on Linux
        #else
        return usage.ru_maxrss  // bytes on Darwin
        #endif
    }
}
