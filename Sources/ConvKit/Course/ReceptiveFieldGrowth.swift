/// A layer as far as receptive fields care: a window of `kernel` taps `dilation` apart,
/// moved by `stride`, after `padding` on the leading side (conv or pooling alike).
public struct WindowLayer: Sendable, Equatable {
    public var name: String
    public var kernel: Int, stride: Int, dilation: Int, padding: Int

    public init(name: String = "conv", kernel: Int, stride: Int = 1, dilation: Int = 1, padding: Int = 0) {
        (self.name, self.kernel, self.stride, self.dilation, self.padding) = (name, kernel, stride, dilation, padding)
    }

    /// Parses a comma-separated layer list: `c3` (3×3 conv), `c3s2`, `c3d2`, `c7s2p3`, `p2`
    /// (2×2 pool, stride 2 by default), `p3s2p1`.
    /// - Throws: `ConvKitError.invalidArgument` naming the item that does not parse.
    public static func parseList(_ spec: String) throws -> [WindowLayer] {
        try spec.split(separator: ",").map { item in
            let text = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard let kind = text.first, kind == "c" || kind == "p" else {
                throw ConvKitError.invalidArgument(
                    op: "layers", argument: "'\(text)'", message: "must start with c (conv) or p (pool), e.g. c3, c3s2, c3d2, c7s2p3, p2")
            }
            var values: [Character: Int] = [:]
            var key: Character = "k"
            var digits = ""
            func flush() throws {
                guard let v = Int(digits), v > 0 || key == "p" else {
                    throw ConvKitError.invalidArgument(
                        op: "layers", argument: "'\(text)'", message: "needs a positive number after '\(key)', e.g. c3s2")
                }
                values[key] = v
                digits = ""
            }
            for ch in text.dropFirst() {
                if ch.isNumber { digits.append(ch) } else if "sdp".contains(ch) { try flush(); key = ch } else {
                    throw ConvKitError.invalidArgument(op: "layers", argument: "'\(text)'", message: "has '\(ch)'; use s (stride), d (dilation), p (padding)")
                }
            }
            try flush()
            let k = values["k"] ?? 1
            return WindowLayer(name: kind == "c" ? "conv \(k)×\(k)" : "pool \(k)×\(k)", kernel: k,
                               stride: values["s"] ?? (kind == "p" ? k : 1), dilation: values["d"] ?? 1, padding: values["p"] ?? 0)
        }
    }
}

/// The receptive field after a layer, along one axis, in input pixels.
public struct ReceptiveFieldStep: Sendable, Equatable {
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
public func receptiveFieldGrowth(_ layers: [WindowLayer]) -> [ReceptiveFieldStep] {
    var (size, jump, start) = (1, 1, 0.0)
    return layers.map { l in
        start += (Double(l.kernel - 1) / 2 * Double(l.dilation) - Double(l.padding)) * Double(jump)
        size += (l.kernel - 1) * l.dilation * jump
        jump *= l.stride
        return ReceptiveFieldStep(layer: l, size: size, jump: jump, start: start)
    }
}
