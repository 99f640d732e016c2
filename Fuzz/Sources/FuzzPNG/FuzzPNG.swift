import ConvKit

/// libFuzzer entry point: any bytes given to the PNG decoder must decode or throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? PNG.decode(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
