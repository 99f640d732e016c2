import _ConvKitKernels

/// Array-level entry points to the convolution kernel: they own the workspace and skip
/// the kernel for empty tensors (N = 0), so ops never touch raw pointers themselves.
extension ConvolutionKernel {
    /// conv(x, w) + bias → (N, K, out...).
    static func forward(_ g: ConvGeometry, input x: [Float], weight w: [Float], bias: [Float]?) -> [Float] {
        var out = [Float](repeating: 0, count: g.outputCount)
        guard g.inputCount > 0, g.outputCount > 0 else { return out }
        var ws = [Float](repeating: 0, count: max(workspaceCount(g), 1))
        x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in
            out.withUnsafeMutableBufferPointer { po in ws.withUnsafeMutableBufferPointer { pws in
                withOptionalPointer(bias) { pb in
                    forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb,
                            output: po.baseAddress!, workspace: pws.baseAddress!)
                }
            }}
        }}
        return out
    }

    /// convᵀ(dy, w) → (N, C, in...).
    static func backwardInput(_ g: ConvGeometry, gradOutput dy: [Float], weight w: [Float]) -> [Float] {
        var dx = [Float](repeating: 0, count: g.inputCount)
        guard g.inputCount > 0, g.outputCount > 0 else { return dx }
        var ws = [Float](repeating: 0, count: max(workspaceCount(g), 1))
        dy.withUnsafeBufferPointer { pdy in w.withUnsafeBufferPointer { pw in
            dx.withUnsafeMutableBufferPointer { pdx in ws.withUnsafeMutableBufferPointer { pws in
                backwardInput(g, gradOutput: pdy.baseAddress!, weight: pw.baseAddress!,
                              gradInput: pdx.baseAddress!, workspace: pws.baseAddress!)
            }}
        }}
        return dx
    }

    /// Σₙ dy · colᵀ → (K, C/G, kernel...).
    static func backwardWeight(_ g: ConvGeometry, input x: [Float], gradOutput dy: [Float]) -> [Float] {
        var dw = [Float](repeating: 0, count: g.weightCount)
        guard g.inputCount > 0, g.outputCount > 0 else { return dw }
        var ws = [Float](repeating: 0, count: max(workspaceCount(g), 1))
        x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
            dw.withUnsafeMutableBufferPointer { pdw in ws.withUnsafeMutableBufferPointer { pws in
                backwardWeight(g, input: px.baseAddress!, gradOutput: pdy.baseAddress!,
                               gradWeight: pdw.baseAddress!, workspace: pws.baseAddress!)
            }}
        }}
        return dw
    }

    /// Σ over batch and positions → (channels).
    static func biasGradient(_ dy: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
        var db = [Float](repeating: 0, count: channels)
        guard !dy.isEmpty else { return db }
        dy.withUnsafeBufferPointer { pdy in db.withUnsafeMutableBufferPointer { pdb in
            biasGradient(batch: batch, channels: channels, plane: plane,
                         gradOutput: pdy.baseAddress!, gradBias: pdb.baseAddress!)
        }}
        return db
    }
}

/// Calls `body` with a pointer to `values`, or `nil` when there are none.
func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
