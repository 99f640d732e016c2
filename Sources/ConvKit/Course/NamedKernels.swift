import Foundation

/// The classic image-processing kernels of the course (002/004), as k×k matrices for
/// cross-correlation (what `conv2d` computes).
public enum NamedKernel: String, Sendable, CaseIterable {
    case sobelX = "sobel-x", sobelY = "sobel-y"
    /// Gradient magnitude √(sobel-x² + sobel-y²): two kernels combined, see `ImageFilter`.
    case sobel
    case prewittX = "prewitt-x", prewittY = "prewitt-y"
    case laplacian, sharpen, box, gaussian, emboss
    /// Centre-surround ("Mexican hat"): a difference of Gaussians, σ and 2σ, summing to 0.
    case blob

    /// The range of σ that `gaussian` and `blob` accept: 0.1…10 (a blob of σ = 10 is 121 × 121).
    public static let sigmaRange: ClosedRange<Float> = 0.1...10

    /// The kernel's matrix; `sigma` sizes `gaussian` and `blob` (side 2⌈3σ⌉ + 1, or 2⌈6σ⌉ + 1 for blob).
    /// For `sobel`, the x kernel (the magnitude needs both; see `ImageFilter.apply`).
    /// - Throws: `ConvKitError.invalidArgument` when `sigma` is not a number in `sigmaRange`
    ///   (checked for every kernel, so a bad value is never silently ignored).
    public func matrix(sigma: Float = 1) throws -> [[Float]] {
        try Limits.check(sigma, in: Self.sigmaRange, op: "kernel \(rawValue)", argument: "sigma")
        return switch self {
        case .sobelX, .sobel: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
        case .sobelY: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
        case .prewittX: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
        case .prewittY: [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
        case .laplacian: [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
        case .sharpen: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
        case .box: Array(repeating: Array(repeating: 1 / 9, count: 3), count: 3)
        case .gaussian: Self.gaussian(sigma: sigma, radius: Int((3 * sigma).rounded(.up)))
        case .emboss: [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
        case .blob: Self.differenceOfGaussians(sigma: sigma)
        }
    }

    /// G(σ) − G(2σ) on a common grid of radius ⌈6σ⌉: positive centre, negative surround, sum 0.
    static func differenceOfGaussians(sigma: Float) -> [[Float]] {
        let radius = Int((6 * sigma).rounded(.up))
        let narrow = gaussian(sigma: sigma, radius: radius), wide = gaussian(sigma: 2 * sigma, radius: radius)
        return zip(narrow, wide).map { zip($0, $1).map { $0 - $1 } }
    }

    /// A normalised Gaussian of side 2·radius + 1.
    static func gaussian(sigma: Float, radius: Int) -> [[Float]] {
        let s = sigma
        let g = (-radius...radius).map { y in (-radius...radius).map { x in Foundation.exp(-Float(x * x + y * y) / (2 * s * s)) } }
        let total = g.flatMap { $0 }.reduce(0, +)
        return g.map { $0.map { $0 / total } }
    }

    /// Parses a kernel name or a matrix written as rows separated by `;` and values by `,`
    /// or spaces ("1,0,-1; 2,0,-2; 1,0,-1").
    /// - Throws: `ConvKitError.invalidArgument` listing the names, or saying what is wrong with the matrix.
    public static func parse(_ text: String, sigma: Float = 1) throws -> (name: String, matrix: [[Float]]) {
        if let named = NamedKernel(rawValue: text.lowercased()) { return (named.rawValue, try named.matrix(sigma: sigma)) }
        if !text.contains(where: \.isNumber) {
            throw ConvKitError.invalidArgument(
                op: "kernel", argument: "'\(text.prefix(60))'",
                message: "is not a kernel name (\(allCases.map(\.rawValue).joined(separator: ", "))) nor a matrix like \"1,0,-1; 2,0,-2; 1,0,-1\"")
        }
        let matrix = try parseMatrix(text, what: "kernel")
        return ("custom", matrix)
    }

    /// Parses rows separated by `;` (or newlines) and values by `,` or spaces.
    /// - Throws: `ConvKitError.invalidArgument` for a non-number, an empty or a ragged matrix.
    /// At most 64 rows of 64 values (a kernel or a small course matrix, not an image).
    public static func parseMatrix(_ text: String, what: String) throws -> [[Float]] {
        guard text.utf8.count <= 65_536 else {
            throw ConvKitError.invalidArgument(op: what, argument: "text", message: "is \(text.utf8.count) bytes long; at most 65,536 are read")
        }
        let rows = text.split(whereSeparator: { $0 == ";" || $0 == "\n" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var matrix: [[Float]] = []
        for row in rows {
            let values = row.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            var parsed: [Float] = []
            for v in values {
                guard let f = Float(v), f.isFinite else {
                    let names = NamedKernel.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ConvKitError.invalidArgument(
                        op: what, argument: "'\(text.prefix(60))'",
                        message: "is not a matrix: '\(v.prefix(40))' is not a finite number (write rows as \"1,0,-1; 2,0,-2\"\(what == "kernel" ? " or a name: \(names)" : ""))")
                }
                parsed.append(f)
            }
            matrix.append(parsed)
        }
        guard let width = matrix.first?.count, width > 0 else {
            throw ConvKitError.invalidArgument(op: what, argument: "'\(text.prefix(60))'", message: "is empty")
        }
        guard matrix.allSatisfy({ $0.count == width }) else {
            throw ConvKitError.invalidArgument(
                op: what, argument: "'\(text.prefix(60))'", message: "has rows of different lengths \(matrix.prefix(20).map(\.count)); every row needs \(width) values")
        }
        guard matrix.count <= 64, width <= 1024 else {
            throw ConvKitError.invalidArgument(
                op: what, argument: "matrix", message: "is \(matrix.count) × \(width); at most 64 rows of 1,024 values are accepted")
        }
        return matrix
    }
}
