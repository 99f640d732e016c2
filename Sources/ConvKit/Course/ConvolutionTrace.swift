import Foundation

/// One output position of a convolution written out: the window of input values under the
/// kernel (padding filled in by the padding mode), the products with the kernel and the sum.
public struct ConvolutionStep: Sendable, Equatable {
    /// The output position (one index for 1-D, (row, column) for 2-D).
    public let position: [Int]
    /// The input values under the kernel, row-major, one per kernel tap.
    public let window: [Float]
    /// The kernel taps, row-major (flipped for a true convolution).
    public let kernel: [Float]
    /// window[i] · kernel[i].
    public var products: [Float] { zip(window, kernel).map { $0 * $1 } }
    /// The output value (the sum of the products).
    public var sum: Float { products.reduce(0, +) }

    /// "Position (0, 0): (1×-1) + (2×0) + … = 2", as the course's animation prints it.
    public var explanation: String {
        let terms = zip(window, kernel).map { "(\(number($0))×\(number($1)))" }.joined(separator: " + ")
        let where_ = position.count == 1 ? "\(position[0])" : "(\(position.map(String.init).joined(separator: ", ")))"
        return "Position \(where_): \(terms) = \(number(sum))"
    }
}

/// Formats a value as the course does: integers without a decimal point, others to 4 places.
public func number(_ v: Float) -> String {
    if v == v.rounded() && Swift.abs(v) < 1e7 { return String(Int(v)) }
    var s = String(format: "%.4f", v)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}

/// Every step of a single-channel 1-D or 2-D convolution, in output order, computed through
/// the same `ConvGeometry` and padding-mode mapping as `conv1d`/`conv2d` (a test checks the
/// sums against them).
/// - Parameters:
///   - input: (L) or (H, W).
///   - kernel: (k) or (kH, kW).
///   - flip: true convolution (kernel rotated 180°) instead of cross-correlation.
/// - Throws: `ConvKitError` for mismatched ranks or impossible geometry.
public func convolutionSteps(
    input: Tensor, kernel: Tensor, stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1,
    paddingMode: PaddingMode = .zeros, flip: Bool = false
) throws -> [ConvolutionStep] {
    let r = input.rank
    guard r == 1 || r == 2, kernel.rank == r else {
        throw ConvKitError.shapeMismatch(
            op: "convolutionSteps", message: "input and kernel must both be 1-D or both 2-D, got \(input.shape) and \(kernel.shape)")
    }
    let taps = flip ? try kernel.flipped(axes: Array(0..<r)) : kernel
    let x = try input.reshaped(to: [1, 1] + input.shape), w = try taps.reshaped(to: [1, 1] + kernel.shape)
    let g = try convolutionGeometry(input: x, weight: w, bias: nil, rank: r, stride: stride, padding: padding,
                                    dilation: dilation, groups: 1, paddingMode: paddingMode, op: r == 1 ? "conv1d" : "conv2d")
    // Lift to (H, W) with H = 1 for 1-D.
    func lift(_ v: [Int], _ one: Int) -> (Int, Int) { r == 1 ? (one, v[0]) : (v[0], v[1]) }
    let (inH, inW) = lift(g.inputSize, 1), (kH, kW) = lift(g.kernelSize, 1), (outH, outW) = lift(g.outputSize, 1)
    let (sH, sW) = lift(g.stride, 1), (dH, dW) = lift(g.dilation, 1), (pH, pW) = lift(g.padBefore, 0)
    var steps: [ConvolutionStep] = []
    for oy in 0..<outH {
        for ox in 0..<outW {
            var window: [Float] = []
            for ky in 0..<kH {
                for kx in 0..<kW {
                    let sy = paddingMode.sourceIndex(oy * sH + ky * dH - pH, length: inH)
                    let sx = paddingMode.sourceIndex(ox * sW + kx * dW - pW, length: inW)
                    if let sy, let sx { window.append(input.scalars[sy * inW + sx]) } else { window.append(0) }
                }
            }
            steps.append(ConvolutionStep(position: r == 1 ? [ox] : [oy, ox], window: window, kernel: taps.scalars))
        }
    }
    return steps
}
