import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that either fully replace the destination or leave it untouched.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`
    /// and fsyncs the directory. Temporary files left by writers that were killed mid-write
    /// (their process no longer exists) are removed first.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".tmp-"
        removeAbandonedTemporaries(in: directory, prefix: prefix)
        let temporary = directory + "/" + prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ step: String) -> ConvKitError {
            .io(path: path, message: "\(step) failed: \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw failure("creating a temporary file in \(directory)") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            var written = 0
            try bytes.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = posixWrite(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure("writing")
                    }
                    written += n
                }
            }
            guard fsync(fd) == 0 else { throw failure("flushing to disk") }
        }
        guard rename(temporary, path) == 0 else { throw failure("renaming into place") }
        ok = true
        let dirFD = open(directory, O_RDONLY)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}

extension AtomicFile {
    /// Deletes `<prefix><pid>-<random>` files whose writing process is gone (SIGKILL, power loss):
    /// without this, every interrupted checkpoint would leave a full-size file behind.
    static func removeAbandonedTemporaries(in directory: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
