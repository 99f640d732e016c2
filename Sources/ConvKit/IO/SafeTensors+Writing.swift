import Foundation

extension SafeTensors {
    /// A tensor to store: float32 values, or integers stored as I64.
    public enum Value: Sendable {
        case float32(shape: [Int], scalars: [Float])
        case int64(shape: [Int], values: [Int])

        /// The float32 value of a tensor.
        public static func tensor(_ t: Tensor) -> Value { .float32(shape: t.shape, scalars: t.scalars) }
    }

    /// The bytes of a safetensors file holding `tensors` in the given order, with
    /// `{"format": "pt"}` merged into `metadata` so PyTorch's loader accepts it.
    public static func serialize(_ tensors: [(String, Value)], metadata: [String: String] = [:]) -> [UInt8] {
        var header: [(String, JSONValue)] = []
        var meta = metadata
        if meta["format"] == nil { meta["format"] = "pt" }
        header.append(("__metadata__", .object(meta.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        var body: [UInt8] = []
        for (name, value) in tensors {
            let start = body.count
            let dtype: String
            let shape: [Int]
            switch value {
            case let .float32(s, scalars):
                dtype = "F32"
                shape = s
                for v in scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
            case let .int64(s, values):
                dtype = "I64"
                shape = s
                for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { body.append(contentsOf: $0) } }
            }
            header.append((name, .object([
                ("dtype", .string(dtype)),
                ("shape", .array(shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(start)), .number(Double(body.count))])),
            ])))
        }
        var json = Array(JSONValue.object(header).serialized.utf8)
        // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    /// Writes a safetensors file atomically: a temporary file in the same directory is
    /// written and flushed to disk, then renamed over `path`, and the directory is
    /// flushed. A failure leaves any previous file at `path` untouched.
    /// - Throws: `ConvKitError.io` naming the step that failed.
    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(serialize(tensors, metadata: metadata), to: path)
    }
}
