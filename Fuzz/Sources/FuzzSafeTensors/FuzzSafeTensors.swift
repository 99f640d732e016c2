import ConvKit

/// libFuzzer entry point: safetensors files must parse or throw, every entry must convert or
/// throw, and loading one into a model must succeed or throw without changing it halfway.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let file = try? SafeTensors(bytes: Array(UnsafeBufferPointer(start: data, count: count))) else { return 0 }
    for name in file.names {
        _ = try? file.tensor(name)
        _ = try? file.integers(name)
    }
    // Shapes as in the seed file: a strict load must accept it whole or throw.
    if let layer = try? Conv2d(1, 2, kernelSize: 3) { try? layer.loadState(from: file, prefix: "0.") }
    return 0
}
