import _ConvKitKernels

/// Array-level entry points to the convolution kernel: they borrow the workspace from
/// `WorkspacePool.shared` (kept between calls, so a warmed model's workspaces are not new pages
/// every time), skip the kernel for empty tensors (N = 0), and do not zero-fill results the
/// kernel overwrites, so ops never touch raw pointers themselves.
extension ConvolutionKernel {
    /// An array of `count` floats that `fill` overwrites completely (the kernels write every
    /// output element), with a workspace for `g`; skips zero-filling memory about to be written.
    private static func result(
        count: Int, _ g: ConvGeometry,
        _ fill: (_ out: UnsafeMutablePointer<Float>, _ workspace: UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        guard g.inputCount > 0, g.outputCount > 0 else { return [Float](repeating: 0, count: count) }
        return WorkspacePool.shared.withBuffer(count: workspaceCount(g)) { workspace in
            FreshStorage.floats(count: count) { buffer in fill(buffer.baseAddress!, workspace) }
        }
    }

    /// conv(x, w) + bias (+ residual), clamped to `clamp` when given → (N, K, out...); `prepared`:
    /// w as `prepareWeight` rearranges it for g (`PreparedWeights`).
    static func forward(
        _ g: ConvGeometry, input x: [Float], weight w: [Float], bias: [Float]?, clamp: OutputClamp? = nil, prepared: [Float]? = nil,
        residual: [Float]? = nil
    ) -> [Float] {
        result(count: g.outputCount, g) { out, ws in
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in
                withOptionalPointer(bias) { pb in withOptionalPointer(prepared) { pp in withOptionalPointer(residual) { pr in
                    forward(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb, output: out, workspace: ws, clamp: clamp,
                            prepared: pp, residual: pr)
                }}}
            }}
        }
    }

    /// The 2 × 2, stride-2 max pooling of conv(x, w) + bias (clamped to `clamp` when given),
    /// pooled as the direct or Winograd path stores its lines (`forwardPooled`); the convolution's
    /// own output lives in a borrowed buffer only, or not at all (Winograd). Indices (flat
    /// positions in each output plane) when asked.
    /// - Precondition: `poolsAsItStores(g)`.
    static func forwardPooled(
        _ g: ConvGeometry, input x: [Float], weight w: [Float], bias: [Float]?, clamp: OutputClamp? = nil,
        prepared: [Float]? = nil, needIndices: Bool
    ) -> (values: [Float], indices: [Int]) {
        let count = g.batch * g.outChannels * poolGeometry(g).outputPlane
        // The pooling writes every value and index, so neither array is zero-filled first.
        var indices = [Int](unsafeUninitializedCapacity: needIndices ? count : 0) { _, initialized in
            initialized = needIndices ? count : 0
        }
        guard g.inputCount > 0, count > 0 else { return ([Float](repeating: 0, count: count), indices) }
        let full = pooledOutputCount(g)
        let values = WorkspacePool.shared.withBuffer(count: workspaceCount(g) + full) { buffer in
            FreshStorage.floats(count: count) { pooled in
                x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in indices.withUnsafeMutableBufferPointer { pi in
                    withOptionalPointer(bias) { pb in withOptionalPointer(prepared) { pp in
                        forwardPooled(g, input: px.baseAddress!, weight: pw.baseAddress!, bias: pb, output: buffer,
                                      workspace: buffer + full, clamp: clamp, prepared: pp,
                                      pool: PooledOutput(values: pooled.baseAddress!, indices: needIndices ? pi.baseAddress! : nil))
                    }}
                }}}
            }
        }
        return (values, indices)
    }

    /// convᵀ(dy, w) → (N, C, in...).
    static func backwardInput(_ g: ConvGeometry, gradOutput dy: [Float], weight w: [Float]) -> [Float] {
        result(count: g.inputCount, g) { dx, ws in
            dy.withUnsafeBufferPointer { pdy in w.withUnsafeBufferPointer { pw in
                backwardInput(g, gradOutput: pdy.baseAddress!, weight: pw.baseAddress!, gradInput: dx, workspace: ws)
            }}
        }
    }

    /// Σₙ dy · colᵀ → (K, C/G, kernel...).
    static func backwardWeight(_ g: ConvGeometry, input x: [Float], gradOutput dy: [Float]) -> [Float] {
        result(count: g.weightCount, g) { dw, ws in
            x.withUnsafeBufferPointer { px in dy.withUnsafeBufferPointer { pdy in
                backwardWeight(g, input: px.baseAddress!, gradOutput: pdy.baseAddress!, gradWeight: dw, workspace: ws)
            }}
        }
    }

    /// (convᵀ(dy, w), Σₙ dy · colᵀ) from one call, so the kernel can take both in one pass.
    static func backward(_ g: ConvGeometry, input x: [Float], weight w: [Float], gradOutput dy: [Float]) -> (input: [Float], weight: [Float]) {
        guard g.inputCount > 0, g.outputCount > 0 else {
            return ([Float](repeating: 0, count: g.inputCount), [Float](repeating: 0, count: g.weightCount))
        }
        var dw: [Float] = []
        let dx = result(count: g.inputCount, g) { dx, ws in
            dw = FreshStorage.floats(count: g.weightCount) { dw in
                x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in dy.withUnsafeBufferPointer { pdy in
                    backward(g, input: px.baseAddress!, weight: pw.baseAddress!, gradOutput: pdy.baseAddress!,
                             gradInput: dx, gradWeight: dw.baseAddress!, workspace: ws)
                }}}
            }
        }
        return (dx, dw)
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

extension ClampKernel {
    /// The gradient of `bounds` (a fused activation) from its output: gradOutput where the output
    /// is above the lower bound (and, for bounds other than ReLU's, below the upper), else 0 —
    /// as the separate `relu()` or clamp computes it.
    static func gradient(_ bounds: OutputClamp, output: [Float], gradOutput: [Float]) -> [Float] {
        filled(count: output.count) { dx in
            output.withUnsafeBufferPointer { y in gradOutput.withUnsafeBufferPointer { dy in
                mask(output: y.baseAddress!, gradOutput: dy.baseAddress!, gradInput: dx, lower: bounds.lower,
                     upper: bounds == .relu ? nil : bounds.upper, count: output.count)
            }}
        }
    }
}
