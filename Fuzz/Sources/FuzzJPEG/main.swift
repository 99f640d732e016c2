import ConvKit

/// libFuzzer entry point: JPEG files must decode or throw, never trap, hang or allocate more
/// than their data can justify (with the EXIF orientation applied, so that path runs too).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? JPEG.decodeSamples(Array(UnsafeBufferPointer(start: data, count: count)), applyingOrientation: true)
    return 0
}
