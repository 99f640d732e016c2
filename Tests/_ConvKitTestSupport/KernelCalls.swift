import _ConvKitKernels

/// The convolution kernel's entry points on arrays, with the workspace filled with NaN (so a
/// path that reads workspace it did not write shows up): what the kernel tests call.
public enum KernelCalls {
    /// y = conv(x, w) + bias.
    public static func forward(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
        var y = [Float](repeating: .nan, count: g.outputCount)
        var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in
            y.withUnsafeMutableBufferPointer { py in workspace.withUnsafeMutableBufferPointer { ws in
                if let bias {
                    bias.withUnsafeBufferPointer { pb in
                        ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb.baseAddress!,
                                                  output: py.baseAddress!, workspace: ws.baseAddress!)
                    }
                } else {
                    ConvolutionKernel.forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: nil,
                                              output: py.baseAddress!, workspace: ws.baseAddress!)
                }
            }}
        }}
        return y
    }

    /// dx = convᵀ(dy, w).
    public static func inputGradient(_ g: ConvGeometry, w: [Float], dy: [Float]) -> [Float] {
        var dx = [Float](repeating: .nan, count: g.inputCount)
        var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        dy.withUnsafeBufferPointer { pdy in w.withUnsafeBufferPointer { pw in
            dx.withUnsafeMutableBufferPointer { pdx in workspace.withUnsafeMutableBufferPointer { ws in
                ConvolutionKernel.backwardInput(g, gradOutput: pdy.baseAddress!, weight: pw.baseAddress!,
                                                gradInput: pdx.baseAddress!, workspace: ws.baseAddress!)
            }}
        }}
        return dx
    }

    /// dW = Σ dy · colᵀ.
    public static func weightGradient(_ g: ConvGeometry, x: [Float], dy: [Float]) -> [Float] {
        var dw = [Float](repeating: .nan, count: g.weightCount)
        var workspace = [Float](repeating: .nan, count: max(ConvolutionKernel.workspaceCount(g), 1))
        x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
            dw.withUnsafeMutableBufferPointer { pdw in workspace.withUnsafeMutableBufferPointer { ws in
                ConvolutionKernel.backwardWeight(g, input: px.baseAddress!, gradOutput: pdy.baseAddress!,
                                                 gradWeight: pdw.baseAddress!, workspace: ws.baseAddress!)
            }}
        }}
        return dw
    }
}
