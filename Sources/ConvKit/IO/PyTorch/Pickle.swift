/// A value of a restricted unpickler: what a PyTorch state dict is made of.
///
/// Lists and dicts are references (`PickleList`, `PickleDict`) because pickles mutate them
/// after memoising them (`EMPTY_DICT, BINPUT, … SETITEMS`).
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits: its little-endian two's-complement bytes (the legacy
    /// format's magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case set([PickleValue])
    /// A module-level name (`torch FloatStorage`), allowed by `Unpickler.allowedGlobals`.
    case global(module: String, name: String)
    /// What a persistent id named: a storage of the checkpoint.
    case storage(TorchStorageReference)
    /// A tensor view of a storage (`torch._utils._rebuild_tensor_v2`).
    case tensor(TorchTensorReference)

    /// A short description for error messages (never the whole value).
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .set: "set"
        case let .global(m, n): "\(m).\(n)"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// A pickled list (mutable while unpickling).
public final class PickleList: @unchecked Sendable {
    public internal(set) var items: [PickleValue] = []
}

/// A pickled dict or `collections.OrderedDict`: pairs in insertion order (keys stay unique).
public final class PickleDict: @unchecked Sendable {
    public internal(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(s) = key {
            if let i = stringIndex[s] { pairs[i].value = value; return }
            stringIndex[s] = pairs.count
        }
        pairs.append((key, value))
    }

    /// The value stored under string key `key`.
    public subscript(key: String) -> PickleValue? { stringIndex[key].map { pairs[$0].value } }
}

/// A storage a checkpoint's pickle refers to by persistent id: its key (the file
/// `data/<key>` in a zip archive, or its place in a legacy stream), element type and count.
public struct TorchStorageReference: Sendable, Equatable {
    public let key: String
    public let dtype: SafeTensors.DType
    /// Elements, as the persistent id declares them (checked against the data).
    public let count: Int
    /// Where a legacy view storage starts in its root storage, in elements (0 otherwise).
    public var elementOffset = 0
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage.
public struct TorchTensorReference: Sendable, Equatable {
    public let storage: TorchStorageReference
    public let offset: Int
    public let shape: [Int], strides: [Int]
}

/// A restricted unpickler with the semantics of `torch.load(weights_only=True)`: it reads
/// pickle protocols 0–5 but builds only plain data (None, bools, ints, floats, strings,
/// bytes, tuples, lists, dicts, sets) and the few globals a state dict needs; it never
/// imports or calls anything. Any other global (`os.system`, `builtins.eval`,
/// `posix.system`, a model class) is refused with an error naming it, as are the opcodes
/// that build arbitrary objects (INST, OBJ, NEWOBJ_EX, EXT*, out-of-band buffers).
///
/// Allocations are bounded by the input: every length is checked against the bytes left.
public struct Unpickler {
    /// What `GLOBAL`/`STACK_GLOBAL` may name (module, name), as torch's weights-only allow list.
    public static let allowedGlobals: Set<String> = Set([
        "collections.OrderedDict", "builtins.set", "builtins.frozenset", "builtins.bytearray", "_codecs.encode",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2", "torch.Size", "torch.device",
        "torch.nn.parameter.Parameter",
    ]).union(storageTypes.keys.map { "torch.\($0)" }).union(dtypeNames.keys.map { "torch.\($0)" })

    /// Typed storage classes and the element type they hold.
    static let storageTypes: [String: SafeTensors.DType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8, "ByteStorage": .u8,
        "BoolStorage": .bool,
    ]
    /// `torch.float32` and friends (in the metadata of untyped storages).
    static let dtypeNames: [String: SafeTensors.DType] = [
        "float32": .f32, "float": .f32, "float16": .f16, "half": .f16, "bfloat16": .bf16, "float64": .f64, "double": .f64,
        "int64": .i64, "long": .i64, "int32": .i32, "int": .i32, "int16": .i16, "int8": .i8, "uint8": .u8, "bool": .bool,
    ]

    /// Most values on the stack and in the memo together.
    public static let maxValues = 10_000_000

