import ConvKit

/// libFuzzer entry point: PyTorch checkpoints (zip or legacy) must read or throw, and the same
/// bytes fed straight to the restricted unpickler (no container, so no CRC stands between the
/// mutations and the pickle) must load or throw; nothing may trap, hang or allocate without bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchCheckpoint(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let file = try? WeightsFile.read(bytes: bytes) {
        for name in file.names { _ = try? file.tensor(name) }
    }
    var unpickler = Unpickler(bytes: bytes, source: "fuzz") { pid in pid }
    _ = try? unpickler.load { value -> Int in if case .dict = value { 1 } else { 0 } }
    return 0
}
