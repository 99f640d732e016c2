import ConvKit
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A published file and the checksum it must have.
public struct RemoteFile: Sendable, Equatable {
    public enum Checksum: Sendable, Equatable {
        /// 32 lowercase hex digits (MNIST, CIFAR-10).
        case md5(String)
        /// The first hex digits of the SHA-256, as `torch.hub` checks the suffix of a weights file's name.
        case sha256Prefix(String)
    }

    public let url: URL
    public let checksum: Checksum
    /// The name to store it under.
    public var fileName: String { url.lastPathComponent }

    public init(url: URL, checksum: Checksum) {
        self.url = url
        switch checksum {
        case let .md5(hex): self.checksum = .md5(hex.lowercased())
        case let .sha256Prefix(hex): self.checksum = .sha256Prefix(hex.lowercased())
        }
    }

    public init(url: URL, md5: String) { self.init(url: url, checksum: .md5(md5)) }

    /// Whether `digest` (MD5 or SHA-256 hex, whichever `checksum` names) matches.
    func matches(md5: String, sha256: String) -> Bool {
        switch checksum {
        case let .md5(hex): md5 == hex
        case let .sha256Prefix(prefix): !prefix.isEmpty && sha256.hasPrefix(prefix)
        }
    }

    var expected: String {
        switch checksum {
        case let .md5(hex): "MD5 \(hex)"
        case let .sha256Prefix(prefix): "SHA-256 starting \(prefix)"
        }
    }
}

/// Downloads files and verifies their checksums before they are kept.
public enum Downloader {
    /// Bytes so far and the total, when the server says it.
    public typealias Progress = @Sendable (_ received: Int64, _ total: Int64?) -> Void

    /// Makes sure `file` is in `directory` with the right checksum: an existing file that
    /// matches is kept; otherwise it is streamed to a temporary file beside its destination
    /// (hashed as it arrives), checked, and only then renamed into place, so a failed,
    /// interrupted or corrupt download never leaves a file that looks valid.
    /// - Returns: the path of the verified file.
    /// - Throws: `ConvKitError.io` when the download fails (with the HTTP status or the
    ///   system's reason), `ConvKitError.invalidFile` when the checksum differs.
    @discardableResult
    public static func fetch(_ file: RemoteFile, into directory: String, progress: Progress? = nil) async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = URL(fileURLWithPath: directory).appendingPathComponent(file.fileName)
        if FileManager.default.fileExists(atPath: destination.path), let (md5, sha256) = try? digests(of: destination),
           file.matches(md5: md5, sha256: sha256) {
            return destination.path
        }
        let temporary = URL(fileURLWithPath: directory).appendingPathComponent(".\(file.fileName).partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let (md5, sha256) = try await StreamingDownload.run(file.url, to: temporary, progress: progress)
        guard file.matches(md5: md5, sha256: sha256) else {
            let actual: String = if case .md5 = file.checksum { md5 } else { sha256 }
            throw ConvKitError.invalidFile(path: file.url.absoluteString,
                                           message: "checksum mismatch: expected \(file.expected), got \(actual); the file was not saved")
        }
        // rename(2) within one folder: the file appears whole or not at all.
        guard rename(temporary.path, destination.path) == 0 else {
            throw ConvKitError.io(path: destination.path, message: "cannot move the download into place: \(String(cString: strerror(errno)))")
        }
        return destination.path
    }

