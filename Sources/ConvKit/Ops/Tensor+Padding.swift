import _ConvKitKernels

/// Pads the last `before.count` axes, as `torch.nn.functional.pad` (but with the amounts
/// listed first axis first, not last axis first).
/// - Parameters:
///   - input: any tensor whose rank exceeds the number of padded axes (1...3 axes).
///   - before, after: amounts per padded axis, in axis order.
///   - mode: zeros (constant `value`), reflect (< size), replicate, circular (≤ size).
/// - Returns: the padded tensor.
public func pad(
    _ input: Tensor, before: [Int], after: [Int], mode: PaddingMode = .zeros, value: Float = 0
) throws -> Tensor {
    let r = before.count
    guard (1...3).contains(r), after.count == r, input.rank > r else {
        throw ConvKitError.invalidArgument(
            op: "pad", argument: "before/after",
            message: "must both list 1 to 3 axes (fewer than the input's rank \(input.rank)), got \(before) and \(after)")
    }
    guard (before + after).allSatisfy({ $0 >= 0 }) else {
        throw ConvKitError.invalidArgument(op: "pad", argument: "before/after", message: "must be non-negative, got \(before) and \(after)")
    }
    let size = Array(input.shape[(input.rank - r)...])
    try checkPaddingMode(mode, size: size, before: before, after: after, op: "pad")
    let planes = input.shape[..<(input.rank - r)].reduce(1, *)
    let g = PadKernel.geometry(planes: planes, inputSize: size, before: before, after: after, mode: mode)
    var out = [Float](repeating: value, count: planes * g.outputPlane)
    if !out.isEmpty && !input.scalars.isEmpty {
        input.scalars.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            PadKernel.forward(g, planes: planes, input: px.baseAddress!, output: po.baseAddress!, value: value)
        }}
    }
    let outShape = Array(input.shape[..<(input.rank - r)]) + g.outputSize
    return Tensor.result(shape: outShape, scalars: out, op: "pad", inputs: [input]) { dy in
        var dx = [Float](repeating: 0, count: input.count)
        if !dx.isEmpty && !dy.scalars.isEmpty {
            dy.scalars.withUnsafeBufferPointer { pdy in dx.withUnsafeMutableBufferPointer { pdx in
                PadKernel.backward(g, planes: planes, gradOutput: pdy.baseAddress!, gradInput: pdx.baseAddress!)
            }}
        }
        return [Tensor(uncheckedShape: input.shape, scalars: dx)]
    }
}
