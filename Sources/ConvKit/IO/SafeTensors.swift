import Foundation

/// A safetensors file: an 8-byte little-endian header length, a JSON header mapping names
/// to `{dtype, shape, data_offsets}` (offsets relative to the data section) plus an
/// optional `__metadata__` string map, then the raw little-endian data.
///
/// Reading validates as the reference implementation does: header at most 100 MB, valid
/// JSON without duplicate names, known dtypes, byte sizes equal to dtype size × shape
/// (overflow-checked), offsets contiguous from 0 with no gap or overlap, and the file
/// length exact.
public struct SafeTensors: Sendable {
    /// Element types of the format that ConvKit reads.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16, .i16: 2
            case .i8, .u8, .bool: 1
            }
        }

        /// F64, F32, F16 or BF16.
        public var isFloatingPoint: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
    }

    /// One stored tensor: its dtype, shape and byte range within the data section.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let byteRange: Range<Int>
    }

    /// The largest header accepted, as the reference reader.
    public static let maxHeaderSize = 100_000_000
    /// The most JSON values a header may hold (a tensor entry takes about 8): far above any real
    /// model's, and it keeps a 100 MB header of `[0,0,0,…]` from becoming a 1 GB parse tree.
    public static let maxHeaderValues = 4_000_000

    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Entries in data order.
    public let entries: [Entry]
    /// The whole file (kept as read, not copied); tensor data starts at `dataStart`.
    private let bytes: [UInt8]
    private let dataStart: Int
    /// Where the bytes came from (a path, or "<memory>"), for error messages.
    public let source: String

    /// Names of the stored tensors, in data order.
    public var names: [String] { entries.map(\.name) }

    /// Reads and validates a file.
    /// - Throws: `ConvKitError.io` when it cannot be read, `ConvKitError.invalidFile` when
    ///   it does not follow the format.
    public init(contentsOf path: String) throws {
        let contents = try FileBytes.read(path)
        try self.init(bytes: contents, source: path)
    }

    /// Parses and validates a file's bytes; `source` names it in errors.
    public init(bytes: [UInt8], source: String = "<memory>") throws {
        self.source = source
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "safetensors: " + message) }
        guard bytes.count >= 8 else { throw fail("file has \(bytes.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        guard n <= UInt64(SafeTensors.maxHeaderSize) else {
            throw fail("header length \(n) exceeds the limit of \(SafeTensors.maxHeaderSize) bytes")
        }
        let headerLength = Int(n)
        guard headerLength <= bytes.count - 8 else {
            throw fail("header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(bytes[8..<(8 + headerLength)], maxValues: SafeTensors.maxHeaderValues)
        } catch let e as JSONValue.ParseError {
            throw fail("header is not valid JSON: \(e.description)")
        }
        guard case let .object(pairs) = header else { throw fail("header must be a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in pairs {
            if name == "__metadata__" {
                guard case let .object(meta) = value else { throw fail("__metadata__ must be an object of strings") }
                for (k, v) in meta {
                    guard let s = v.stringValue else { throw fail("__metadata__[\(k)] must be a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let dtypeName = value["dtype"]?.stringValue else { throw fail("tensor '\(name)' has no dtype string") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)' has unsupported dtype \(dtypeName); expected one of "
                    + DType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let shapeValues = value["shape"]?.arrayValue else { throw fail("tensor '\(name)' has no shape array") }
            let shape = shapeValues.compactMap(\.intValue)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)' shape must be non-negative integers")
            }
            guard let offsets = value["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("tensor '\(name)' data_offsets must be two integers [begin, end] with 0 ≤ begin ≤ end")
            }
            var expected = dtype.byteSize
            for d in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor '\(name)' shape \(shape) overflows its byte size") }
                expected = product
            }
            guard offsets[1] - offsets[0] == expected else {
                throw fail("tensor '\(name)' spans \(offsets[1] - offsets[0]) bytes but \(dtypeName) \(shape) needs \(expected)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1]))
        }
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        var cursor = 0
        for e in entries {
            guard e.byteRange.lowerBound == cursor else {
                throw fail("tensor '\(e.name)' starts at byte \(e.byteRange.lowerBound) but the previous data ends at "
                    + "\(cursor) (offsets must be contiguous, without gaps or overlaps)")
            }
            cursor = e.byteRange.upperBound
        }
        let dataLength = bytes.count - 8 - headerLength
        guard cursor == dataLength else {
            throw fail("data section has \(dataLength) bytes but the tensors account for \(cursor)")
        }
        self.metadata = metadata
        self.entries = entries
        self.bytes = bytes
        self.dataStart = 8 + headerLength
    }

    /// The entry named `name`.
    public func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ConvKitError.invalidFile(path: source, message: "safetensors: no tensor named '\(name)'")
        }
        return e
    }

    /// The stored little-endian bytes of tensor `name`, as they are.
    public func storedBytes(_ name: String) throws -> [UInt8] {
        let range = try entry(name).byteRange
        return Array(bytes[(dataStart + range.lowerBound)..<(dataStart + range.upperBound)])
    }

    /// The tensor `name` converted to float32 (from any stored dtype).
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        return Tensor(uncheckedShape: e.shape, scalars: floats(e))
    }

    /// The tensor `name` as integers (for I64 labels, indices and counters).
    /// - Throws: `ConvKitError.invalidFile` when a stored floating-point value is not a whole
    ///   number that fits in `Int` (NaN, infinity, 1e30, 0.5).
    public func integers(_ name: String) throws -> [Int] {
        let e = try entry(name)
        guard e.dtype == .i64 else {
            return try decode(e).map { value in
                guard let exact = Int(exactly: value) else {
                    throw ConvKitError.invalidFile(path: source, message: "safetensors: '\(name)' holds \(value), expected whole numbers")
                }
                return exact
            }
        }
        let base = dataStart + e.byteRange.lowerBound
        return (0..<e.shape.reduce(1, *)).map { i in
            // Exact for all 64 bits (the float path would round above 2^53).
            Int(Int64(bitPattern: (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[base + i * 8 + $1]) }))
        }
    }

    /// A tensor's values as float32, straight from the stored bytes (no Double array first:
    /// a 150 MB layer costs 150 MB more, not 450): F32 copied, F16 and BF16 widened, others
    /// through `decode`.
    private func floats(_ e: Entry) -> [Float] {
        let n = e.shape.reduce(1, *)
        let base = dataStart + e.byteRange.lowerBound
        switch e.dtype {
        case .f32, .f16, .bf16:
            return bytes.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    for i in 0..<n {
                        switch e.dtype {
                        case .f32: out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                        case .f16: out[i] = SafeTensors.halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self)))
                        default: out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))) << 16)
                        }
                    }
                    initialized = n
                }
            }
        default:
            return decode(e).map { Float($0) }
        }
    }

    private func decode(_ e: Entry) -> [Double] {
        let n = e.shape.reduce(1, *)
        let base = dataStart + e.byteRange.lowerBound
        func le(_ i: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in (0..<width).reversed() { v = v << 8 | UInt64(bytes[base + i * width + b]) }
            return v
        }
        return (0..<n).map { i in
            switch e.dtype {
            case .f64: Double(bitPattern: le(i, 8))
            case .f32: Double(Float(bitPattern: UInt32(le(i, 4))))
            case .f16: Double(SafeTensors.halfToFloat(UInt16(le(i, 2))))
            case .bf16: Double(Float(bitPattern: UInt32(le(i, 2)) << 16))
            case .i64: Double(Int64(bitPattern: le(i, 8)))
            case .i32: Double(Int32(bitPattern: UInt32(le(i, 4))))
            case .i16: Double(Int16(bitPattern: UInt16(le(i, 2))))
            case .i8: Double(Int8(bitPattern: UInt8(le(i, 1))))
            case .u8, .bool: Double(le(i, 1))
            }
        }
    }

    /// IEEE 754 half → float.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }
}
