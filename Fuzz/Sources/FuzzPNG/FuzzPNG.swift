import ConvKit

/// libFuzzer entry point: any bytes given to the PNG decoder must decode or throw.
/// Each input is decoded twice: as given, and with every chunk's CRC recomputed, since random
/// mutations almost never keep a CRC valid and would otherwise stop at the checksum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? PNG.decode(bytes)
    _ = try? PNG.decode(withFixedCRCs(bytes))
    return 0
}

/// The same bytes with the CRC of every complete chunk after the signature set to match.
func withFixedCRCs(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    var at = 8
    while at + 12 <= out.count {
        let length = out[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard length <= out.count - at - 12 else { break }
        let crc = Zlib.crc32(out[(at + 4)..<(at + 8 + length)])
        for i in 0..<4 { out[at + 8 + length + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
        at += 12 + length
    }
    return out
}
