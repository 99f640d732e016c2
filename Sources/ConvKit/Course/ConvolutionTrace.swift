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
    /// Where each tap reads, row-major: its cell in the padded input (row, column; one index
    /// for 1-D), counting from the first padding cell, so a page can highlight the window.
    public let paddedCells: [[Int]]
    /// The input cell each tap's value comes from (after the padding mode's mapping), or
    /// nil when it is the zero padding.
    public let sources: [[Int]?]
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
    let g = try convolutionGeometry(inputShape: [1, 1] + input.shape, weightShape: [1, 1] + kernel.shape, biasShape: nil, rank: r,
                                    stride: stride, padding: padding, dilation: dilation, groups: 1, paddingMode: paddingMode,
                                    op: r == 1 ? "conv1d" : "conv2d")
    try checkTraceSize(sizes: g.outputSize + g.kernelSize, op: "convolutionSteps")
    // Lift to (H, W) with H = 1 for 1-D.
    func lift(_ v: [Int], _ one: Int) -> (Int, Int) { r == 1 ? (one, v[0]) : (v[0], v[1]) }
    let (inH, inW) = lift(g.inputSize, 1), (kH, kW) = lift(g.kernelSize, 1), (outH, outW) = lift(g.outputSize, 1)
    let (sH, sW) = lift(g.stride, 1), (dH, dW) = lift(g.dilation, 1), (pH, pW) = lift(g.padBefore, 0)
    var steps: [ConvolutionStep] = []
    for oy in 0..<outH {
        for ox in 0..<outW {
            var window: [Float] = [], cells: [[Int]] = [], sources: [[Int]?] = []
            for ky in 0..<kH {
                for kx in 0..<kW {
                    let (py, px) = (oy * sH + ky * dH, ox * sW + kx * dW)
                    let sy = paddingMode.sourceIndex(py - pH, length: inH)
                    let sx = paddingMode.sourceIndex(px - pW, length: inW)
                    cells.append(r == 1 ? [px] : [py, px])
                    if let sy, let sx {
                        window.append(input.scalars[sy * inW + sx])
                        sources.append(r == 1 ? [sx] : [sy, sx])
                    } else {
                        window.append(0)
                        sources.append(nil)
                    }
                }
            }
            steps.append(ConvolutionStep(position: r == 1 ? [ox] : [oy, ox], window: window, kernel: taps.scalars,
                                         paddedCells: cells, sources: sources))
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
/// (out = (n − 1)·s − 2p + d·(k − 1) + 1 per axis), in input order; summing them gives
/// `convTranspose2d`, which computes `output`.
/// - Parameters:
///   - input: (H, W); kernel: (kH, kW).
///   - padding: an amount (or one per axis); `same` and asymmetric padding are not defined
///     for a transposed convolution (as in PyTorch).
/// - Throws: `ConvKitError` for other ranks, bad stride, dilation or padding, an empty
///   output, or more than `Limits.maxTraceTerms` terms.
public func transposedConvolutionSteps(
    input: Tensor, kernel: Tensor, stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1
) throws -> TracedTransposedConvolution {
    let op = "transposedConvolutionSteps"
    guard input.rank == 2, kernel.rank == 2, input.count > 0, kernel.count > 0 else {
        throw ConvKitError.shapeMismatch(op: op, message: "input and kernel must be non-empty 2-D grids, got \(input.shape) and \(kernel.shape)")
    }
    let pad: PerAxis
    switch padding {
    case let .explicit(before, after) where before == after: pad = PerAxis(before)
    case .valid: pad = 0
    default:
        throw ConvKitError.invalidArgument(
            op: op, argument: "padding", message: "must be an amount per axis for a transposed convolution ('same' and asymmetric padding are not defined)")
    }
    let s = try stride.resolved(rank: 2, op: op, argument: "stride")
    let d = try dilation.resolved(rank: 2, op: op, argument: "dilation")
    let p = try pad.resolved(rank: 2, op: op, argument: "padding", minimum: 0)
    try checkTraceSize(sizes: [input.count, kernel.count], op: op)
    let output = try convTranspose2d(try input.reshaped(to: [1, 1] + input.shape), weight: try kernel.reshaped(to: [1, 1] + kernel.shape),
                                     stride: PerAxis(s), padding: PerAxis(p), dilation: PerAxis(d))
    let (h, w, kh, kw) = (input.shape[0], input.shape[1], kernel.shape[0], kernel.shape[1])
    let (outH, outW) = (output.shape[2], output.shape[3])
    var steps: [ScatterStep] = []
    for y in 0..<h {
        for x in 0..<w {
            let v = input.scalars[y * w + x]
            var targets: [[Int]?] = []
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let (oy, ox) = (y * s[0] + ky * d[0] - p[0], x * s[1] + kx * d[1] - p[1])
                    targets.append(oy >= 0 && oy < outH && ox >= 0 && ox < outW ? [oy, ox] : nil)
                }
            }
            steps.append(ScatterStep(position: [y, x], value: v, targets: targets, contributions: kernel.scalars.map { $0 * v }))
        }
    }
    let lines = (0..<2).map { a in
        TransposedSizeLine(input: input.shape[a], kernel: kernel.shape[a], stride: s[a], padding: p[a], dilation: d[a], output: output.shape[2 + a])
    }
    let values = output.scalars
    return TracedTransposedConvolution(steps: steps, output: (0..<outH).map { Array(values[($0 * outW)..<(($0 + 1) * outW)]) }, lines: lines)
}

