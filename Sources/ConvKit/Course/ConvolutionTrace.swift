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

/// The steps of a multi-channel convolution with one kernel per input channel (one output
/// channel): each channel's steps, and the output, where each position sums the channels'
/// window sums (as `conv2d` with weight (1, C, kH, kW) and no bias).
/// - Throws: `ConvKitError.shapeMismatch` when the counts differ, the channels differ in size,
///   or a channel and its kernel do not fit (as `convolutionSteps`).
public func convolutionSteps(
    channels: [Tensor], kernels: [Tensor], stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1,
    paddingMode: PaddingMode = .zeros, flip: Bool = false
) throws -> (perChannel: [[ConvolutionStep]], sums: [Float]) {
    guard !channels.isEmpty, channels.count == kernels.count, Set(channels.map(\.shape)).count == 1 else {
        throw ConvKitError.shapeMismatch(
            op: "convolutionSteps", message: "need one kernel per channel and channels of one size, got \(channels.map(\.shape)) and \(kernels.count) kernels")
    }
    let perChannel = try zip(channels, kernels).map { x, k in
        try convolutionSteps(input: x, kernel: k, stride: stride, padding: padding, dilation: dilation, paddingMode: paddingMode, flip: flip)
    }
    let sums = perChannel[0].indices.map { i in perChannel.reduce(Float(0)) { $0 + $1[i].sum } }
    return (perChannel, sums)
}

/// One input cell of a transposed convolution: its value times the kernel is added into
/// the output window it maps to (the adjoint of the convolution's gather).
public struct ScatterStep: Sendable, Equatable {
    /// The input position (row, column).
    public let position: [Int]
    public let value: Float
    /// For each kernel tap (row-major), the output cell (row, column) it adds to, or nil
    /// when that cell is cropped away by `padding`.
    public let targets: [[Int]?]
    /// value · kernel[tap], per tap.
    public let contributions: [Float]
}

/// Every input cell's contribution to a 2-D transposed convolution
/// (out = (n − 1)·s − 2p + k), in input order; summing them gives `convTranspose2d`.
public func transposedConvolutionSteps(input: Tensor, kernel: Tensor, stride: Int = 1, padding: Int = 0) throws -> (steps: [ScatterStep], output: Tensor) {
    guard input.rank == 2, kernel.rank == 2, stride >= 1, padding >= 0 else {
        throw ConvKitError.shapeMismatch(op: "transposedConvolutionSteps", message: "input and kernel must be 2-D, stride ≥ 1, padding ≥ 0")
    }
    let output = try convTranspose2d(try input.reshaped(to: [1, 1] + input.shape), weight: try kernel.reshaped(to: [1, 1] + kernel.shape),
                                     stride: PerAxis(stride), padding: PerAxis(padding)).reshaped(to: [-1]).scalars
    let (h, w, kh, kw) = (input.shape[0], input.shape[1], kernel.shape[0], kernel.shape[1])
    let (outH, outW) = ((h - 1) * stride - 2 * padding + kh, (w - 1) * stride - 2 * padding + kw)
    var steps: [ScatterStep] = []
    for y in 0..<h {
        for x in 0..<w {
            let v = input.scalars[y * w + x]
            var targets: [[Int]?] = []
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let (oy, ox) = (y * stride + ky - padding, x * stride + kx - padding)
                    targets.append(oy >= 0 && oy < outH && ox >= 0 && ox < outW ? [oy, ox] : nil)
                }
            }
            steps.append(ScatterStep(position: [y, x], value: v, targets: targets, contributions: kernel.scalars.map { $0 * v }))
        }
    }
    return (steps, try Tensor(shape: [outH, outW], scalars: output))
}

/// The output-size formula filled in, per axis: "floor((n + p_before + p_after − d×(k − 1) − 1) / s) + 1 = out".
public struct OutputSizeLine: Sendable, Equatable {
    public let input: Int, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int, output: Int

    /// The formula with this axis's numbers, written as the course writes it.
    public var text: String {
        let pad = padBefore == padAfter ? "2×\(padBefore)" : "\(padBefore)+\(padAfter)"
        return "floor((\(input) + \(pad) − \(dilation)×(\(kernel) − 1) − 1) / \(stride)) + 1 = \(output)"
    }
}

/// The output size of a convolution or pooling window per axis, with the formula's numbers.
/// - Parameters: sizes of the input and kernel per axis (1 or 2 axes); padding as for `conv2d`.
/// - Throws: `ConvKitError` for impossible geometry (kernel larger than the padded input…).
public func outputSizeLines(
    input: [Int], kernel: [Int], stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1
) throws -> [OutputSizeLine] {
    guard !input.isEmpty, input.count == kernel.count else {
        throw ConvKitError.shapeMismatch(op: "outputSize", message: "input \(input) and kernel \(kernel) need the same number of axes")
    }
    let x = try Tensor.zeros([1, 1] + input), w = try Tensor.zeros([1, 1] + kernel)
    let g = try convolutionGeometry(input: x, weight: w, bias: nil, rank: input.count, stride: stride, padding: padding,
                                    dilation: dilation, groups: 1, paddingMode: .zeros, op: "outsize")
    return input.indices.map { a in
        OutputSizeLine(input: input[a], kernel: kernel[a], stride: g.stride[a], dilation: g.dilation[a], padBefore: g.padBefore[a],
                       padAfter: g.padAfter[a], output: g.outputSize[a])
    }
}
