/// `nn.ZeroPad2d`, `nn.ConstantPad2d`, `nn.ReflectionPad2d`, `nn.ReplicationPad2d` and
/// `nn.CircularPad2d`: pads the last two axes by (left, right, top, bottom), PyTorch's order.
public final class Pad2d: Module {
    public let left: Int, right: Int, top: Int, bottom: Int
    public let mode: PaddingMode, value: Float

    /// One amount on every side, or (left, right, top, bottom).
    /// - Throws: `ConvKitError.invalidArgument` unless 1 or 4 non-negative amounts are given.
    public init(_ padding: [Int], mode: PaddingMode = .zeros, value: Float = 0) throws {
        guard padding.count == 1 || padding.count == 4, padding.allSatisfy({ (0...Limits.maxAxisValue).contains($0) }) else {
            throw ConvKitError.invalidArgument(op: "Pad2d", argument: "padding",
                                               message: "must be 1 or 4 non-negative amounts (left, right, top, bottom), got \(padding)")
        }
        let p = padding.count == 1 ? Array(repeating: padding[0], count: 4) : padding
        (left, right, top, bottom, self.mode, self.value) = (p[0], p[1], p[2], p[3], mode, value)
    }

    /// `nn.ZeroPad2d`.
    public static func zero(_ padding: [Int]) throws -> Pad2d { try Pad2d(padding) }
    /// `nn.ConstantPad2d`.
    public static func constant(_ padding: [Int], value: Float) throws -> Pad2d { try Pad2d(padding, value: value) }
    /// `nn.ReflectionPad2d`.
    public static func reflection(_ padding: [Int]) throws -> Pad2d { try Pad2d(padding, mode: .reflect) }
    /// `nn.ReplicationPad2d`.
    public static func replication(_ padding: [Int]) throws -> Pad2d { try Pad2d(padding, mode: .replicate) }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try pad(input, before: [top, left], after: [bottom, right], mode: mode, value: value)
    }
}
