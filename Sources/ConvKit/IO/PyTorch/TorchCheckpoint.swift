/// Reads PyTorch checkpoints (`torch.save` of a state dict: `.pt`, `.pth`, `.bin`) without
/// Python, into a `SafeTensors` value in memory (each tensor keeps its dtype and shape).
///
/// Both containers are read: the zip archive of torch ≥ 1.6 (`<name>/data.pkl`, one entry
/// `<name>/data/<key>` per storage, `<name>/byteorder`) and the legacy stream of earlier
/// versions and `_use_new_zipfile_serialization=False` (magic number, protocol version and
/// system-info pickles, the object pickle, the storage keys, then each storage as an int64
/// element count and its bytes). The pickle is read by `Unpickler`, which has the semantics
/// of `torch.load(weights_only=True)`: nothing in the file is ever executed.
///
/// What counts as the state dict: the top-level dict when it holds tensors, else the dict
/// under one of `wrapperKeys` (`{"state_dict": …}`, `{"model": …}`, …); entries that are
/// not tensors (an epoch number, optimizer settings) are left out. Key mapping: a prefix
/// in `strippedPrefixes` that every key carries (`module.` from `nn.DataParallel`,
/// `_orig_mod.` from `torch.compile`) is removed, and DenseNet's pre-0.3 layer names
/// (`denselayer1.norm.1.weight`) become today's (`denselayer1.norm1.weight`), as torchvision's
/// `densenet._load_state_dict` renames them for its published weights.
public enum TorchCheckpoint {
    /// Keys under which training scripts nest the state dict, tried in this order.
    public static let wrapperKeys = ["state_dict", "model_state_dict", "model", "module", "net", "ema"]
    /// Prefixes removed when every key has them.
    public static let strippedPrefixes = ["module.", "_orig_mod."]

