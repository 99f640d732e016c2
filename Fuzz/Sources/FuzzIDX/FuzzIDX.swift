import ConvKit

/// libFuzzer entry point: IDX files, plain or gzipped, must parse or throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? MNIST.parseIDX(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
