/// Weights rearranged once for a forward path instead of on every call.
///
/// The direct and gathered tiles read the weights as packed panels and Winograd reads them
/// transformed; `forward` builds those in its workspace on each call, which for a warmed model at
/// batch 1 repeats the same work every time (packing was 13 % of ResNet-18's and 11 % of
/// ResNet-50's batch-1 forward profile, 2026-12-03). A caller whose weights do not change
/// between calls (a layer in inference) builds them once with `prepareWeight` and passes them
/// to `forward(…, prepared:)`.
extension ConvolutionKernel {
    /// The forward path of `g` that reads rearranged weights, and how many floats they take;
    /// `nil` where the path reads the weights as they are (depthwise) or packs them inside its
    /// GEMM (pointwise, im2col). Depends on the weight's shape, the layer's algorithm choice, the
    /// batch and the spatial size (which pick the path) and the CPU's micro-kernel level.
    public static func preparedWeightLayout(_ g: ConvGeometry) -> (algorithm: ConvolutionPlan.Algorithm, count: Int)? {
        let g = subsampledGeometry(g) ?? g  // the path that runs
        return switch ConvolutionPlan.forwardAlgorithm(g) {
        case .direct: (.direct, directPanelsCount(g))
        case .gathered: (.gathered, gatheredPanelsCount(g))
        // F(4×4) split by filters transforms them panel by panel as it multiplies them; a prepared
        // copy (36/9 of the weights: 38 MB for 512 → 512) ran ResNet-18 at batch 16 no faster
        // (178.7–190.9 against 174.6–188.0 img/s, 4 pairs, 2026-12-05) and held 86 MB more.
        // F(2×2) at batch 1 keeps its copy: there the transform is a large part of a call.
        case .winograd: WinogradKernel.transformsPanels(g, .four) ? nil : (.winograd, WinogradKernel.filtersCount(g, .four))
        case .winograd2x2: (.winograd2x2, WinogradKernel.filtersCount(g, .two))
        case .depthwise, .pointwise, .im2colGEMM, .flipped: nil
        }
    }

    /// Writes `preparedWeightLayout(g).count` floats of `weight` rearranged for `g`'s forward path.
    /// - Precondition: `preparedWeightLayout(g) != nil`.
    public static func prepareWeight(_ g: ConvGeometry, weight: UnsafePointer<Float>, into prepared: UnsafeMutablePointer<Float>) {
        let g = subsampledGeometry(g) ?? g
        switch ConvolutionPlan.forwardAlgorithm(g) {
        case .direct: packPanels(g, weight: weight, width: MicroKernel.convChannels, into: prepared)
        case .gathered: packGatheredPanels(g, weight: weight, into: prepared)
        case .winograd: WinogradKernel.transformFilters(g, .four, weight: weight, into: prepared)
        case .winograd2x2: WinogradKernel.transformFilters(g, .two, weight: weight, into: prepared)
        case .depthwise, .pointwise, .im2colGEMM, .flipped: preconditionFailure("no prepared weights for \(ConvolutionPlan.forwardAlgorithm(g))")
        }
    }
}
