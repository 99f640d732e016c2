import Foundation

/// MNIST in its original IDX format (LeCun, Cortes, Burges; CC BY-SA 3.0), plain or gzipped.
public enum MNIST {
    /// Parses an IDX file's bytes, plain or gzipped (detected from the gzip magic 1f 8b): magic
    /// 0x00000801 (labels, 1-D) or 0x00000803 (images, 3-D), big-endian sizes, then unsigned bytes.
    /// A gzipped file is inflated only as far as its header's sizes justify.
    /// - Returns: the sizes and the raw bytes.
    /// - Throws: `ConvKitError.invalidFile` for a bad magic number, a size that does not fit,
    ///   or corrupt compressed data.
    public static func parseIDX(_ bytes: [UInt8], source: String = "<memory>") throws -> (shape: [Int], values: [UInt8]) {
        guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else {
            let (shape, count) = try idxHeader(bytes, source: source)
            let headerSize = 4 + 4 * shape.count
            guard bytes.count - headerSize == count else {
                throw ConvKitError.invalidFile(
                    path: source, message: "IDX sizes \(shape) need \(count) data bytes, the file has \(bytes.count - headerSize)")
            }
            return (shape, Array(bytes[headerSize...]))
        }
        // Inflate the 4-byte magic, then the sizes, then exactly the data they declare.
        let magic = try Zlib.decompressPrefix(bytes, count: 4, source: source)
        let rank = magic.count == 4 ? Int(magic[3]) : 0
        let (shape, count) = try idxHeader(try Zlib.decompressPrefix(bytes, count: 4 + 4 * rank, source: source), source: source)
        let headerSize = 4 + 4 * shape.count
        guard count / Zlib.maxRatio <= bytes.count else {
            throw ConvKitError.invalidFile(
                path: source, message: "IDX sizes \(shape) need \(count) data bytes; \(bytes.count) compressed bytes cannot hold them (truncated?)")
        }
        let all = try Zlib.decompress(bytes, source: source, limit: headerSize + count)
        guard all.count == headerSize + count else {
            throw ConvKitError.invalidFile(
                path: source, message: "IDX sizes \(shape) need \(count) data bytes, the file has \(all.count - headerSize)")
        }
        return (shape, Array(all[headerSize...]))
    }

    /// The sizes in an IDX header and the number of data bytes they declare (overflow-checked).
    static func idxHeader(_ bytes: [UInt8], source: String) throws -> (shape: [Int], count: Int) {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, [1, 3].contains(bytes[3]) else {
            let magic = bytes.prefix(4).map { String(format: "%02x", $0) }.joined()
            throw ConvKitError.invalidFile(
                path: source, message: "not an MNIST IDX file: magic 0x\(magic), expected 0x00000801 (labels) or 0x00000803 (images)")
        }
        let rank = Int(bytes[3])
        guard bytes.count >= 4 + 4 * rank else {
            throw ConvKitError.invalidFile(path: source, message: "IDX header ends early (\(bytes.count) bytes)")
        }
        let shape = (0..<rank).map { a in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * a + $1]) } }
        // Checked: forged sizes must not overflow (the product of three 32-bit sizes can).
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw ConvKitError.invalidFile(path: source, message: "IDX sizes \(shape) are larger than the file (\(bytes.count) bytes)")
            }
            count = product
        }
        return (shape, count)
    }

    /// Reads an IDX file, plain or gzipped.
    public static func readIDX(path: String) throws -> (shape: [Int], values: [UInt8]) {
        let data = try FileBytes.read(path)
        return try parseIDX(data, source: path)
    }

    /// Loads an images file and a labels file as a dataset of (1, 28, 28) samples scaled to [0, 1].
    /// - Throws: `ConvKitError.invalidFile` when the counts differ or a label is not 0…9.
    public static func load(images imagesPath: String, labels labelsPath: String) throws -> ImageDataset {
        let images = try readIDX(path: imagesPath), labels = try readIDX(path: labelsPath)
        guard images.shape.count == 3, labels.shape.count == 1 else {
            throw ConvKitError.invalidFile(path: imagesPath, message: "expected a 3-D images file and a 1-D labels file")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw ConvKitError.invalidFile(
                path: labelsPath, message: "\(labels.shape[0]) labels for \(images.shape[0]) images")
        }
        if let bad = labels.values.first(where: { $0 > 9 }) {
            throw ConvKitError.invalidFile(path: labelsPath, message: "label \(bad) is not a digit 0…9")
        }
        return try ImageDataset(sampleShape: [1, images.shape[1], images.shape[2]],
                                pixels: images.values.map { Float($0) / 255 }, labels: labels.values.map { Int($0) },
                                classNames: (0...9).map(String.init))
    }

    /// Loads the standard four files from a folder (`train-images-idx3-ubyte[.gz]`, …).
    public static func load(folder: String, split: Split) throws -> ImageDataset {
        let prefix = split == .train ? "train" : "t10k"
        func find(_ stem: String) throws -> String {
            for name in ["\(prefix)-\(stem)-ubyte.gz", "\(prefix)-\(stem)-ubyte", "\(prefix)-\(stem).gz"] {
                let path = (folder as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            throw ConvKitError.io(path: folder, message: "no \(prefix)-\(stem)-ubyte[.gz] in this folder")
        }
        return try load(images: try find("images-idx3"), labels: try find("labels-idx1"))
    }

    /// Which half of MNIST.
    public enum Split: String, Sendable, CaseIterable { case train, test }

    /// The mean and standard deviation of MNIST's training pixels (in [0, 1]), as
    /// `transforms.Normalize((0.1307,), (0.3081,))` in PyTorch's examples.
    public static let normalization: (mean: Float, std: Float) = (0.1307, 0.3081)

    /// The MNIST subset bundled with ConvKit: 4,000 training and 1,000 test digits,
    /// stratified by class, in the original IDX gzip files.
    /// - Parameter normalized: whether to apply `normalization` (zero mean, unit variance).
    public static func bundled(_ split: Split, normalized: Bool = false) throws -> ImageDataset {
        guard let folder = Bundle.module.url(forResource: "mnist-5k", withExtension: nil) else {
            throw ConvKitError.io(path: "mnist-5k", message: "the bundled MNIST subset is missing from ConvKit's resources")
        }
        let data = try load(folder: folder.path, split: split)
        return normalized ? try data.normalized(mean: [normalization.mean], std: [normalization.std]) : data
    }
}
