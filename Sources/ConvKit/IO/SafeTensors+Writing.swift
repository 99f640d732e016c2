import Foundation

extension SafeTensors {
    /// A tensor to store: float32 values, integers stored as I64, or the little-endian bytes
    /// of any dtype as they are (a checkpoint's F16 weights, BOOL masks…).
    public enum Value: Sendable {
        case float32(shape: [Int], scalars: [Float])
        case int64(shape: [Int], values: [Int])
        case raw(dtype: DType, shape: [Int], bytes: [UInt8])

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
            case let .raw(type, s, bytes):
                dtype = type.rawValue
                shape = s
                body += bytes
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

    /// Every stored tensor, in data order, with floating-point tensors stored as `floatType`
    /// (F32, F16, BF16 or F64; rounded to nearest even) or as they are when nil; integer and
    /// boolean tensors are kept as they are. `convkit convert --dtype` is this.
    /// - Throws: `ConvKitError.invalidArgument` when `floatType` is not a floating-point type.
    public func values(floatType: DType? = nil) throws -> [(String, Value)] {
        if let floatType, !floatType.isFloatingPoint {
            throw ConvKitError.invalidArgument(op: "SafeTensors.values", argument: "floatType",
                                               message: "must be F32, F16, BF16 or F64, got \(floatType.rawValue)")
        }
        return try entries.map { e in
            guard let floatType, e.dtype.isFloatingPoint, floatType != e.dtype else {
                return (e.name, .raw(dtype: e.dtype, shape: e.shape, bytes: try storedBytes(e.name)))
            }
            return (e.name, .raw(dtype: floatType, shape: e.shape, bytes: Self.encode(try tensor(e.name).scalars, as: floatType)))
        }
    }

    /// Float32 values as little-endian `dtype` bytes (a floating-point type), rounded to nearest even.
    static func encode(_ values: [Float], as dtype: DType) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * dtype.byteSize)
        for v in values {
            switch dtype {
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            case .bf16: withUnsafeBytes(of: floatToBFloat16(v).littleEndian) { out.append(contentsOf: $0) }
            case .f64: withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// float → bfloat16 (the upper 16 bits, rounded to nearest even; NaN stays NaN), as PyTorch's `.bfloat16()`.
    static func floatToBFloat16(_ v: Float) -> UInt16 {
        if v.isNaN { return UInt16(truncatingIfNeeded: v.bitPattern >> 16) | 0x0040 }
        let bits = v.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// Writes a safetensors file atomically: a temporary file in the same directory is
    /// written and flushed to disk, then renamed over `path`, and the directory is
    /// flushed. A failure leaves any previous file at `path` untouched.
    /// - Throws: `ConvKitError.io` naming the step that failed.
    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(serialize(tensors, metadata: metadata), to: path)
    }
}
