import ConvKit

/// libFuzzer entry point: CIFAR-10 batch records, and archives (tar, tar.gz), must parse or
/// throw. Each input is also gzipped here, so the archive path sees fuzzed tar data inside
/// well-formed compression.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? CIFAR10.parse(bytes)
    _ = try? CIFAR10.parseArchive(bytes, split: .test)
    _ = try? CIFAR10.parseArchive(Zlib.compress(bytes, gzip: true), split: .test)
    return 0
}
