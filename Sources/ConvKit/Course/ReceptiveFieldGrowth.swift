/// A layer as far as receptive fields care: a window of `kernel` taps `dilation` apart,
/// moved by `stride`, after `padding` on the leading side (conv or pooling alike).
public struct WindowLayer: Sendable, Equatable, Encodable {
    public var name: String
    public var kernel: Int, stride: Int, dilation: Int, padding: Int

    public init(name: String = "conv", kernel: Int, stride: Int = 1, dilation: Int = 1, padding: Int = 0) {
        (self.name, self.kernel, self.stride, self.dilation, self.padding) = (name, kernel, stride, dilation, padding)
    }

    /// A convolution or pooling layer with its defaults (a pooling window's stride is its size),
    /// checked: kernel, stride and dilation in 1…2^31 − 1, padding in 0…2^31 − 1.
    /// - Parameter kind: `conv` or `pool`.
    /// - Throws: `ConvKitError.invalidArgument` naming the value out of range.
    public init(kind: String, kernel: Int, stride: Int? = nil, dilation: Int? = nil, padding: Int? = nil) throws {
        guard kind == "conv" || kind == "pool" else {
            throw ConvKitError.invalidArgument(op: "layers", argument: "kind", message: "must be conv or pool, got '\(kind.prefix(40))'")
        }
        let positive = 1...Limits.maxAxisValue
        try Limits.check(kernel, in: positive, op: "layers", argument: "kernel")
        try Limits.check(stride ?? 1, in: positive, op: "layers", argument: "stride")
        try Limits.check(dilation ?? 1, in: positive, op: "layers", argument: "dilation")
        try Limits.check(padding ?? 0, in: 0...Limits.maxAxisValue, op: "layers", argument: "padding")
        self.init(name: "\(kind) \(kernel)×\(kernel)", kernel: kernel, stride: stride ?? (kind == "pool" ? kernel : 1),
                  dilation: dilation ?? 1, padding: padding ?? 0)
    }

    /// Parses a comma-separated layer list: `c3` (3×3 conv), `c3s2`, `c3d2`, `c7s2p3`, `p2`
    /// (2×2 pool, stride 2 by default), `p3s2p1`.
    /// - Throws: `ConvKitError.invalidArgument` naming the item that does not parse.
    /// - Throws: `ConvKitError.invalidArgument` naming the item that does not parse, or for
    ///   more than `Limits.maxLayers` layers.
    public static func parseList(_ spec: String) throws -> [WindowLayer] {
        let items = spec.split(separator: ",")
        try Limits.check(items.count, in: 1...Limits.maxLayers, op: "layers", argument: "count")
        return try items.map { item in
            let text = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard let kind = text.first, kind == "c" || kind == "p" else {
                throw ConvKitError.invalidArgument(
                    op: "layers", argument: "'\(text.prefix(40))'", message: "must start with c (conv) or p (pool), e.g. c3, c3s2, c3d2, c7s2p3, p2")
            }
            var values: [Character: Int] = [:]
            var key: Character = "k"
            var digits = ""
            func flush() throws {
                guard let v = Int(digits), v > 0 || key == "p", v <= Limits.maxAxisValue else {
                    throw ConvKitError.invalidArgument(
                        op: "layers", argument: "'\(text.prefix(40))'", message: "needs a number in 1…2^31 − 1 after '\(key)' (0 allowed for p), e.g. c3s2")
                }
                values[key] = v
                digits = ""
            }
            for ch in text.dropFirst() {
                if ch.isNumber { digits.append(ch) } else if "sdp".contains(ch) { try flush(); key = ch } else {
                    throw ConvKitError.invalidArgument(op: "layers", argument: "'\(text.prefix(40))'", message: "has '\(ch)'; use s (stride), d (dilation), p (padding)")
                }
            }
            try flush()
            return try WindowLayer(kind: kind == "c" ? "conv" : "pool", kernel: values["k"] ?? 1, stride: values["s"],
                                   dilation: values["d"], padding: values["p"])
        }
    }
}

/// The receptive field after a layer, along one axis, in input pixels.
public struct ReceptiveFieldStep: Sendable, Equatable, Encodable {
    public let layer: WindowLayer
    /// Side of the input region one unit sees: r = r_prev + (k − 1)·d·j_prev.
    public let size: Int
    /// Distance between neighbouring units: j = j_prev·s.
    public let jump: Int
    /// Centre of the first unit's region: start = start_prev + ((k − 1)/2·d − p)·j_prev.
    public let start: Double
}

/// The receptive field layer by layer (Araujo, Norris, Sim, "Computing Receptive Fields of
/// Convolutional Neural Networks", Distill 2019); the input is size 1, jump 1, start 0.
/// - Throws: `ConvKitError.invalidArgument` for more than `Limits.maxLayers` layers, or when
///   a size or jump no longer fits an `Int` (e.g. a hundred stride-2 layers).
public func receptiveFieldGrowth(_ layers: [WindowLayer]) throws -> [ReceptiveFieldStep] {
    try Limits.check(layers.count, in: 0...Limits.maxLayers, op: "receptiveField", argument: "layers")
    var (size, jump, start) = (1, 1, 0.0)
    return try layers.enumerated().map { i, l in
        guard l.kernel >= 1, l.stride >= 1, l.dilation >= 1, l.padding >= 0 else {
            throw ConvKitError.invalidArgument(op: "receptiveField", argument: "layer \(i + 1)", message: "needs kernel, stride, dilation ≥ 1 and padding ≥ 0")
        }
        guard let grown = ReceptiveFieldRecurrence.step(size: size, jump: jump, kernel: l.kernel, stride: l.stride, dilation: l.dilation) else {
            throw ConvKitError.invalidArgument(
                op: "receptiveField", argument: "layer \(i + 1)", message: "makes the receptive field larger than \(groupedDigits(Int.max)) pixels")
        }
        start += (Double(l.kernel - 1) / 2 * Double(l.dilation) - Double(l.padding)) * Double(jump)
        (size, jump) = grown
        return ReceptiveFieldStep(layer: l, size: size, jump: jump, start: start)
    }
}

/// The one receptive-field recurrence, used by `receptiveFieldGrowth` and `Module.summary`:
/// r ← r + (k − 1)·d·j, j ← j·s.
enum ReceptiveFieldRecurrence {
    /// The next (size, jump), or nil when either overflows.
    static func step(size: Int, jump: Int, kernel: Int, stride: Int, dilation: Int) -> (size: Int, jump: Int)? {
        let (a, o1) = (kernel - 1).multipliedReportingOverflow(by: dilation)
        let (b, o2) = a.multipliedReportingOverflow(by: jump)
        let (r, o3) = size.addingReportingOverflow(b)
        let (j, o4) = jump.multipliedReportingOverflow(by: stride)
        return o1 || o2 || o3 || o4 ? nil : (r, j)
    }
}
