import ConvKit
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    static func header(_ json: String, data: [UInt8] = []) -> [UInt8] {
        let h = Array(json.utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        return out + h + data
    }

    @Test func roundTripThroughAFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.safetensors").path
        let w = try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .infinity, -0.25])
        try SafeTensors.write([("layer.weight", .tensor(w)), ("steps", .int64(shape: [], values: [12345]))],
                              metadata: ["note": "hi \"there\""], to: path)
        let file = try SafeTensors(contentsOf: path)
        #expect(file.names == ["layer.weight", "steps"])
        #expect(try file.tensor("layer.weight").scalars == w.scalars)
        #expect(try file.tensor("layer.weight").shape == [2, 3])
        #expect(try file.integers("steps") == [12345])
        #expect(file.metadata == ["note": "hi \"there\"", "format": "pt"])
        // The header is padded so data starts 8-byte aligned.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect((8 + Int(bytes[0]) + Int(bytes[1]) << 8) % 8 == 0)
        expectError(containing: "no tensor named 'missing'") { try file.tensor("missing") }
    }

    @Test func readsHalfBFloatAndDouble() throws {
        // F16 1.0 = 0x3C00, -2.0 = 0xC000; BF16 1.5 = 0x3FC0; F64 0.1.
        var data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0xC0, 0x3F]
        withUnsafeBytes(of: (0.1 as Double).bitPattern.littleEndian) { data.append(contentsOf: $0) }
        let bytes = Self.header(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"d":{"dtype":"F64","shape":[],"data_offsets":[6,14]}}"#, data: data)
        let f = try SafeTensors(bytes: bytes)
        #expect(try f.tensor("h").scalars == [1, -2])
        #expect(try f.tensor("b").scalars == [1.5])
        #expect(try f.tensor("d").scalars == [0.1])
        #expect(try f.tensor("d").shape == [])
    }

    @Test func rejectsMalformedFiles() throws {
        let entry = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        let cases: [(String, [UInt8])] = [
            ("shorter than the 8-byte header length", [1, 2, 3]),
            ("exceeds the limit", [0, 0, 0, 0, 0, 0, 0, 1] + Array(repeating: 0, count: 8)),
            ("runs past the end", [100, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)),
            ("not valid JSON", Self.header("{\"a\":")),
            ("duplicate key \"a\"", Self.header("{\(entry),\(entry)}", data: Array(repeating: 0, count: 8))),
            ("must be a JSON object", Self.header("[]")),
            ("unsupported dtype F8", Self.header(#"{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}"#, data: [0])),
            ("spans 4 bytes but F32 [2] needs 8", Self.header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])),
            ("overflows its byte size", Self.header(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#)),
            ("data section has 12 bytes but the tensors account for 8", Self.header("{\(entry)}", data: Array(repeating: 0, count: 12))),
            ("data section has 4 bytes", Self.header("{\(entry)}", data: Array(repeating: 0, count: 4))),
            ("starts at byte 4 but the previous data ends at 0", Self.header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8))),
            ("must be two integers", Self.header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}"#)),
            ("shape must be non-negative integers", Self.header(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#)),
            ("__metadata__[k] must be a string", Self.header(#"{"__metadata__":{"k":1}}"#)),
        ]
        for (fragment, bytes) in cases {
            expectError(containing: fragment) { try SafeTensors(bytes: bytes) }
        }
        expectError(containing: "cannot read the file") { try SafeTensors(contentsOf: "/nonexistent/x.safetensors") }
        expectError(containing: "not a regular file") { try SafeTensors(contentsOf: "/tmp") }
        expectError(containing: "not a regular file") { try WeightsFile.read(contentsOf: "/dev/null") }
    }

    /// F32, F16 and BF16 tensors read as float32 straight from their bytes, as PyTorch widens them.
    @Test func halfAndBFloat16WidenExactly() throws {
        let values: [Float] = [0, -0, 1, -2.5, 65504, 6.1035156e-05, 5.9604645e-08, .infinity, -.infinity]
        let bytes = SafeTensors.serialize([
            ("f16", .raw(dtype: .f16, shape: [values.count], bytes: values.flatMap { v in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian, Array.init) })),
            ("bf16", .raw(dtype: .bf16, shape: [values.count], bytes: values.flatMap { v in
                withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian, Array.init) })),
            ("f32", .float32(shape: [values.count], scalars: values)),
        ])
        let file = try SafeTensors(bytes: bytes)
        #expect(try file.tensor("f16").scalars == values)
        #expect(try file.tensor("f32").scalars == values)
        #expect(try file.tensor("bf16").scalars == values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
    }

    /// zlib's CRC-32 over slices read in place gives the check value of the standard ("123456789").
    @Test func crc32OfSlices() {
        let bytes = Array("xx123456789yy".utf8)
        #expect(Zlib.crc32(bytes[2..<11]) == 0xCBF4_3926)
        #expect(Zlib.crc32(Array(bytes[2..<11])) == 0xCBF4_3926)
        #expect(Zlib.crc32([UInt8]()) == 0)
    }

    @Test func overlappingTensorsAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectError(containing: "starts at byte 4 but the previous data ends at 8") {
            try SafeTensors(bytes: Self.header(json, data: Array(repeating: 0, count: 8)))
        }
    }

    @Test func failedWriteLeavesThePreviousFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("good.safetensors").path
        try SafeTensors.write([("a", .tensor(try Tensor([1, 2])))], to: path)
        expectError(containing: "creating a temporary file") {
            try SafeTensors.write([("a", .tensor(try Tensor([3])))], to: dir.appendingPathComponent("missing/x.safetensors").path)
        }
        #expect(try SafeTensors(contentsOf: path).tensor("a").scalars == [1, 2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["good.safetensors"])
    }

    @Test func jsonParserHandlesEscapesAndLimits() throws {
        let v = try JSONValue.parse(Array(#"{"s":"a\u00e9\ud83d\ude00\n","n":[-1.5e2,0,true,null]}"#.utf8))
        #expect(v["s"]?.stringValue == "aé😀\n")
        #expect(v["n"] == .array([.number(-150), .number(0), .bool(true), .null]))
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(String(repeating: "[", count: 100).utf8)) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(#"{"a":1} x"#.utf8)) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(#""\ud800""#.utf8)) }
    }
}