    private let bytes: [UInt8]
    private var position: Int
    private let source: String
    /// Turns a persistent id into a value (`.storage`), as `torch.load`'s `persistent_load`.
    private let persistentLoad: (PickleValue) throws -> PickleValue
    /// Every list and dict made, emptied at the end so that no chain of nested containers
    /// (however deep or cyclic a hostile pickle makes it) is freed recursively.
    private var containers: [AnyObject] = []

    /// Prepares to read the pickle starting at `offset` of `bytes`.
    public init(bytes: [UInt8], offset: Int = 0, source: String, persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        (self.bytes, self.position, self.source, self.persistentLoad) = (bytes, offset, source, persistentLoad)
    }

    /// Where the last `load()` stopped: the byte after its STOP opcode.
    public var offset: Int { position }

    private func fail(_ message: String) -> ConvKitError {
        .invalidFile(path: source, message: "pickle: " + message)
    }
}

extension Unpickler {
    /// Reads one pickle up to its STOP opcode.
    /// - Returns: the pickled value; `extract` turns it into plain Swift values before the
    ///   containers are emptied (the returned value shares them).
    /// - Throws: `ConvKitError.invalidFile` for a refused global or opcode, truncated or
    ///   malformed data; nothing named in the pickle is ever executed.
    public mutating func load<T>(_ extract: (PickleValue) throws -> T) throws -> T {
        defer {
            // Break every link between containers iteratively (see `containers`).
            for case let list as PickleList in containers { list.items.removeAll() }
            for case let dict as PickleDict in containers { dict.pairs.removeAll() }
            containers.removeAll()
        }
        return try extract(try run())
    }

    private mutating func run() throws -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK for an opcode that needs one") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }
        func push(_ v: PickleValue) throws {
            guard stack.count + memo.count < Self.maxValues else { throw fail("more than \(Self.maxValues) values") }
            stack.append(v)
        }
        func newList(_ items: [PickleValue]) -> PickleValue {
            let l = PickleList()
            l.items = items
            containers.append(l)
            return .list(l)
        }
        func newDict(_ pairs: [PickleValue]) throws -> PickleValue {
            let d = PickleDict()
            containers.append(d)
            for i in stride(from: 0, to: pairs.count - 1, by: 2) { d.set(pairs[i], pairs[i + 1]) }
            guard pairs.count % 2 == 0 else { throw fail("odd number of items for a dict") }
            return .dict(d)
        }

