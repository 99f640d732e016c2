import Foundation

/// CIFAR-10 in its binary version (Krizhevsky 2009): records of 3,073 bytes — a label byte,
/// then 1,024 red, 1,024 green and 1,024 blue bytes of a 32×32 image.
public enum CIFAR10 {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    /// The per-channel mean and standard deviation of the training images (RGB), as commonly used.
    public static let normalization: (mean: [Float], std: [Float]) = ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
    static let recordSize = 3073

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

    /// Reads a split straight from the published archive's bytes (`cifar-10-binary.tar.gz`,
    /// or the tar inside it), without extracting files.
    /// - Throws: `ConvKitError.invalidFile` when the archive is corrupt or lacks the split's batch files.
    public static func parseArchive(_ bytes: [UInt8], split: MNIST.Split, source: String = "<memory>") throws -> ImageDataset {
        let tar = bytes.starts(with: [0x1F, 0x8B]) ? try Zlib.gunzip(bytes, source: source) : bytes
        let entries = try Tar.entries(tar, source: source)
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        var records = [UInt8]()
        for name in names {
            guard let entry = entries.first(where: { !$0.isDirectory && $0.components.last == name }) else {
                throw ConvKitError.invalidFile(path: source, message: "the archive has no \(name)")
            }
            records += tar[entry.contents]
        }
        return try parse(records, source: source)
    }

    /// Extracts the batch files of a downloaded archive into `folder` (once) and loads a split
    /// (`CIFAR10.download` in ConvKitHub fetches the archive).
    public static func extractAndLoad(archive: String, into folder: String, split: MNIST.Split) throws -> ImageDataset {
        let target = (folder as NSString).appendingPathComponent("cifar-10-batches-bin")
        if !FileManager.default.fileExists(atPath: (target as NSString).appendingPathComponent("test_batch.bin")) {
            guard let data = FileManager.default.contents(atPath: archive) else {
                throw ConvKitError.io(path: archive, message: "cannot read the downloaded archive")
            }
            try Tar.extract(try Zlib.gunzip([UInt8](data), source: archive), into: folder, source: archive)
        }
        return try load(folder: target, split: split)
    }
}

/// Reads ustar/GNU tar streams (what the CIFAR-10 archive is): regular files and folders.
enum Tar {
    struct Entry {
        /// The path's components ("." and empty ones dropped; a leading "/" is ignored, as GNU tar does).
        let components: [String]
        let isDirectory: Bool
        let contents: Range<Int>
        var name: String { components.joined(separator: "/") }
    }

    /// The entries of a tar stream, in order, as byte ranges of `bytes` (nothing is copied or written).
    /// Links and other special entries are skipped.
    static func entries(_ bytes: [UInt8], source: String) throws -> [Entry] {
        var entries: [Entry] = []
        var at = 0
        while at + 512 <= bytes.count {
            let header = bytes[at..<(at + 512)]
            if header.allSatisfy({ $0 == 0 }) { break }
            func field(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
                header[(at + offset)..<(at + offset + length)].prefix { $0 != 0 }
            }
            func text(_ offset: Int, _ length: Int) -> String { String(decoding: field(offset, length), as: UTF8.self) }
            let name = field(345, 155).isEmpty ? text(0, 100) : text(345, 155) + "/" + text(0, 100)
            // The size is octal digits, space- or NUL-padded (the GNU base-256 form is for files ≥ 8 GiB).
            let digits = field(124, 12).filter { $0 != UInt8(ascii: " ") }
            guard !digits.isEmpty, digits.count <= 11, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else {
                throw ConvKitError.invalidFile(path: source, message: "tar header at byte \(at) has a bad size field")
            }
            let size = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
            let type = bytes[at + 156]
            at += 512
            guard size <= bytes.count - at else {
                throw ConvKitError.invalidFile(path: source, message: "tar entry \(name) runs past the end (truncated?)")
            }
            let components = name.split(separator: "/").map(String.init).filter { $0 != "." }
            guard !components.contains("..") else {
                throw ConvKitError.invalidFile(path: source, message: "tar entry \(name) points outside the target folder")
            }
            if !components.isEmpty && (type == UInt8(ascii: "5") || type == 0 || type == UInt8(ascii: "0")) {
                entries.append(Entry(components: components, isDirectory: type == UInt8(ascii: "5"), contents: at..<(at + size)))
            }
            at += (size + 511) / 512 * 512
        }
        return entries
    }

    /// Writes the regular files and folders of a tar stream under `folder`.
    static func extract(_ bytes: [UInt8], into folder: String, source: String) throws {
        for entry in try entries(bytes, source: source) {
            // Joined by hand: the names are untrusted, and only whole components are kept.
            let parent = ([folder] + entry.components.dropLast(entry.isDirectory ? 0 : 1)).joined(separator: "/")
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            if !entry.isDirectory {
                try AtomicFile.write(Array(bytes[entry.contents]), to: parent + "/" + entry.components.last!)
            }
        }
    }
}
