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
        let layout = tensors.map { name, value in
            switch value {
            case let .float32(shape, scalars): Layout(name: name, dtype: .f32, shape: shape, byteCount: scalars.count * 4)
            case let .int64(shape, values): Layout(name: name, dtype: .i64, shape: shape, byteCount: values.count * 8)
            case let .raw(dtype, shape, bytes): Layout(name: name, dtype: dtype, shape: shape, byteCount: bytes.count)
            }
        }
        return serialize(layout, metadata: metadata) { i, out in
            switch tensors[i].1 {
            case let .float32(_, scalars):
                for (j, v) in scalars.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * j, as: UInt32.self) }
            case let .int64(_, values):
                for (j, v) in values.enumerated() { out.storeBytes(of: Int64(v).littleEndian, toByteOffset: 8 * j, as: Int64.self) }
            case let .raw(_, _, bytes):
                out.copyBytes(from: bytes)
            }
        }
    }

    /// Where one tensor goes in a file `serialize(_:metadata:write:)` lays out.
    struct Layout {
        let name: String, dtype: DType, shape: [Int], byteCount: Int
    }

    /// The bytes of a safetensors file of the tensors in `layout`, each written in place by
    /// `write(index, its bytes)`: one buffer, no copy of each tensor first (a checkpoint's
    /// tensors go from the file they were read from straight into it).
    static func serialize(_ layout: [Layout], metadata: [String: String], write: (Int, UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
        var header: [(String, JSONValue)] = []
        var meta = metadata
        if meta["format"] == nil { meta["format"] = "pt" }
        header.append(("__metadata__", .object(meta.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        var offset = 0
        for t in layout {
            header.append((t.name, .object([
                ("dtype", .string(t.dtype.rawValue)),
                ("shape", .array(t.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + t.byteCount))])),
            ])))
            offset += t.byteCount
        }
        var json = Array(JSONValue.object(header).serialized.utf8)
        // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        let start = 8 + json.count
        return [UInt8](unsafeUninitializedCapacity: start + offset) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: UInt64(json.count).littleEndian, as: UInt64.self)
            UnsafeMutableRawBufferPointer(rebasing: raw[8..<start]).copyBytes(from: json)
            var at = start
            for (i, t) in layout.enumerated() {
                write(i, UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + t.byteCount)]))
                at += t.byteCount
            }
            initialized = start + offset
        }
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
