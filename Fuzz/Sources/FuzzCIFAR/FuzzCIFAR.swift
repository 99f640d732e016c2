import ConvKit

/// libFuzzer entry point: CIFAR-10 batch records, and archives (tar or tar.gz), must parse or throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? CIFAR10.parse(bytes)
    _ = try? CIFAR10.parseArchive(bytes, split: .test)
    return 0
}
