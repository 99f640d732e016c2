import _ConvKitKernels

/// Array-level entry points to the pooling kernels (the same boundary as
/// `ConvolutionKernel+Arrays.swift`): ops pass and receive arrays, never raw pointers, and
/// empty tensors never reach a kernel. x and dx are (planes, in...), y and dy (planes, out...).
extension PoolingKernel {
    /// Max pooling: the maxima, and where they were (flat indices into each input plane) when
    /// `needIndices` (for the caller or the backward pass; skipped in inference).
    static func maxForward(_ g: ConvGeometry, planes: Int, input x: [Float], needIndices: Bool) -> (values: [Float], indices: [Int]) {
        let count = planes * g.outputPlane
        // The kernel writes every output and index, so neither array is zero-filled first.
        var indices = [Int](unsafeUninitializedCapacity: needIndices ? count : 0) { _, initialized in
            initialized = needIndices ? count : 0
        }
        let values = filled(count: count) { y in
            x.withUnsafeBufferPointer { px in indices.withUnsafeMutableBufferPointer { pi in
                maxForward(g, planes: planes, input: px.baseAddress!, output: y, indices: needIndices ? pi.baseAddress! : nil)
            }}
        }
        return (values, indices)
    }

    /// dx: each dy added at the index its maximum came from (zero elsewhere).
    static func maxBackward(_ g: ConvGeometry, planes: Int, gradOutput dy: [Float], indices: [Int]) -> [Float] {
        let count = planes * g.inputPlane
        guard !dy.isEmpty else { return [Float](repeating: 0, count: count) }
        // maxBackward zero-fills dx itself, plane by plane on its workers.
        return filled(count: count) { dx in
            dy.withUnsafeBufferPointer { pdy in indices.withUnsafeBufferPointer { pi in
                maxBackward(g, planes: planes, gradOutput: pdy.baseAddress!, indices: pi.baseAddress!, gradInput: dx)
            }}
        }
    }

    /// Average pooling (PyTorch's divisor rules: `countIncludePad`, `divisorOverride`).
    static func averageForward(_ g: ConvGeometry, planes: Int, input x: [Float], countIncludePad: Bool, divisorOverride: Int?) -> [Float] {
        var y = [Float](repeating: 0, count: planes * g.outputPlane)
        guard !x.isEmpty, !y.isEmpty else { return y }
        x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
            averageForward(g, planes: planes, input: px.baseAddress!, output: py.baseAddress!,
                           countIncludePad: countIncludePad, divisorOverride: divisorOverride)
        }}
        return y
    }

    /// dx of `averageForward`: each dy spread over its window, divided as in the forward pass.
    static func averageBackward(_ g: ConvGeometry, planes: Int, gradOutput dy: [Float], countIncludePad: Bool,
                                divisorOverride: Int?) -> [Float] {
        var dx = [Float](repeating: 0, count: planes * g.inputPlane)
        guard !dx.isEmpty, !dy.isEmpty else { return dx }
        dy.withUnsafeBufferPointer { pdy in dx.withUnsafeMutableBufferPointer { pdx in
            averageBackward(g, planes: planes, gradOutput: pdy.baseAddress!, gradInput: pdx.baseAddress!,
                            countIncludePad: countIncludePad, divisorOverride: divisorOverride)
        }}
        return dx
    }

    /// Adaptive average pooling from `inputSize` to `outputSize` (PyTorch's start/end windows).
    static func adaptiveAverageForward(inputSize: [Int], outputSize: [Int], planes: Int, input x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: planes * outputSize.reduce(1, *))
        guard !x.isEmpty, !y.isEmpty else { return y }
        x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in
            adaptiveAverageForward(inputSize: inputSize, outputSize: outputSize, planes: planes,
                                   input: px.baseAddress!, output: py.baseAddress!)
        }}
        return y
    }

    /// dx of `adaptiveAverageForward`.
    static func adaptiveAverageBackward(inputSize: [Int], outputSize: [Int], planes: Int, gradOutput dy: [Float]) -> [Float] {
        var dx = [Float](repeating: 0, count: planes * inputSize.reduce(1, *))
        guard !dx.isEmpty, !dy.isEmpty else { return dx }
        dy.withUnsafeBufferPointer { pdy in dx.withUnsafeMutableBufferPointer { pdx in
            adaptiveAverageBackward(inputSize: inputSize, outputSize: outputSize, planes: planes,
                                    gradOutput: pdy.baseAddress!, gradInput: pdx.baseAddress!)
        }}
        return dx
    }
}
