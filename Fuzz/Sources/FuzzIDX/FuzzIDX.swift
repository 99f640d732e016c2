import ConvKit

/// libFuzzer entry point: IDX files, plain or gzipped, must parse or throw. Each input is also
/// gzipped here and parsed again, so the gzip path sees well-formed compression around fuzzed
/// headers and data (random mutations of compressed bytes rarely get past the inflater).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? MNIST.parseIDX(bytes)
    _ = try? MNIST.parseIDX(Zlib.compress(bytes, gzip: true))
    return 0
}
