import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file published with its MD5 checksum.
public struct RemoteFile: Sendable, Equatable {
    public let url: URL
    /// 32 lowercase hex digits.
    public let md5: String
    /// The name to store it under.
    public var fileName: String { url.lastPathComponent }

    public init(url: URL, md5: String) {
        self.url = url
        self.md5 = md5.lowercased()
    }
}

/// Downloads files and verifies their checksums before they are used.
public enum Downloader {
    /// Makes sure `file` is in `directory` with the right checksum: an existing file that
    /// matches is kept; otherwise it is downloaded to a temporary name, checked, and only
    /// then moved into place, so a failed or corrupt download never leaves a file that looks valid.
    /// - Returns: the path of the verified file.
    /// - Throws: `ConvKitError.io` when the download fails (with the HTTP status or the
    ///   system's reason), `ConvKitError.invalidFile` when the checksum differs.
    @discardableResult
    public static func fetch(_ file: RemoteFile, into directory: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let destination = (directory as NSString).appendingPathComponent(file.fileName)
        if let existing = FileManager.default.contents(atPath: destination), MD5.hex([UInt8](existing)) == file.md5 {
            return destination
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: file.url)
        } catch {
            throw ConvKitError.io(path: file.url.absoluteString, message: "download failed: \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw ConvKitError.io(path: file.url.absoluteString, message: "download failed: HTTP status \(http.statusCode)")
        }
        let digest = MD5.hex([UInt8](data))
        guard digest == file.md5 else {
            throw ConvKitError.invalidFile(
                path: file.url.absoluteString, message: "checksum mismatch: expected MD5 \(file.md5), got \(digest); the file was not saved")
        }
        try AtomicFile.write([UInt8](data), to: destination)
        return destination
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
