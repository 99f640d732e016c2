import Foundation

/// The caps ConvKit checks a caller's numbers against before it allocates or loops, so that
/// a zero, a negative, `Int.max`, `1e308` or NaN gives a `ConvKitError` instead of a trap, an
/// overflow or a 50 GB allocation. Every public function that sizes memory from its
/// arguments checks them here, so the CLI and the lab need no checks of their own.
public enum Limits {
    /// Elements of one tensor (or of any buffer an op allocates for it), `2^30` by default
    /// (4 GiB of float32). Set `CONVKIT_MAX_TENSOR_ELEMENTS` to change it for a process, or
    /// `Limits.$maxTensorElements.withValue(n) { … }` for one task.
    @TaskLocal public static var maxTensorElements: Int = defaultMaxTensorElements

    /// The largest value of one axis or window argument (size, kernel, stride, dilation,
    /// padding): `2^31 − 1`. Below it, the output-size formula cannot overflow.
    public static let maxAxisValue = Int(Int32.max)

    /// The most positions × taps a step-by-step trace (`convolutionSteps`,
    /// `transposedConvolutionSteps`) writes out: 2^20.
    public static let maxTraceTerms = 1 << 20

    /// The most entries of a dense convolution matrix (`convolutionMatrix`): 2^24 (64 MiB).
    public static let maxMatrixEntries = 1 << 24

    /// The most layers of a receptive-field computation: 10,000.
    public static let maxLayers = 10_000

    static let defaultMaxTensorElements: Int = {
        if let text = ProcessInfo.processInfo.environment["CONVKIT_MAX_TENSOR_ELEMENTS"], let n = Int(text), n > 0 { return n }
        return 1 << 30
    }()

    /// The product of `sizes`, checked for negative sizes, overflow and `maxTensorElements`.
    /// - Parameters:
    ///   - what: what is being sized, for the message ("output", "shape").
    /// - Throws: `ConvKitError.invalidArgument` naming `op`, `what` and the sizes.
    @discardableResult
    public static func elementCount(_ sizes: [Int], op: String, what: String = "shape") throws -> Int {
        if let bad = sizes.first(where: { $0 < 0 }) {
            throw ConvKitError.invalidArgument(op: op, argument: what, message: "must have non-negative sizes, got \(bad) in \(sizes)")
        }
        var count = 1
        for s in sizes {
            let (product, overflow) = count.multipliedReportingOverflow(by: s)
            if overflow { return try tooLarge(sizes, op: op, what: what, count: nil) }
            count = product
        }
        if sizes.contains(0) { return 0 }
        if count > maxTensorElements { return try tooLarge(sizes, op: op, what: what, count: count) }
        return count
    }

    private static func tooLarge(_ sizes: [Int], op: String, what: String, count: Int?) throws -> Int {
        let size = count.map { "\(groupedDigits($0)) elements (\(bytes($0)))" } ?? "more than \(Int.max) elements"
        throw ConvKitError.invalidArgument(
            op: op, argument: what,
            message: "\(sizes) would hold \(size); the limit is \(groupedDigits(maxTensorElements)) elements (CONVKIT_MAX_TENSOR_ELEMENTS)")
    }

    /// `n` float32 values as "1.2 GB".
    static func bytes(_ n: Int) -> String {
        let b = Double(n) * 4
        return b >= 1e9 ? String(format: "%.1f GB", b / 1e9) : String(format: "%.1f MB", b / 1e6)
    }

    /// Checks that `value` lies in `range`.
    /// - Throws: `ConvKitError.invalidArgument` naming `op` and `argument`.
    public static func check(_ value: Int, in range: ClosedRange<Int>, op: String, argument: String) throws {
        guard range.contains(value) else {
            throw ConvKitError.invalidArgument(op: op, argument: argument, message: "must be in \(rangeText(range)), got \(value)")
        }
    }

    /// Checks that `value` is finite and lies in `range`.
    /// - Throws: `ConvKitError.invalidArgument` naming `op` and `argument`.
    public static func check(_ value: Float, in range: ClosedRange<Float>, op: String, argument: String) throws {
        guard value.isFinite, range.contains(value) else {
            throw ConvKitError.invalidArgument(
                op: op, argument: argument, message: "must be a number in \(number(range.lowerBound))…\(number(range.upperBound)), got \(value)")
        }
    }

    static func rangeText(_ range: ClosedRange<Int>) -> String {
        func text(_ v: Int) -> String { v == maxAxisValue ? "2^31 − 1" : v == Int.max ? "∞" : groupedDigits(v) }
        return "\(text(range.lowerBound))…\(text(range.upperBound))"
    }

    /// a + b and a · b with overflow reported as a `ConvKitError` (for counts that are
    /// arithmetic only, such as parameter counts and receptive fields).
    static func sum(_ a: Int, _ b: Int, op: String, what: String) throws -> Int {
        let (r, overflow) = a.addingReportingOverflow(b)
        if overflow { throw overflowError(op: op, what: what) }
        return r
    }

    static func product(_ a: Int, _ b: Int, op: String, what: String) throws -> Int {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw overflowError(op: op, what: what) }
        return r
    }

    static func overflowError(op: String, what: String) -> ConvKitError {
        .invalidArgument(op: op, argument: what, message: "is larger than \(groupedDigits(Int.max)) (the arithmetic would overflow)")
    }
}
