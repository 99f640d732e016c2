/// Convolution (cross-correlation, as PyTorch) by im2col + GEMM, per batch item and group.
///
/// Shapes (see `ConvGeometry`): input (N, C, in...), weight (K, C/G, kernel...),
/// bias (K), output (N, K, out...). Transposed convolution is the adjoint: its forward is
/// `backwardInput` of the convolution that maps its output back to its input.
///
/// Every entry point takes a caller-owned workspace of `workspaceCount(g)` floats, so a
/// faster implementation (SIMD, threads, another layout) can replace these bodies without
/// touching autograd or callers.
public enum ConvolutionKernel {
    /// Floats of workspace the entry points need for `g`.
    public static func workspaceCount(_ g: ConvGeometry) -> Int {
        isPointwise(g) ? 0 : g.columnRows * g.outputPlane
    }

    /// A 1×1, stride-1, unpadded convolution reads its input as the column matrix directly.
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelVolume == 1 && g.inputSize == g.outputSize
            && g.padBefore.allSatisfy { $0 == 0 } && g.stride.allSatisfy { $0 == 1 }
    }

    /// The column matrix of batch item `n`, group `grp`: either `workspace` filled by
    /// im2col, or the input itself for pointwise convolutions.
    private static func columns(
        _ g: ConvGeometry, input: UnsafePointer<Float>, n: Int, group grp: Int,
        workspace: UnsafeMutablePointer<Float>
    ) -> UnsafePointer<Float> {
        let src = input + (n * g.inChannels + grp * g.inChannelsPerGroup) * g.inputPlane
        if isPointwise(g) { return src }
        Im2Col.gather(g, channels: g.inChannelsPerGroup, input: src, columns: workspace)
        return UnsafePointer(workspace)
    }

    /// output = conv(input, weight) + bias. Overwrites `output`.
    public static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let (kg, rows, p) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        for n in 0..<g.batch {
            for grp in 0..<g.groups {
                let col = columns(g, input: input, n: n, group: grp, workspace: workspace)
                let out = output + (n * g.outChannels + grp * kg) * p
                // out_g (K/G, P) = W_g (K/G, rows) · col (rows, P)
                gemm(transposeA: false, transposeB: false, m: kg, n: p, k: rows,
                     a: weight + grp * kg * rows, lda: rows, b: col, ldb: p,
                     beta: 0, c: out, ldc: p)
            }
            if let bias {
                for k in 0..<g.outChannels {
                    let row = output + (n * g.outChannels + k) * p
                    let v = bias[k]
                    for j in 0..<p { row[j] += v }
                }
            }
        }
    }

    /// gradInput = convᵀ(gradOutput, weight). Overwrites `gradInput`.
    public static func backwardInput(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let (kg, cg, rows, p) = (g.outChannelsPerGroup, g.inChannelsPerGroup, g.columnRows, g.outputPlane)
        gradInput.update(repeating: 0, count: g.inputCount)
        let pointwise = isPointwise(g)
        for n in 0..<g.batch {
            for grp in 0..<g.groups {
                let dy = gradOutput + (n * g.outChannels + grp * kg) * p
                let dx = gradInput + (n * g.inChannels + grp * cg) * g.inputPlane
                // dcol (rows, P) = W_gᵀ (rows, K/G) · dy (K/G, P)
                let dcol = pointwise ? dx : workspace
                gemm(transposeA: true, transposeB: false, m: rows, n: p, k: kg,
                     a: weight + grp * kg * rows, lda: rows, b: dy, ldb: p,
                     beta: 0, c: dcol, ldc: p)
                if !pointwise {
                    Im2Col.scatterAdd(g, channels: cg, columns: workspace, input: dx)
                }
            }
        }
    }

    /// gradWeight = Σₙ dy · colᵀ. Overwrites `gradWeight` (K, C/G, kernel...).
    public static func backwardWeight(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>
    ) {
        let (kg, rows, p) = (g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        gradWeight.update(repeating: 0, count: g.weightCount)
        for n in 0..<g.batch {
            for grp in 0..<g.groups {
                let col = columns(g, input: input, n: n, group: grp, workspace: workspace)
                let dy = gradOutput + (n * g.outChannels + grp * kg) * p
                // dW_g (K/G, rows) += dy (K/G, P) · colᵀ (P, rows)
                gemm(transposeA: false, transposeB: true, m: kg, n: rows, k: p,
                     a: dy, lda: p, b: col, ldb: p,
                     beta: 1, c: gradWeight + grp * kg * rows, ldc: rows)
            }
        }
    }

    /// gradBias[k] = Σ over batch and positions of gradOutput[n, k, ...]. Overwrites `gradBias`.
    /// - Parameters:
    ///   - gradOutput: (batch, channels, plane).
    public static func biasGradient(
        batch: Int, channels: Int, plane: Int, gradOutput: UnsafePointer<Float>,
        gradBias: UnsafeMutablePointer<Float>
    ) {
        for k in 0..<channels {
            var s: Float = 0
            for n in 0..<batch {
                let row = gradOutput + (n * channels + k) * plane
                for j in 0..<plane { s += row[j] }
            }
            gradBias[k] = s
        }
    }
}
