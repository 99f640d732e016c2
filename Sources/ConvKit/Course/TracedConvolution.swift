/// A convolution written out step by step, with everything a page or a terminal shows:
/// each channel's steps, the summed output with its shape, and the output-size formula of
/// each axis with the padding actually applied before and after.
public struct TracedConvolution: Sendable, Encodable {
    /// Steps per input channel, in output order.
    public let steps: [[ConvolutionStep]]
    /// Per output position, the sum over channels (the output, row-major).
    public let sums: [Float]
    /// The output's shape: (L_out) or (H_out, W_out).
    public let outputShape: [Int]
    /// The output as rows (one row for 1-D).
    public var rows: [[Float]] {
        let width = Swift.max(outputShape.last ?? 1, 1)
        return Swift.stride(from: 0, to: sums.count, by: width).map { Array(sums[$0..<Swift.min($0 + width, sums.count)]) }
    }
    /// The output-size formula per axis (padding before and after included).
    public let lines: [OutputSizeLine]

    enum CodingKeys: String, CodingKey { case steps, sums, outputShape, output, formula, lines }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(sums, forKey: .sums)
        try c.encode(outputShape, forKey: .outputShape)
        try c.encode(rows, forKey: .output)
        try c.encode(lines.map(\.text), forKey: .formula)
        try c.encode(lines, forKey: .lines)
    }
}

/// Traces a single- or multi-channel 1-D or 2-D convolution (one kernel per channel, one
/// output channel), as `convolutionSteps` does per channel.
/// - Parameters:
///   - channels: one (L) or (H, W) tensor per input channel, all of one shape.
///   - kernels: one kernel per channel, of the same rank.
/// - Throws: `ConvKitError` as `convolutionSteps`, and when there are more than 16 channels.
public func traceConvolution(
    channels: [Tensor], kernels: [Tensor], stride: PerAxis = 1, padding: Padding = 0, dilation: PerAxis = 1,
    paddingMode: PaddingMode = .zeros, flip: Bool = false
) throws -> TracedConvolution {
    try Limits.check(channels.count, in: 1...16, op: "traceConvolution", argument: "channels")
    let (perChannel, sums) = try convolutionSteps(channels: channels, kernels: kernels, stride: stride, padding: padding,
                                                  dilation: dilation, paddingMode: paddingMode, flip: flip)
    let lines = try outputSizeLines(input: channels[0].shape, kernel: kernels[0].shape, stride: stride, padding: padding, dilation: dilation)
    return TracedConvolution(steps: perChannel, sums: sums, outputShape: lines.map(\.output), lines: lines)
}