    /// The legacy stream's first pickle: torch's magic number 0x1950a86a20f9469cfc6c, little-endian.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Whether `bytes` start like a PyTorch checkpoint (a zip archive, or a legacy pickle stream).
    public static func isCheckpoint(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x80, 0x02, 0x8A, 0x0A] + legacyMagic)
    }

    /// Reads a checkpoint's state dict.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: names the file in errors.
    /// - Returns: the tensors, in the state dict's order, as a `SafeTensors` value whose
    ///   metadata says `convkit.source` = `pytorch-zip` or `pytorch-legacy`.
    /// - Throws: `ConvKitError.invalidFile` for a refused global or opcode, a truncated or
    ///   malformed container, a storage shorter than its tensors need, or no state dict.
    public static func read(bytes: [UInt8], source: String = "<memory>") throws -> SafeTensors {
        let (tensors, format) = bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
            ? (try readZip(bytes, source: source), "pytorch-zip")
            : (try readLegacy(bytes, source: source), "pytorch-legacy")
        // Each tensor goes from the file (or its inflated storage) straight into the result.
        let layout = tensors.map { SafeTensors.Layout(name: $0.name, dtype: $0.view.storage.dtype, shape: $0.view.shape, byteCount: $0.byteCount) }
        let bytes = SafeTensors.serialize(layout, metadata: ["convkit.source": format]) { i, out in tensors[i].write(to: out) }
        return try SafeTensors(bytes: bytes, source: source)
    }

    /// One tensor of the state dict, checked and ready to copy: a strided view of a storage
    /// that starts at byte `base` of `storage` (the file itself, or an inflated zip entry).
    struct Loaded {
        let name: String, view: TorchTensorReference, storage: [UInt8], base: Int, bigEndian: Bool
        let count: Int
        var byteCount: Int { count * view.storage.dtype.byteSize }
    }

    // MARK: Containers

    static func readZip(_ bytes: [UInt8], source: String) throws -> [Loaded] {
        let archive = try ZipArchive(bytes: bytes, source: source)
        guard let pickle = archive.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw ConvKitError.invalidFile(path: source, message: "a zip archive without data.pkl: not a PyTorch checkpoint")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        let bigEndian = try archive.entry(prefix + "byteorder").map { String(decoding: try archive.data($0), as: UTF8.self) } == "big"
        var unpickler = Unpickler(bytes: try archive.data(pickle), source: "\(source): \(pickle.name)") { pid in
            // ("storage", storage type, key, location, element count)
            guard case let .tuple(id) = pid, id.count >= 5, case .string("storage") = id[0], case let .string(key) = id[2],
                  case let .int(count) = id[4], count >= 0 else {
                throw ConvKitError.invalidFile(path: source, message: "pickle: persistent id \(pid.kind) is not a storage")
            }
            return .storage(TorchStorageReference(key: key, dtype: try storageType(id[1], source: source), count: count))
        }
        let views = try unpickler.load { try stateDict($0, source: source) }
        var storages: [String: (bytes: [UInt8], base: Int)] = [:]
        return try views.map { name, view in
            let key = view.storage.key
            if storages[key] == nil {
                guard let entry = archive.entry(prefix + "data/" + key) else {
                    throw ConvKitError.invalidFile(path: source, message: "storage '\(key)' of \(name) is missing from the archive")
                }
                // Declared sizes against the archive before inflating or copying anything.
                let (needed, overflow) = view.storage.count.multipliedReportingOverflow(by: view.storage.dtype.byteSize)
                guard !overflow, entry.size >= needed else {
                    throw ConvKitError.invalidFile(path: source, message: "storage '\(key)' holds \(entry.size) bytes, "
                                                   + "its id declares \(view.storage.count) × \(view.storage.dtype.byteSize)")
                }
                // A stored entry (what torch.save writes) is read where it lies in the archive.
                let (data, range) = try archive.contents(entry)
                storages[key] = (data, range.lowerBound)
            }
            let (storage, base) = storages[key]!
            return try checked(name, view, storage: storage, base: base, bigEndian: bigEndian, source: source)
        }
    }

    static func readLegacy(_ bytes: [UInt8], source: String) throws -> [Loaded] {
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "legacy PyTorch file: " + message) }
        var unpickler = Unpickler(bytes: bytes, source: source) { _ in throw fail("persistent id outside the object pickle") }
        let magic = try unpickler.load { v -> [UInt8]? in if case let .bigInt(b) = v { b } else { nil } }
        guard magic == legacyMagic else {
            throw fail("no PyTorch magic number (a tar archive from torch < 0.4, or not a checkpoint)")
        }
        guard try unpickler.load({ v -> Int? in if case let .int(i) = v { i } else { nil } }) == 1001 else {
            throw fail("unknown protocol version (expected 1001)")
        }
        let littleEndian = try unpickler.load { v -> Bool in
            if case let .dict(d) = v, case let .bool(little)? = d["little_endian"] { little } else { true }
        }
        var declared: [String: TorchStorageReference] = [:]
        var objectPickle = Unpickler(bytes: bytes, offset: unpickler.offset, source: source) { pid in
            // ("storage", storage type, root key, location, root element count, view (key, offset, count) or None)
            guard case let .tuple(id) = pid, id.count >= 6, case .string("storage") = id[0], case let .string(key) = id[2],
                  case let .int(count) = id[4], count >= 0 else {
                throw fail("persistent id \(pid.kind) is not a storage")
            }
            let dtype = try storageType(id[1], source: source)
            if let known = declared[key], known.dtype != dtype || known.count != count {
                throw fail("storage '\(key)' declared twice with different types or sizes")
            }
            declared[key] = TorchStorageReference(key: key, dtype: dtype, count: count)
            var reference = TorchStorageReference(key: key, dtype: dtype, count: count)
            if case let .tuple(view) = id[5], view.count == 3, case let .int(offset) = view[1], case let .int(viewCount) = view[2] {
                guard offset >= 0, viewCount >= 0, offset <= count, viewCount <= count - offset else {
                    throw fail("view of storage '\(key)' lies outside it")
                }
                reference = TorchStorageReference(key: key, dtype: dtype, count: viewCount, elementOffset: offset)
            }
            return .storage(reference)
        }
        let views = try objectPickle.load { try stateDict($0, source: source) }
        var keysPickle = Unpickler(bytes: bytes, offset: objectPickle.offset, source: source) { _ in throw fail("persistent id in the key list") }
        let keys = try keysPickle.load { v -> [String] in
            guard case let .list(l) = v else { throw fail("the storage key list is a \(v.kind)") }
            return try l.items.map { item in
                guard case let .string(key) = item else { throw fail("a storage key is a \(item.kind)") }
                return key
            }
        }
        // The storages follow in key order: an int64 element count, then the elements.
        var at = keysPickle.offset
        var located: [String: Int] = [:]
        for key in keys {
            guard let storage = declared[key] else { throw fail("storage '\(key)' is stored but never used") }
            guard at <= bytes.count - 8 else { throw fail("storage '\(key)' is missing (truncated file?)") }
            let count = (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[at + $1]) }
            let (size, overflow) = storage.count.multipliedReportingOverflow(by: storage.dtype.byteSize)
            guard count == UInt64(storage.count) else {
                throw fail("storage '\(key)' is declared with \(storage.count) elements, its data with \(count)")
            }
            guard !overflow, size <= bytes.count - at - 8 else {
                throw fail("storage '\(key)' needs \(storage.count) × \(storage.dtype.byteSize) bytes, the file ends first (truncated?)")
            }
            located[key] = at + 8
            at += 8 + size
        }
        return try views.map { name, view in
            guard let base = located[view.storage.key] else { throw fail("storage '\(view.storage.key)' of \(name) is missing") }
            // A view storage starts elementOffset elements into its root.
            let shifted = TorchTensorReference(
                storage: TorchStorageReference(key: view.storage.key, dtype: view.storage.dtype, count: view.storage.count),
                offset: view.offset, shape: view.shape, strides: view.strides)
            return try checked(name, shifted, storage: bytes, base: base + view.storage.elementOffset * view.storage.dtype.byteSize,
                                   bigEndian: !littleEndian, source: source)
        }
    }

    // MARK: The state dict

    /// The element type of a storage class named in a persistent id.
    static func storageType(_ value: PickleValue, source: String) throws -> SafeTensors.DType {
        let name: String
        switch value {
        case let .global(_, n): name = n
        case let .string(n): name = n
        default: throw ConvKitError.invalidFile(path: source, message: "pickle: storage type is a \(value.kind)")
        }
        guard let dtype = Unpickler.storageTypes[name] else {
            throw ConvKitError.invalidFile(path: source, message: "storages of type \(name) are not supported "
                                           + "(float, half, bfloat16, double, int, long, short, char, byte and bool are)")
        }
        return dtype
    }

    /// The (name, tensor) pairs of the state dict inside `root`, after the key mapping.
    static func stateDict(_ root: PickleValue, source: String) throws -> [(String, TorchTensorReference)] {
        func tensors(_ value: PickleValue?) -> [(String, TorchTensorReference)]? {
            guard case let .dict(d)? = value else { return nil }
            var out: [(String, TorchTensorReference)] = []
            for (key, value) in d.pairs { if case let .string(k) = key, case let .tensor(t) = value { out.append((k, t)) } }
            return out.isEmpty ? nil : out
        }
        guard case let .dict(top) = root else {
            throw ConvKitError.invalidFile(path: source, message: "the checkpoint holds a \(root.kind), not a state dict")
        }
        guard var pairs = tensors(root) ?? wrapperKeys.lazy.compactMap({ tensors(top[$0]) }).first else {
            let keys = top.pairs.prefix(8).map { if case let .string(k) = $0.key { k } else { $0.key.kind } }
            throw ConvKitError.invalidFile(path: source, message: "no tensors at the top level or under "
                                           + wrapperKeys.joined(separator: "/") + " (top-level keys: \(keys.joined(separator: ", ")))")
        }
        for prefix in strippedPrefixes where pairs.allSatisfy({ $0.0.hasPrefix(prefix) }) {
            pairs = pairs.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
        }
        return pairs.map { (renamedDenseNetKey($0.0), $0.1) }
    }

    /// `….denselayerN.(norm|relu|conv).(1|2).(weight|bias|running_mean|running_var)` →
    /// `….denselayerN.(norm|relu|conv)(1|2).…` (torchvision's regular expression, written out).
    static func renamedDenseNetKey(_ key: String) -> String {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return key }
        let n = parts.count
        let (layer, kind, index, last) = (parts[n - 4], parts[n - 3], parts[n - 2], parts[n - 1])
        guard layer.hasPrefix("denselayer"), layer.dropFirst("denselayer".count).allSatisfy(\.isNumber), !layer.dropFirst(10).isEmpty,
              ["norm", "relu", "conv"].contains(kind), index == "1" || index == "2",
              ["weight", "bias", "running_mean", "running_var"].contains(last) else { return key }
        return (parts[..<(n - 3)] + ["\(kind)\(index)", last]).joined(separator: ".")
    }

    /// A strided view of a storage (at byte `base` of `storage`), after checking that every
    /// element it reads lies in the storage.
    static func checked(_ name: String, _ view: TorchTensorReference, storage: [UInt8], base: Int, bigEndian: Bool,
                        source: String) throws -> Loaded {
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "tensor '\(name)': " + message) }
        let (shape, strides, width) = (view.shape, view.strides, view.storage.dtype.byteSize)
        guard shape.count == strides.count, shape.count <= 64, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }),
              view.offset >= 0 else {
            throw fail("shape \(shape), strides \(strides) and offset \(view.offset) do not describe a tensor")
        }
        let count = try Limits.elementCount(shape, op: "TorchCheckpoint", what: "tensor '\(name)'")
        if count > 0 {
            // The last element read: offset + Σ (size − 1)·stride, overflow-checked, inside the storage.
            var last = view.offset
            for (n, s) in zip(shape, strides) {
                let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw fail("strides \(strides) overflow") }
                last = sum
            }
            guard last < view.storage.count, base + view.storage.count * width <= storage.count else {
                throw fail("reads element \(last) of a storage of \(view.storage.count) (shape \(shape), strides \(strides), offset \(view.offset))")
            }
        }
        return Loaded(name: name, view: view, storage: storage, base: base, bigEndian: bigEndian, count: count)
    }
}

