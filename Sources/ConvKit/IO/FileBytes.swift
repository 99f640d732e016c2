#if canImport(Glibc)
import Glibc
private func readBytes(_ fd: Int32, _ to: UnsafeMutableRawPointer, _ count: Int) -> Int { Glibc.read(fd, to, count) }
#elseif canImport(Darwin)
import Darwin
private func readBytes(_ fd: Int32, _ to: UnsafeMutableRawPointer, _ count: Int) -> Int { Darwin.read(fd, to, count) }
#endif

/// Whole files as byte arrays, read straight into the array (no `Data` and second copy in
/// between: a 500 MB checkpoint costs 500 MB, not a gigabyte, while it is parsed).
enum FileBytes {
    /// The bytes of the regular file at `path`.
    /// - Throws: `ConvKitError.io` when it is missing, unreadable or not a regular file.
    static func read(_ path: String) throws -> [UInt8] {
        func fail(_ message: String = "cannot read the file (missing or unreadable)") -> ConvKitError { .io(path: path, message: message) }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw fail() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail() }
        guard info.st_mode & S_IFMT == S_IFREG else { throw fail("not a regular file") }
        let size = Int(info.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var at = 0
            while at < size {
                let n = readBytes(fd, buffer.baseAddress! + at, size - at)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { failed = n < 0; break }
                at += n
            }
            initialized = at  // a file that shrank while read gives what it still had
        }
        guard !failed else { throw fail() }
        return bytes
    }
}