/// A transposed convolution written out input cell by input cell.
public struct TracedTransposedConvolution: Sendable, Encodable {
    /// One step per input cell, in input order.
    public let steps: [ScatterStep]
    /// The output's rows (H_out of W_out values), as `convTranspose2d` computes it.
    public let output: [[Float]]
    /// The output-size formula per axis.
    public let lines: [TransposedSizeLine]

    enum CodingKeys: String, CodingKey { case steps, output, outputShape, formula, lines }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(output, forKey: .output)
        try c.encode([output.count, output.first?.count ?? 0], forKey: .outputShape)
        try c.encode(lines.map(\.text), forKey: .formula)
        try c.encode(lines, forKey: .lines)
    }
}

/// The transposed convolution's output-size formula with one axis's numbers.
public struct TransposedSizeLine: Sendable, Equatable, Encodable {
    public let input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, output: Int

    /// "(n − 1)×s − 2×p + d×(k − 1) + 1 = out" with this axis's numbers.
    public var text: String {
        "(\(input) − 1)×\(stride) − 2×\(padding) + \(dilation)×(\(kernel) − 1) + 1 = \(output)"
    }
}

/// Refuses a trace of more than `Limits.maxTraceTerms` terms (output positions × taps, the
/// product of `sizes`, overflow-checked) before building it.
func checkTraceSize(sizes: [Int], op: String) throws {
    var terms = 1
    for s in sizes {
        let (product, overflow) = terms.multipliedReportingOverflow(by: s)
        guard !overflow, product <= Limits.maxTraceTerms else {
            throw ConvKitError.invalidArgument(
                op: op, argument: "size",
                message: "\(sizes) (output positions × taps) are too many to write out step by step (at most \(groupedDigits(Limits.maxTraceTerms)) terms)")
        }
        terms = product
    }
}

/// The output-size formula filled in, per axis: "floor((n + p_before + p_after − d×(k − 1) − 1) / s) + 1 = out".
public struct OutputSizeLine: Sendable, Equatable {
    public let input: Int, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int, output: Int

    /// The dilated kernel's extent, 1 + d·(k − 1).
    public var effectiveKernel: Int { 1 + dilation * (kernel - 1) }

    /// The formula with this axis's numbers, written as the course writes it.
    public var text: String {
        let pad = padBefore == padAfter ? "2×\(padBefore)" : "\(padBefore)+\(padAfter)"
        return "floor((\(input) + \(pad) − \(dilation)×(\(kernel) − 1) − 1) / \(stride)) + 1 = \(output)"
    }
}

/// The output size of a convolution or pooling window per axis, with the formula's numbers.
/// - Parameters: sizes of the input and kernel per axis (1 to 3 axes; one value is used for
///   every axis of the other); padding as for `conv2d`.
/// - Throws: `ConvKitError` for impossible geometry (kernel larger than the padded input…).
public func outputSizeLines(
    input: [Int], kernel: [Int], stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1
) throws -> [OutputSizeLine] {
    var (input, kernel) = (input, kernel)
    if input.count == 1 && kernel.count > 1 { input = Array(repeating: input[0], count: kernel.count) }
    if kernel.count == 1 && input.count > 1 { kernel = Array(repeating: kernel[0], count: input.count) }
    guard !input.isEmpty, input.count == kernel.count else {
        throw ConvKitError.shapeMismatch(op: "outputSize", message: "input \(input) and kernel \(kernel) need the same number of axes")
    }
    guard input.count <= 3 else {
        throw ConvKitError.shapeMismatch(op: "outputSize", message: "at most 3 axes, got \(input.count)")
    }
    // Shapes only: nothing is allocated, so any size up to 2^31 − 1 is answered.
    let g = try convolutionGeometry(inputShape: [1, 1] + input, weightShape: [1, 1] + kernel, biasShape: nil, rank: input.count,
                                    stride: stride, padding: padding, dilation: dilation, groups: 1, paddingMode: .zeros, op: "outsize")
    return input.indices.map { a in
        OutputSizeLine(input: input[a], kernel: kernel[a], stride: g.stride[a], dilation: g.dilation[a], padBefore: g.padBefore[a],
                       padAfter: g.padAfter[a], output: g.outputSize[a])
    }
}

// JSON forms (the CLI's --json and the lab's responses encode these types directly).
extension ConvolutionStep: Encodable {
    enum CodingKeys: String, CodingKey { case position, window, kernel, products, sum, text, paddedCells, sources }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(position, forKey: .position)
        try c.encode(window, forKey: .window)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(products, forKey: .products)
        try c.encode(sum, forKey: .sum)
        try c.encode(explanation, forKey: .text)
        try c.encode(paddedCells, forKey: .paddedCells)
        try c.encode(sources, forKey: .sources)
    }
}

extension ScatterStep: Encodable {}

extension OutputSizeLine: Encodable {
    enum CodingKeys: String, CodingKey { case input, kernel, stride, dilation, padBefore, padAfter, output, text }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(input, forKey: .input)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(stride, forKey: .stride)
        try c.encode(dilation, forKey: .dilation)
        try c.encode(padBefore, forKey: .padBefore)
        try c.encode(padAfter, forKey: .padAfter)
        try c.encode(output, forKey: .output)
        try c.encode(text, forKey: .text)
    }
}
