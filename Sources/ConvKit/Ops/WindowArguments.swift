@_exported import struct _ConvKitKernels.ConvGeometry
@_exported import enum _ConvKitKernels.PaddingMode
@_exported import struct _ConvKitKernels.ConvolutionPlan
@_exported import enum _ConvKitKernels.ConvolutionAlgorithm
@_exported import struct _ConvKitKernels.OutputClamp
@_exported import enum _ConvKitKernels.FreshStorage

/// A per-axis integer argument (stride, dilation, kernel size…): one value for every
/// axis (`2`) or one per axis (`[2, 1]`), as PyTorch's `int | tuple` arguments.
public struct PerAxis: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// One value (applied to every axis) or one per axis.
    public var values: [Int]

    /// The same value on every axis.
    public init(_ value: Int) { values = [value] }
    /// One value per axis.
    public init(_ values: [Int]) { self.values = values }
    public init(integerLiteral value: Int) { values = [value] }
    public init(arrayLiteral elements: Int...) { values = elements }

    /// The values for `rank` axes.
    /// - Throws: `ConvKitError.invalidArgument` when the count is neither 1 nor `rank`,
    ///   or a value is below `minimum` or above `Limits.maxAxisValue`.
    func resolved(rank: Int, op: String, argument: String, minimum: Int = 1) throws -> [Int] {
        let expanded: [Int]
        if values.count == 1 {
            expanded = Array(repeating: values[0], count: rank)
        } else if values.count == rank {
            expanded = values
        } else {
            throw ConvKitError.invalidArgument(
                op: op, argument: argument, message: "must have 1 or \(rank) values, got \(values)")
        }
        if let bad = expanded.first(where: { $0 < minimum }) {
            let what = minimum == 1 ? "positive" : "at least \(minimum)"
            throw ConvKitError.invalidArgument(
                op: op, argument: argument, message: "must be \(what), got \(bad) in \(values)")
        }
        if let bad = expanded.first(where: { $0 > Limits.maxAxisValue }) {
            throw ConvKitError.invalidArgument(
                op: op, argument: argument, message: "must be at most 2^31 − 1, got \(bad) in \(values)")
        }
        return expanded
    }
}

/// Padding of a convolution, as PyTorch's `padding` argument plus explicit asymmetric padding.
public enum Padding: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    /// Padding before and after each axis (one value for all axes, or one per axis).
    case explicit(before: [Int], after: [Int])
    /// Output size equals input size (stride 1 only). The total `d·(k−1)` is split with
    /// the extra element after (right/bottom), as PyTorch.
    case same
    /// No padding.
    case valid

    public init(integerLiteral value: Int) { self = .explicit(before: [value], after: [value]) }
    public init(arrayLiteral elements: Int...) { self = .explicit(before: elements, after: elements) }

    /// The same padding on both sides of each axis.
    public static func symmetric(_ values: Int...) -> Padding { .explicit(before: values, after: values) }

    /// Resolves to (before, after) per axis.
    func resolved(
        rank: Int, kernel: [Int], dilation: [Int], stride: [Int], op: String
    ) throws -> (before: [Int], after: [Int]) {
        switch self {
        case .valid:
            return (Array(repeating: 0, count: rank), Array(repeating: 0, count: rank))
        case .same:
            guard stride.allSatisfy({ $0 == 1 }) else {
                throw ConvKitError.invalidArgument(
                    op: op, argument: "padding", message: "'same' requires stride 1, got stride \(stride)")
            }
            let total = (0..<rank).map { dilation[$0] * (kernel[$0] - 1) }
            return (total.map { $0 / 2 }, total.map { $0 - $0 / 2 })
        case let .explicit(before, after):
            let b = try PerAxis(before).resolved(rank: rank, op: op, argument: "padding", minimum: 0)
            let a = try PerAxis(after).resolved(rank: rank, op: op, argument: "padding", minimum: 0)
            return (b, a)
        }
    }
}

/// How a loss reduces its per-element values.
public enum Reduction: String, Sendable, CaseIterable {
    /// The mean over elements (PyTorch's default).
    case mean
    /// The sum over elements.
    case sum
    /// No reduction: one value per element.
    case none
}

extension PerAxis {
    /// Parses the command line's and the lab's form: one integer (`3`) or one per axis
    /// separated by `,`, `x` or `×` (`3,5`, `3x5`).
    /// - Parameter argument: the argument's name, for the message (`--stride`).
    /// - Throws: `ConvKitError.invalidArgument` for anything else (empty, non-integers, more than 3 values).
    public init(parsing text: String, argument: String) throws {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { ",x×".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !values.isEmpty, values.count == parts.count, values.count <= 3 else {
            throw ConvKitError.invalidArgument(
                op: "parse", argument: argument, message: "must be 1 to 3 integers like 3 or 3,5, got '\(text.prefix(40))'")
        }
        self.init(values)
    }
}

extension Padding {
    /// Parses `same`, `valid`, one amount (`1`) or one per axis (`1,2`).
    /// - Throws: `ConvKitError.invalidArgument` naming `argument`.
    public init(parsing text: String, argument: String = "padding") throws {
        switch text.lowercased().trimmingCharacters(in: .whitespaces) {
        case "same": self = .same
        case "valid": self = .valid
        default:
            let amounts = try PerAxis(parsing: text, argument: argument).values
            self = .explicit(before: amounts, after: amounts)
        }
    }
}

extension PaddingMode {
    /// Parses a padding mode's name (`zeros`, `reflect`, `replicate`, `circular`).
    /// - Throws: `ConvKitError.invalidArgument` listing the names.
    public init(parsing text: String, argument: String = "mode") throws {
        guard let mode = PaddingMode(rawValue: text.lowercased()) else {
            throw ConvKitError.invalidArgument(
                op: "parse", argument: argument,
                message: "must be one of \(PaddingMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text.prefix(40))'")
        }
        self = mode
    }
}
