import Foundation

/// Grad-CAM (Selvaraju et al. 2017): where a convolutional layer's maps A_k (N, K, h, w) hold
/// evidence for a class. Each map is weighted by the mean of the score's gradient over it,
/// α_k = mean_ij ∂score/∂A_k[i, j], and the class-activation map is ReLU(Σ_k α_k A_k).
///
/// Called like pytorch-grad-cam's `GradCAM(model, target_layers=[layer])(input, targets=[ClassifierOutputTarget(c)])`:
/// the layer is named by its dotted path in the module tree (the names of `state_dict()`
/// without the parameter: `layer4`, `features.28`, `layer4.1.conv2`).
public struct GradCAM {
    public let model: any Module
    public let targetLayer: String
    private let layer: any Module

    /// - Throws: `ConvKitError.invalidArgument` when no module of `model` has the path `targetLayer`.
    public init(model: any Module, targetLayer: String) throws {
        let modules = model.namedModules().filter { !$0.path.isEmpty }
        guard let found = modules.first(where: { $0.path == targetLayer }) else {
            let some = modules.map(\.path).prefix(12).joined(separator: ", ")
            throw ConvKitError.invalidArgument(op: "GradCAM", argument: "layer",
                                               message: "'\(targetLayer)' is not a module of \(typeName(model)); its modules include \(some)")
        }
        (self.model, self.targetLayer, self.layer) = (model, targetLayer, found.module)
    }

    /// The layer Grad-CAM uses when none is named: the last module (in the order calls finish)
    /// whose output for `input` is a stack of maps larger than 1×1, the deepest spatial
    /// features (`layer4` for a ResNet, the last pooling for the course CNN).
    /// - Throws: `ConvKitError.invalidArgument` when no module outputs such maps (a ViT's
    ///   blocks output tokens, not maps).
    public static func defaultLayer(of model: any Module, input: Tensor) throws -> String {
        let outputs = try withFrozenModel(model) { try model.namedOutputs(input) }
        guard let last = outputs.last(where: { !$0.path.isEmpty && $0.output.rank == 4 && $0.output.shape[2] * $0.output.shape[3] > 1 }) else {
            throw ConvKitError.invalidArgument(op: "GradCAM", argument: "layer",
                                               message: "\(typeName(model)) has no layer whose output is (N, C, H, W) maps larger than 1×1")
        }
        return last.path
    }

    /// Grad-CAM maps at the input's size, as pytorch-grad-cam returns them: each class-
    /// activation map scaled to [0, 1] (x − min, then ÷ (max + 1e-7)), resized bilinearly
    /// (half-pixel centres, as cv2.resize), and scaled again.
    /// - Parameters:
    ///   - input: (N, C, H, W).
    ///   - target: the class explained; `nil`: each sample's top class.
    /// - Returns: (N, H, W) in [0, 1].
    public func callAsFunction(_ input: Tensor, target: Int? = nil) throws -> Tensor {
        let cams = try activationMaps(input, target: target).maps
        let (n, h, w) = (cams.shape[0], cams.shape[1], cams.shape[2])
        let scaled = Tensor(uncheckedShape: [n, 1, h, w], scalars: scaledPerSample(cams.scalars, count: n))
        let resized = try withGradientsDisabled { try upsample(scaled, size: [input.shape[2], input.shape[3]], mode: .bilinear) }
        return Tensor(uncheckedShape: [n, input.shape[2], input.shape[3]], scalars: scaledPerSample(resized.scalars.map { Swift.max($0, 0) }, count: n))
    }

    /// The class-activation maps at the layer's own size, ReLU(Σ_k α_k A_k) (N, h, w), before
    /// any scaling (captum's `LayerGradCam(model, layer).attribute(x, target:, relu_attributions: true)`),
    /// and the class each sample's map explains.
    /// - Throws: `ConvKitError` when the layer is not called exactly once per forward pass or
    ///   its output is not (N, K, h, w).
    public func activationMaps(_ input: Tensor, target: Int? = nil) throws -> (maps: Tensor, targets: [Int]) {
        let op = "GradCAM"
        guard input.rank == 4, input.shape[0] > 0 else { throw ConvKitError.shapeMismatch(op: op, message: "input must be (N, C, H, W), got \(input.shape)") }
        try checkFinite(input, op: op)
        return try withFrozenModel(model) {
            let capture = ModuleCapture(layer)
            let logits = try ModuleCapture.$current.withValue(capture) { try model(input) }
            guard capture.outputs.count == 1, let activations = capture.outputs.first else {
                throw ConvKitError.invalidArgument(op: op, argument: "layer", message: capture.outputs.isEmpty
                    ? "'\(targetLayer)' was not called by the model's forward pass"
                    : "'\(targetLayer)' runs \(capture.outputs.count) times per forward pass; name one that runs once")
            }
            guard activations.rank == 4 else {
                throw ConvKitError.shapeMismatch(op: op, message: "'\(targetLayer)' outputs \(activations.shape), not (N, C, H, W) maps")
            }
            let (score, targets) = try targetScore(logits, target: target, op: op)
            if score.requiresGrad { try score.backward() }
            let (n, k, h, w) = (activations.shape[0], activations.shape[1], activations.shape[2], activations.shape[3])
            let gradient = activations.grad?.scalars ?? [Float](repeating: 0, count: activations.count)
            var cams = [Float](repeating: 0, count: n * h * w)
            for s in 0..<n {
                for c in 0..<k {
                    let base = (s * k + c) * h * w
                    let alpha = gradient[base..<(base + h * w)].reduce(0, +) / Float(h * w)
                    for i in 0..<(h * w) { cams[s * h * w + i] += alpha * activations.scalars[base + i] }
                }
            }
            return (Tensor(uncheckedShape: [n, h, w], scalars: cams.map { Swift.max($0, 0) }), targets)
        }
    }
}

/// pytorch-grad-cam's `scale_cam_image`: per sample, x − min, then ÷ (max + 1e-7).
private func scaledPerSample(_ values: [Float], count n: Int) -> [Float] {
    let per = values.count / Swift.max(n, 1)
    var result = values
    for s in 0..<n {
        let range = (s * per)..<((s + 1) * per)
        let lo = values[range].min() ?? 0, span = (values[range].max() ?? 0) - lo
        for i in range { result[i] = (values[i] - lo) / (1e-7 + span) }
    }
    return result
}
