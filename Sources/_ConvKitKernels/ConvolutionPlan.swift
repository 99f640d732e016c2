/// Which implementation runs a convolution in each direction, chosen once from its geometry
/// and the CPU's micro-kernel level (as oneDNN's primitive descriptors or cuDNN's algorithm
/// enums make the choice a value you can print and test).
public struct ConvolutionPlan: Sendable, Equatable, CustomStringConvertible {
    /// One way to compute a direction.
    public enum Algorithm: String, Sendable, Equatable {
        /// Per-channel loops for groups == C == K (`DepthwiseKernel`).
        case depthwise
        /// Register tiles read in place from a padded copy of the input (`Convolution+Direct`).
        case direct
        /// Register tiles of output channels × output positions gathered from anywhere in a
        /// padded copy of the batch's input, for lines too narrow for `direct` (`Convolution+Gathered`).
        case gathered
        /// The input gradient as a forward convolution with flipped weights (stride 1, zero
        /// padding), which then runs `flippedForward`.
        case flipped
        /// 1 × 1 layers: a GEMM on the input (or output gradient) itself, no column matrix.
        case pointwise
        /// A column matrix (im2col, or col2im for the input gradient) and a packed GEMM.
        case im2colGEMM = "im2col+GEMM"
        /// Winograd F(4×4, 3×3): transformed tiles and filters, 36 GEMMs (`WinogradKernel`).
        case winograd
        /// Winograd F(2×2, 3×3): 16 GEMMs over smaller transformed filters, for batches with few
        /// F(4×4) tiles (a single image of 14 × 14 or less; forward passes only).
        case winograd2x2 = "winograd F(2×2)"
    }

    public let forward: Algorithm
    /// Whether `forward` runs on the input subsampled to the positions a 1 × 1 convolution with a
    /// stride above 1 reads (`ConvolutionKernel.subsampledGeometry`), as a stride-1 convolution.
    public let forwardSubsamples: Bool
    public let inputGradient: Algorithm
    /// For `inputGradient == .flipped`, how that forward convolution runs.
    public let flippedForward: Algorithm?
    public let weightGradient: Algorithm
    /// Floats of caller-owned workspace the three directions need (the largest).
    public let workspace: Int

    /// The plan for `g` on this CPU (`CONVKIT_KERNELS` caps the level).
    public init(_ g: ConvGeometry) {
        let depthwise = DepthwiseKernel.applies(g), pointwise = ConvolutionKernel.isPointwise(g)
        forward = Self.forwardAlgorithm(g)
        forwardSubsamples = ConvolutionKernel.subsampledGeometry(g) != nil
        if depthwise {
            (inputGradient, flippedForward) = (.depthwise, nil)
        } else if let t = ConvolutionKernel.flippedGeometry(g) {
            // Only t's forward: t's own input gradient would flip back to g.
            (inputGradient, flippedForward) = (.flipped, Self.forwardAlgorithm(t))
        } else {
            (inputGradient, flippedForward) = (pointwise ? .pointwise : .im2colGEMM, nil)
        }
        // F(4×4)'s weight gradient wherever F(4×4) runs forward or Winograd is asked for.
        let winogradWeights = forward == .winograd || (forward == .winograd2x2 && g.algorithm.resolved == .winograd)
        weightGradient = depthwise ? .depthwise : winogradWeights ? .winograd
            : ConvolutionKernel.directApplies(g) ? .direct : ConvolutionKernel.gatheredApplies(g) ? .gathered
            : pointwise ? .pointwise : .im2colGEMM
        let k = ConvolutionKernel.self
        workspace = depthwise ? 0 : Swift.max(
            k.forwardWorkspaceCount(g),
            inputGradient == .flipped ? k.flippedWorkspaceCount(g) : k.slabsCount(g),
            weightGradient == .winograd ? WinogradKernel.weightWorkspaceCount(g)
                : weightGradient == .direct ? k.directWeightWorkspaceCount(g)
                : weightGradient == .gathered ? k.gatheredWeightWorkspaceCount(g) : k.slabsCount(g))
    }

    /// The plan for `g`, computed on the first call for its geometry and kept (`PlanCache`).
    public static func cached(_ g: ConvGeometry) -> ConvolutionPlan { plans.value(for: g, ConvolutionPlan.init) }
    private static let plans = PlanCache<ConvolutionPlan>()

    /// The forward pass's implementation: Winograd where `g.algorithm` (resolved through
    /// `ConvolutionAlgorithm.global`) asks for it and it applies (F(2×2) for batches of fewer than
    /// 48 F(4×4) tiles, F(4×4) otherwise), or where `.automatic` finds one of them pays; kept per
    /// geometry (`PlanCache`).
    static func forwardAlgorithm(_ g: ConvGeometry) -> Algorithm { forwardAlgorithms.value(for: g, computedForwardAlgorithm) }
    private static let forwardAlgorithms = PlanCache<Algorithm>()

    private static func computedForwardAlgorithm(_ g: ConvGeometry) -> Algorithm {
        if DepthwiseKernel.applies(g) { return .depthwise }
        if let s = ConvolutionKernel.subsampledGeometry(g) { return forwardAlgorithm(s) }
        switch g.algorithm.resolved {
        case .winograd where WinogradKernel.applies(g): return WinogradKernel.fewTiles(g) ? .winograd2x2 : .winograd
        case .automatic where WinogradKernel.pays(g): return .winograd
        case .automatic where WinogradKernel.paysWithSmallTiles(g): return .winograd2x2
        default: break
        }
        let k = ConvolutionKernel.self
        return k.directForwardApplies(g) ? .direct : k.gatheredApplies(g) ? .gathered : k.isPointwise(g) ? .pointwise : .im2colGEMM
    }

    /// "forward direct, input gradient flipped (direct), weight gradient direct; workspace 12,345 floats".
    public var description: String {
        "forward \(forward.rawValue)\(forwardSubsamples ? " (subsampled input)" : ""), input gradient \(inputGradient.rawValue)"
            + (flippedForward.map { " (\($0.rawValue))" } ?? "") + ", weight gradient \(weightGradient.rawValue); workspace \(workspace) floats"
    }
}