    /// MD5 and SHA-256 of a file, read in 1 MiB chunks (swift-crypto).
    public static func digests(of url: URL) throws -> (md5: String, sha256: String) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var md5 = Insecure.MD5(), sha256 = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            md5.update(data: chunk)
            sha256.update(data: chunk)
        }
        return (hex(md5.finalize()), hex(sha256.finalize()))
    }

    /// The MD5 of `bytes` as 32 lowercase hex digits.
    public static func md5(_ bytes: [UInt8]) -> String { hex(Insecure.MD5.hash(data: bytes)) }

    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func sha256(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    static func hex(_ digest: some Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}

/// One HTTP GET streamed to a file through a URLSession delegate, hashing as the bytes arrive.
final class StreamingDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private let output: FileHandle
    private let progress: Downloader.Progress?
    private let url: URL
    private var md5 = Insecure.MD5(), sha256 = SHA256()
    private var received: Int64 = 0, expected: Int64?
    private var failure: Error?
    private var continuation: CheckedContinuation<(String, String), Error>?

    private init(url: URL, output: FileHandle, progress: Downloader.Progress?) {
        (self.url, self.output, self.progress) = (url, output, progress)
    }

    static func run(_ url: URL, to file: URL, progress: Downloader.Progress?) async throws -> (md5: String, sha256: String) {
        guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else {
            throw ConvKitError.io(path: file.path, message: "cannot create the download's temporary file")
        }
        defer { try? handle.close() }
        let download = StreamingDownload(url: url, output: handle, progress: progress)
        let session = URLSession(configuration: .ephemeral, delegate: download, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let (md5, sha256) = try await withCheckedThrowingContinuation { continuation in
            download.lock.withLock { download.continuation = continuation }
            session.dataTask(with: url).resume()
        }
        try handle.synchronize()
        return (md5, sha256)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            lock.withLock { failure = ConvKitError.io(path: url.absoluteString, message: "download failed: HTTP status \(http.statusCode)") }
            completionHandler(.cancel)
            return
        }
        lock.withLock { expected = response.expectedContentLength > 0 ? response.expectedContentLength : nil }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (count, total): (Int64, Int64?) = lock.withLock {
            guard failure == nil else { return (received, expected) }
            do {
                try output.write(contentsOf: data)
                md5.update(data: data)
                sha256.update(data: data)
                received += Int64(data.count)
            } catch {
                failure = ConvKitError.io(path: url.absoluteString, message: "writing the download failed: \(error.localizedDescription)")
                dataTask.cancel()
            }
            return (received, expected)
        }
        progress?(count, total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (continuation, result): (CheckedContinuation<(String, String), Error>?, Result<(String, String), Error>) = lock.withLock {
            defer { self.continuation = nil }
            if let failure { return (self.continuation, .failure(failure)) }
            if let error {
                return (self.continuation, .failure(ConvKitError.io(path: url.absoluteString, message: "download failed: \(error.localizedDescription)")))
            }
            if let expected, received != expected {
                return (self.continuation, .failure(ConvKitError.io(
                    path: url.absoluteString, message: "download failed: the transfer ended after \(received) of \(expected) bytes")))
            }
            return (self.continuation, .success((Downloader.hex(md5.finalize()), Downloader.hex(sha256.finalize()))))
        }
        continuation?.resume(with: result)
    }
}

extension MNIST {
    /// The four files of full MNIST with the MD5s published for them.
    /// - Parameter mirror: the base URL (default: PyTorch's S3 mirror of Yann LeCun's files).
    public static func remoteFiles(mirror: URL = URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!) -> [RemoteFile] {
        [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
         ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
         ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
         ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
            .map { RemoteFile(url: mirror.appendingPathComponent($0.0), md5: $0.1) }
    }

    /// Downloads full MNIST (60,000 + 10,000 digits) into `folder`, verified, and loads a split.
    public static func download(into folder: String, split: Split,
                                mirror: URL = URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!) async throws -> ImageDataset {
        for file in remoteFiles(mirror: mirror) { try await Downloader.fetch(file, into: folder) }
        return try load(folder: folder, split: split)
    }
}

extension CIFAR10 {
    /// The published archive and its MD5.
    public static let remoteFile = RemoteFile(url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!,
                                              md5: "c32a1d4ab5d03f1284b67883e8d87530")

    /// Downloads the archive into `folder` (verified against its MD5), extracts the batch
    /// files, and loads a split.
    public static func download(into folder: String, split: MNIST.Split, from file: RemoteFile = remoteFile) async throws -> ImageDataset {
        let archive = try await Downloader.fetch(file, into: folder)
        return try extractAndLoad(archive: archive, into: folder, split: split)
    }
}