extension TorchCheckpoint.Loaded {
    /// Writes the tensor's elements into `out` (`byteCount` bytes), contiguous and little-endian.
    func write(to out: UnsafeMutableRawBufferPointer) {
        let (shape, strides, width) = (view.shape, view.strides, view.storage.dtype.byteSize)
        let contiguous = zip(shape, strides).reversed().reduce((true, 1)) { acc, axis in
            (acc.0 && (axis.0 <= 1 || axis.1 == acc.1), acc.1 * axis.0)
        }.0
        guard count > 0 else { return }
        storage.withUnsafeBytes { src in
            let dst = out.baseAddress!, from = src.baseAddress! + base
            if contiguous {
                dst.copyMemory(from: from + view.offset * width, byteCount: count * width)
            } else {
                var index = [Int](repeating: 0, count: shape.count)
                for i in 0..<count {
                    let element = view.offset + zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
                    (dst + i * width).copyMemory(from: from + element * width, byteCount: width)
                    var axis = shape.count - 1
                    while axis >= 0 { index[axis] += 1; if index[axis] < shape[axis] { break }; index[axis] = 0; axis -= 1 }
                }
            }
        }
        if bigEndian && width > 1 {
            let bytes = out.bindMemory(to: UInt8.self)
            for i in stride(from: 0, to: count * width, by: width) { bytes[i..<(i + width)].reverse() }
        }
    }
}
