import Foundation

/// CIFAR-10 in its binary version (Krizhevsky 2009): records of 3,073 bytes — a label byte,
/// then 1,024 red, 1,024 green and 1,024 blue bytes of a 32×32 image.
public enum CIFAR10 {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    static let recordSize = 3073

    /// The published archive and its MD5.
    public static let remoteFile = RemoteFile(url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!,
                                              md5: "c32a1d4ab5d03f1284b67883e8d87530")

    /// Parses the bytes of one or more batch files into (3, 32, 32) samples scaled to [0, 1].
    /// - Throws: `ConvKitError.invalidFile` when the size is not a whole number of records or a label is not 0…9.
    public static func parse(_ bytes: [UInt8], source: String = "<memory>") throws -> ImageDataset {
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw ConvKitError.invalidFile(
                path: source, message: "CIFAR-10 batches are whole 3,073-byte records; \(bytes.count) bytes is not")
        }
        let n = bytes.count / recordSize
        var labels = [Int](), pixels = [Float]()
        labels.reserveCapacity(n)
        pixels.reserveCapacity(n * 3072)
        for r in 0..<n {
            let base = r * recordSize
            guard bytes[base] < 10 else {
                throw ConvKitError.invalidFile(path: source, message: "record \(r) has label \(bytes[base]), expected 0…9")
            }
            labels.append(Int(bytes[base]))
            for i in 1..<recordSize { pixels.append(Float(bytes[base + i]) / 255) }
        }
        return try ImageDataset(sampleShape: [3, 32, 32], pixels: pixels, labels: labels, classNames: classNames)
    }

    /// Loads the training (data_batch_1…5.bin) or test (test_batch.bin) split from the
    /// folder the archive extracts to (`cifar-10-batches-bin`).
    public static func load(folder: String, split: MNIST.Split) throws -> ImageDataset {
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        var bytes = [UInt8]()
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConvKitError.io(path: path, message: "cannot read the CIFAR-10 batch file")
            }
            bytes += data
        }
        return try parse(bytes, source: folder)
    }

    /// Downloads the archive into `folder` (verified against its MD5), extracts the batch
    /// files, and loads a split.
    public static func download(into folder: String, split: MNIST.Split, from file: RemoteFile = remoteFile) async throws -> ImageDataset {
        let archive = try await Downloader.fetch(file, into: folder)
        let target = (folder as NSString).appendingPathComponent("cifar-10-batches-bin")
        if !FileManager.default.fileExists(atPath: (target as NSString).appendingPathComponent("test_batch.bin")) {
            guard let data = FileManager.default.contents(atPath: archive) else {
                throw ConvKitError.io(path: archive, message: "cannot read the downloaded archive")
            }
            try Tar.extract(try Zlib.decompress([UInt8](data), source: archive), into: folder, source: archive)
        }
        return try load(folder: target, split: split)
    }
}

/// Extracts regular files from a ustar/GNU tar stream (what the CIFAR-10 archive is).
enum Tar {
    static func extract(_ bytes: [UInt8], into folder: String, source: String) throws {
        var at = 0
        while at + 512 <= bytes.count {
            let header = Array(bytes[at..<(at + 512)])
            if header.allSatisfy({ $0 == 0 }) { break }
            func field(_ offset: Int, _ length: Int) -> String {
                String(decoding: header[offset..<(offset + length)].prefix { $0 != 0 }, as: UTF8.self)
            }
            let name = field(345, 155).isEmpty ? field(0, 100) : field(345, 155) + "/" + field(0, 100)
            guard let size = Int(field(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) else {
                throw ConvKitError.invalidFile(path: source, message: "tar header at byte \(at) has a bad size field")
            }
            let type = header[156]
            at += 512
            guard at + size <= bytes.count else {
                throw ConvKitError.invalidFile(path: source, message: "tar entry \(name) runs past the end (truncated?)")
            }
            guard !name.split(separator: "/").contains("..") else {
                throw ConvKitError.invalidFile(path: source, message: "tar entry \(name) points outside the target folder")
            }
            let path = (folder as NSString).appendingPathComponent(name)
            if type == UInt8(ascii: "5") {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } else if type == 0 || type == UInt8(ascii: "0") {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try AtomicFile.write(Array(bytes[at..<(at + size)]), to: path)
            }
            at += (size + 511) / 512 * 512
        }
    }
}