        while true {
            let opcodeAt = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()  // PROTO n
            case 0x95: _ = try take(8)  // FRAME (length; the frame's opcodes follow inline)
            case 0x2E:  // STOP
                return try pop()
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: guard let top = stack.last else { throw fail("DUP on an empty stack") }; try push(top)
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4B: try push(.int(Int(try byte())))  // BININT1
            case 0x4D: try push(.int(try littleEndian(2)))  // BININT2
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
            case 0x8A: try push(try long(Int(try byte())))  // LONG1
            case 0x8B:  // LONG4
                let n = Int(Int32(truncatingIfNeeded: try littleEndian(4)))
                guard n >= 0 else { throw fail("negative LONG4 length") }
                try push(try long(n))
            case 0x49, 0x4C:  // INT, LONG (text, protocol 0)
                var text = try line()
                if text.hasSuffix("L") { text.removeLast() }
                if text == "01" { try push(.bool(true)) } else if text == "00" { try push(.bool(false)) } else {
                    guard let v = Int(text) else { throw fail("bad integer literal at byte \(opcodeAt)") }
                    try push(.int(v))
                }
            case 0x47:  // BINFLOAT (big-endian)
                try push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x46:  // FLOAT (text)
                guard let v = Double(try line()) else { throw fail("bad float literal at byte \(opcodeAt)") }
                try push(.float(v))
            case 0x58: try push(.string(try utf8(try littleEndian(4))))  // BINUNICODE
            case 0x8C: try push(.string(try utf8(Int(try byte()))))  // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(try littleEndian(8))))  // BINUNICODE8
            case 0x56: try push(.string(try line()))  // UNICODE (raw-unicode-escape; ASCII in practice)
            case 0x55: try push(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x54: try push(.string(String(decoding: try take(try littleEndian(4)), as: UTF8.self)))  // BINSTRING
            case 0x53:  // STRING (quoted)
                var text = try line()
                if text.count >= 2, let q = text.first, q == "'" || q == "\"", text.last == q { text = String(text.dropFirst().dropLast()) }
                try push(.string(text))
            case 0x43: try push(.bytes(try take(Int(try byte()))))  // SHORT_BINBYTES
            case 0x42: try push(.bytes(try take(try littleEndian(4))))  // BINBYTES
            case 0x8E, 0x96: try push(.bytes(try take(try littleEndian(8))))  // BINBYTES8, BYTEARRAY8
            case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
            case 0x85: try push(.tuple([try pop()]))  // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try push(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple([a, b, c]))
            case 0x74: try push(.tuple(try popMark()))  // TUPLE
            case 0x5D: try push(newList([]))  // EMPTY_LIST
            case 0x6C: try push(newList(try popMark()))  // LIST
            case 0x7D: try push(try newDict([]))  // EMPTY_DICT
            case 0x64: try push(try newDict(try popMark()))  // DICT
            case 0x8F: try push(.set([]))  // EMPTY_SET
            case 0x91: try push(.set(try popMark()))  // FROZENSET
            case 0x61:  // APPEND
                let v = try pop()
                guard case let .list(l)? = stack.last else { throw fail("APPEND to a \(stack.last?.kind ?? "nothing")") }
                l.items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case let .list(l)? = stack.last else { throw fail("APPENDS to a \(stack.last?.kind ?? "nothing")") }
                l.items += items
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                guard case let .dict(d)? = stack.last else { throw fail("SETITEM on a \(stack.last?.kind ?? "nothing")") }
                d.set(k, v)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard case let .dict(d)? = stack.last, items.count % 2 == 0 else { throw fail("SETITEMS on a \(stack.last?.kind ?? "nothing")") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x90:  // ADDITEMS
                let items = try popMark()
                guard case let .set(s)? = stack.popLast() else { throw fail("ADDITEMS on something that is not a set") }
                try push(.set(s + items))
            case 0x71: memo[Int(try byte())] = stack.last  // BINPUT
            case 0x72: memo[try littleEndian(4)] = stack.last  // LONG_BINPUT
            case 0x70: guard let i = Int(try line()) else { throw fail("bad PUT index") }; memo[i] = stack.last
            case 0x94: memo[memo.count] = stack.last  // MEMOIZE
            case 0x68, 0x6A, 0x67:  // BINGET, LONG_BINGET, GET
                let i = op == 0x68 ? Int(try byte()) : op == 0x6A ? try littleEndian(4) : try Int(line()) ?? -1
                guard let v = memo[i] else { throw fail("memo entry \(i) was never stored") }
                try push(v)
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                try push(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(try global(module, name))
            case 0x51:  // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x50:  // PERSID (text id)
                try push(try persistentLoad(.string(try line())))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                guard case let .tuple(arguments) = args else { throw fail("REDUCE with arguments that are a \(args.kind)") }
                try push(try call(callable, arguments, newDict: { try newDict([]) }))
            case 0x81:  // NEWOBJ: cls.__new__(cls, *args), allowed for OrderedDict and Parameter only
                let args = try pop(), cls = try pop()
                guard case let .tuple(arguments) = args else { throw fail("NEWOBJ with arguments that are a \(args.kind)") }
                try push(try call(cls, arguments, newDict: { try newDict([]) }))
            case 0x62:  // BUILD: state for the object below; dict attributes (_metadata) and tensor state are dropped
                _ = try pop()
                guard let target = stack.last else { throw fail("BUILD on an empty stack") }
                switch target {
                case .dict, .tensor: break
                default: throw fail("BUILD on a \(target.kind) is not allowed")
                }
            default:
                let names: [UInt8: String] = [0x69: "INST", 0x6F: "OBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2",
                                              0x84: "EXT4", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER"]
                throw fail("opcode \(names[op].map { "\($0) " } ?? "")0x\(String(op, radix: 16)) at byte \(opcodeAt) is not allowed "
                           + "in a weights-only load")
            }
        }
    }

    /// A global the allow list names; anything else is refused with its name.
    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard Self.allowedGlobals.contains(full) else {
            throw fail("refused global '\(full)': a weights-only load allows only tensors, storages and plain containers "
                       + "(was the file saved with torch.save(model) rather than torch.save(model.state_dict())?)")
        }
        return .global(module: module, name: name)
    }

    /// REDUCE and NEWOBJ on an allowed global: rebuild a tensor, unwrap a parameter, make a dict.
    private func call(_ callable: PickleValue, _ args: [PickleValue], newDict: () throws -> PickleValue) throws -> PickleValue {
        guard case let .global(module, name) = callable else { throw fail("calling a \(callable.kind) is not allowed") }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let d = try newDict()
            if case let .dict(target) = d, case let .list(items)? = args.first {
                for case let .tuple(pair) in items.items where pair.count == 2 { target.set(pair[0], pair[1]) }
            }
            return d
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1],
                  let shape = integers(args[2]), let strides = integers(args[3]) else {
                throw fail("_rebuild_tensor_v2 with arguments (\(args.map(\.kind).joined(separator: ", ")))")
            }
            return .tensor(TorchTensorReference(storage: storage, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.nn.parameter.Parameter":
            guard let data = args.first, case .tensor = data else { throw fail("\(name) of a \(args.first?.kind ?? "nothing")") }
            return data
        case "torch._tensor._rebuild_from_type_v2":
            // (func, type, args, state): func(*args), the subclass type and its state dropped.
            guard args.count >= 3, case let .tuple(inner) = args[2] else { throw fail("_rebuild_from_type_v2 with bad arguments") }
            return try call(args[0], inner, newDict: newDict)
        case "torch.Size":
            guard case let .tuple(items)? = args.first else { return .tuple([]) }
            return .tuple(items)
        case "torch.device":
            return args.first ?? .none
        case "_codecs.encode":
            // Protocol 2's bytes: _codecs.encode(str, "latin1").
            guard case let .string(text)? = args.first else { throw fail("_codecs.encode of a \(args.first?.kind ?? "nothing")") }
            return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        case "builtins.set", "builtins.frozenset":
            if case let .list(items)? = args.first { return .set(items.items) }
            return .set([])
        case "builtins.bytearray":
            if case let .bytes(b)? = args.first { return .bytes(b) }
            return .bytes([])
        default:
            throw fail("\(module).\(name) may be named but not called")
        }
    }

    /// A tuple or list of ints.
    private func integers(_ v: PickleValue) -> [Int]? {
        let items: [PickleValue]
        switch v {
        case let .tuple(t): items = t
        case let .list(l): items = l.items
        default: return nil
        }
        var out: [Int] = []
        for case let .int(i) in items { out.append(i) }
        return out.count == items.count ? out : nil
    }

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw fail("data ends before STOP (truncated?)") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("a \(count)-byte value at byte \(position) runs past the end (\(bytes.count - position) left)")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// An unsigned little-endian integer of `width` bytes that fits in Int.
    private mutating func littleEndian(_ width: Int) throws -> Int {
        let b = try take(width)
        let v = b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard v <= UInt64(Int.max) else { throw fail("length \(v) is too large") }
        return Int(v)
    }

    /// LONG1/LONG4: little-endian two's complement of `n` bytes.
    private mutating func long(_ n: Int) throws -> PickleValue {
        let b = try take(n)
        guard n <= 8 else { return .bigInt(b) }
        guard n > 0 else { return .int(0) }
        var v = b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if b[n - 1] & 0x80 != 0 && n < 8 { v |= ~UInt64(0) << UInt64(8 * n) }  // sign-extend
        return .int(Int(Int64(bitPattern: v)))
    }

    private mutating func utf8(_ count: Int) throws -> String {
        String(decoding: try take(count), as: UTF8.self)
    }

    /// Text up to the next newline (protocol 0 arguments, GLOBAL names).
    private mutating func line() throws -> String {
        guard let end = bytes[position...].prefix(65_536).firstIndex(of: 0x0A) else {
            throw fail("a text argument at byte \(position) has no end of line")
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }
}
