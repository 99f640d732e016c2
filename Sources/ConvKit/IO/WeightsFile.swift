import Foundation

/// Weights from a file of any format ConvKit reads, told apart by content, not by extension:
/// safetensors, or a PyTorch checkpoint (`.pt`/`.pth`/`.bin`, zip or legacy; see `TorchCheckpoint`).
public enum WeightsFile {
    /// The formats `read` recognises.
    public enum Format: String, Sendable, Codable {
        case safetensors, pytorchZip = "pytorch-zip", pytorchLegacy = "pytorch-legacy"
    }

    /// The format of `bytes`, or nil when they are none of the three.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .pytorchZip }
        if TorchCheckpoint.isCheckpoint(bytes) { return .pytorchLegacy }
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") { return .safetensors }
        return nil
    }

    /// Reads weights from `bytes`; `source` names them in errors.
    /// - Throws: `ConvKitError.invalidFile` when the bytes are no format ConvKit reads, or
    ///   are malformed in the one they claim.
    public static func read(bytes: [UInt8], source: String = "<memory>") throws -> SafeTensors {
        switch format(of: bytes) {
        case .safetensors: return try SafeTensors(bytes: bytes, source: source)
        case .pytorchZip, .pytorchLegacy: return try TorchCheckpoint.read(bytes: bytes, source: source)
        case nil:
            let start = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ConvKitError.invalidFile(
                path: source, message: "not a safetensors file or PyTorch checkpoint (it starts with \(start.isEmpty ? "nothing" : start))")
        }
    }

    /// Reads weights from the file at `path`.
    /// - Throws: `ConvKitError.io` when it cannot be read; otherwise as `read(bytes:source:)`.
    public static func read(contentsOf path: String) throws -> SafeTensors {
        let contents = try FileBytes.read(path)
        return try read(bytes: contents, source: path)
    }
}

/// What a weights file holds, tensor by tensor (`convkit weights ls`).
public struct WeightsListing: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let elements: Int
    }

    public let format: WeightsFile.Format
    public let tensors: [Row]
    public let totalElements: Int, totalBytes: Int
    /// The file's metadata (safetensors `__metadata__`; ConvKit's model info among it).
    public let metadata: [String: String]

    /// Lists the file at `path` (any format `WeightsFile` reads).
    public init(contentsOf path: String) throws {
        let bytes = try FileBytes.read(path)
        let file = try WeightsFile.read(bytes: bytes, source: path)
        format = WeightsFile.format(of: bytes) ?? .safetensors
        tensors = file.entries.map { Row(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, elements: $0.shape.reduce(1, *)) }
        totalElements = tensors.reduce(0) { $0 + $1.elements }
        totalBytes = file.entries.reduce(0) { $0 + $1.byteRange.count }
        metadata = file.metadata
    }
}
