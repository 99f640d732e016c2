/// Padding as a window of size 1: `out[o] = in[mode.sourceIndex(o − before)]`, through
/// the same gather/scatter as convolution.
public enum PadKernel {
    /// The geometry that pads `inputSize` by `before`/`after` per axis in `mode`.
    public static func geometry(
        planes: Int, inputSize: [Int], before: [Int], after: [Int], mode: PaddingMode
    ) -> ConvGeometry {
        let r = inputSize.count
        return ConvGeometry(
            batch: 1, inChannels: max(planes, 1), outChannels: max(planes, 1), groups: max(planes, 1),
            inputSize: inputSize, kernelSize: Array(repeating: 1, count: r),
            stride: Array(repeating: 1, count: r), dilation: Array(repeating: 1, count: r),
            padBefore: before, padAfter: after, paddingMode: mode)
    }

    /// Pads `planes` planes of the geometry's input. Overwrites `output` (planes, out...).
    /// `planeStride` (at least the output plane, the default) spaces the output planes; the
    /// floats between them are not written.
    public static func forward(
        _ g: ConvGeometry, planes: Int, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, value: Float = 0, planeStride: Int? = nil
    ) {
        Im2Col.gather(g, channels: planes, input: input, columns: output, padValue: value, channelStride: planeStride)
    }

    /// Adjoint: sums each output gradient into the input position it was read from.
    /// Overwrites `gradInput` (planes, in...).
    public static func backward(
        _ g: ConvGeometry, planes: Int, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        gradInput.update(repeating: 0, count: planes * g.inputPlane)
        Im2Col.scatterAdd(g, channels: planes, columns: gradOutput, input: gradInput)
    }
}
