import Foundation

// Attribution: which input pixels a class score depends on. Shapes: N = batch, C = channels,
// H × W = the input's size; "score" is a class's logit (not its probability), as captum's
// `target=` and pytorch-grad-cam's `ClassifierOutputTarget` use.

/// Saliency (Simonyan, Vedaldi & Zisserman 2013): the magnitude of the class score's gradient
/// with respect to each input value, |∂score/∂x|; captum's `Saliency(model).attribute(x, target:)`.
public struct Saliency {
    public let model: any Module

    public init(_ model: any Module) { self.model = model }

    /// |∂score/∂input| for each sample.
    /// - Parameters:
    ///   - input: a batch the model takes, batch first (N, C, H, W for images).
    ///   - target: the class whose score is explained; `nil`: each sample's top class.
    /// - Returns: the gradient magnitudes, the input's shape.
    /// - Throws: `ConvKitError` for non-finite input, a model whose output is not (N, classes),
    ///   or a target out of range.
    public func attribute(_ input: Tensor, target: Int? = nil) throws -> Tensor {
        try withFrozenModel(model) { try inputGradient(model, input, target: target, op: "Saliency").gradient.abs() }
    }
}

/// SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of the input,
/// x + 𝒩(0, σ²) with σ = `noiseLevel` · (max x − min x) per sample; captum's
/// `NoiseTunnel(Saliency(model)).attribute(x, nt_type="smoothgrad", nt_samples:, stdevs: σ)`.
public struct SmoothGrad {
    public let model: any Module
    /// Noisy copies per sample, 1…`maxSamples`.
    public let samples: Int
    /// σ as a fraction of each sample's value range (the paper finds 0.1–0.2 best), 0…10.
    public let noiseLevel: Float
    public let seed: UInt64
    public static let maxSamples = 1000

    /// - Throws: `ConvKitError.invalidArgument` for samples outside 1…1,000 or a noise level outside 0…10.
    public init(_ model: any Module, samples: Int = 50, noiseLevel: Float = 0.15, seed: UInt64 = 0) throws {
        try Limits.check(samples, in: 1...Self.maxSamples, op: "SmoothGrad", argument: "samples")
        try Limits.check(noiseLevel, in: 0...10, op: "SmoothGrad", argument: "noiseLevel")
        (self.model, self.samples, self.noiseLevel, self.seed) = (model, samples, noiseLevel, seed)
    }

    /// The mean over `samples` noisy copies of |∂score/∂input|; the target is chosen on the
    /// clean input (its top class when `nil`) and kept for every copy.
    /// - Returns: the input's shape.
    public func attribute(_ input: Tensor, target: Int? = nil) throws -> Tensor {
        try checkFinite(input, op: "SmoothGrad")
        guard input.rank >= 2, input.shape[0] > 0 else {
            throw ConvKitError.shapeMismatch(op: "SmoothGrad", message: "input must be a batch (N, …) with N ≥ 1, got \(input.shape)")
        }
        return try withFrozenModel(model) {
            let targets = try withGradientsDisabled { try targetScore(try model(input), target: target, op: "SmoothGrad").targets }
            let per = input.count / input.shape[0]
            let sigmas = (0..<input.shape[0]).map { n -> Float in
                let values = input.scalars[(n * per)..<((n + 1) * per)]
                return noiseLevel * ((values.max() ?? 0) - (values.min() ?? 0))
            }
            var generator = SeededGenerator(seed: seed)
            var total = [Float](repeating: 0, count: input.count)
            for _ in 0..<samples {
                let noise = try Tensor.randomNormal(input.shape, using: &generator).scalars
                let noisy = Tensor(uncheckedShape: input.shape, scalars: input.scalars.indices.map { input.scalars[$0] + sigmas[$0 / per] * noise[$0] })
                let g = try inputGradient(model, noisy, targets: targets, op: "SmoothGrad").gradient.scalars
                for i in total.indices { total[i] += Swift.abs(g[i]) }
            }
            return Tensor(uncheckedShape: input.shape, scalars: total.map { $0 / Float(samples) })
        }
    }
}

/// Occlusion sensitivity (Zeiler & Fergus 2014): how much the class score drops when a
/// window of the image (every channel) is replaced by `baseline`, averaged over the windows
/// that cover each pixel; captum's `Occlusion(model).attribute(x, sliding_window_shapes: (C, kH, kW),
/// strides: (C, sH, sW), baselines:, target:)`. Windows start at 0, s, 2s, … and the last one
/// is clipped at the edge, ⌈(H − kH) / sH⌉ + 1 positions per axis, as captum places them.
public struct Occlusion {
    public let model: any Module
    /// At most this many occluded copies are evaluated per call (all samples together).
    public static let maxPasses = 1 << 16

    public init(_ model: any Module) { self.model = model }

    /// - Parameters:
    ///   - input: (N, C, H, W).
    ///   - window: the occluded patch (kH, kW), at most the image.
    ///   - strides: how far the window moves (default 1).
    ///   - baseline: the value the window is filled with (0, after normalisation, by default).
    /// - Returns: (N, C, H, W): score(x) − score(x occluded), averaged per pixel (equal in every channel).
    /// - Throws: `ConvKitError` for a window larger than the image, non-positive strides, a
    ///   non-finite baseline, or more than `maxPasses` occluded copies.
    public func attribute(_ input: Tensor, target: Int? = nil, window: PerAxis, strides: PerAxis = 1, baseline: Float = 0) throws -> Tensor {
        let op = "Occlusion"
        guard input.rank == 4, input.shape[0] > 0 else { throw ConvKitError.shapeMismatch(op: op, message: "input must be (N, C, H, W), got \(input.shape)") }
        try checkFinite(input, op: op)
        guard baseline.isFinite else { throw ConvKitError.invalidArgument(op: op, argument: "baseline", message: "must be finite, got \(baseline)") }
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let k = try window.resolved(rank: 2, op: op, argument: "window"), s = try strides.resolved(rank: 2, op: op, argument: "strides")
        guard k[0] <= h, k[1] <= w else {
            throw ConvKitError.invalidArgument(op: op, argument: "window", message: "must fit in the \(h)×\(w) image, got \(k[0])×\(k[1])")
        }
        // ⌈(H − kH) / sH⌉ + 1 window positions per axis (each ≤ H, so no overflow).
        func starts(_ size: Int, _ k: Int, _ s: Int) -> [Int] { (0..<((size - k + s - 1) / s + 1)).map { $0 * s } }
        let ys = starts(h, k[0], s[0]), xs = starts(w, k[1], s[1])
        let positions: [(Int, Int)] = ys.flatMap { y in xs.map { x in (y, x) } }
        guard positions.count.multipliedReportingOverflow(by: n).partialValue <= Self.maxPasses, positions.count <= Self.maxPasses else {
            throw ConvKitError.invalidArgument(op: op, argument: "window/strides",
                                               message: "would evaluate \(groupedDigits(positions.count)) × \(n) occluded copies, more than \(groupedDigits(Self.maxPasses)); use a larger stride")
        }
        let plane = h * w, per = c * plane
        let chunk = Swift.max(1, Swift.min(64, (1 << 22) / Swift.max(per, 1)))  // ≤ 16 MB of copies per batch
        return try withFrozenModel(model) {
            try withGradientsDisabled {
                let logits = try model(input)
                let targets = try targetScore(logits, target: target, op: op).targets
                let classes = logits.shape[1]
                var result = [Float](repeating: 0, count: input.count)
                for sample in 0..<n {
                    let original = logits.scalars[sample * classes + targets[sample]]
                    let clean = input.scalars[(sample * per)..<((sample + 1) * per)]
                    var total = [Float](repeating: 0, count: plane), covered = [Float](repeating: 0, count: plane)
                    for first in stride(from: 0, to: positions.count, by: chunk) {
                        let batch = positions[first..<Swift.min(first + chunk, positions.count)]
                        var copies = [Float](); copies.reserveCapacity(batch.count * per)
                        for (y0, x0) in batch {
                            var copy = Array(clean)
                            for ch in 0..<c { for y in y0..<Swift.min(y0 + k[0], h) { for x in x0..<Swift.min(x0 + k[1], w) { copy[ch * plane + y * w + x] = baseline } } }
                            copies += copy
                        }
                        let scores = try model(Tensor(uncheckedShape: [batch.count, c, h, w], scalars: copies)).scalars
                        for (j, (y0, x0)) in batch.enumerated() {
                            let drop = original - scores[j * classes + targets[sample]]
                            for y in y0..<Swift.min(y0 + k[0], h) { for x in x0..<Swift.min(x0 + k[1], w) { total[y * w + x] += drop; covered[y * w + x] += 1 } }
                        }
                    }
                    for ch in 0..<c { for i in 0..<plane { result[sample * per + ch * plane + i] = total[i] / covered[i] } }
                }
                return Tensor(uncheckedShape: input.shape, scalars: result)
            }
        }
    }
}

// MARK: - Shared steps

/// Runs `body` with the model in evaluation mode, gradients recorded, and its parameters not
/// requiring gradients (so a backward pass computes only what the explanation needs and
/// leaves the parameters' `grad` alone); restores both afterwards. Not for a model another
/// thread is using at the same time.
func withFrozenModel<R>(_ model: any Module, _ body: () throws -> R) rethrows -> R {
    let wasTraining = model.isInTrainingMode
    let parameters = model.parameters
    let required = parameters.map(\.requiresGrad)
    model.eval()
    for p in parameters { p.requiresGrad = false }
    defer {
        for (p, r) in zip(parameters, required) { p.requiresGrad = r }
        model.train(wasTraining)
    }
    return try GradMode.$isEnabled.withValue(true, operation: body)
}

/// The sum over the batch of each sample's target logit (its top class when `target` is
/// nil), and the targets. Logits must be (N, classes).
func targetScore(_ logits: Tensor, target: Int?, op: String) throws -> (score: Tensor, targets: [Int]) {
    try targetScore(logits, targets: target.map { Array(repeating: $0, count: logits.shape.first ?? 0) }, op: op)
}

func targetScore(_ logits: Tensor, targets given: [Int]?, op: String) throws -> (score: Tensor, targets: [Int]) {
    guard logits.rank == 2, logits.shape[1] > 0 else {
        throw ConvKitError.shapeMismatch(op: op, message: "the model must output (N, classes) scores, got \(logits.shape)")
    }
    let (n, k) = (logits.shape[0], logits.shape[1])
    for t in given ?? [] { try Limits.check(t, in: 0...(k - 1), op: op, argument: "target") }
    let targets = try given ?? logits.argmax(axis: 1)
    var mask = [Float](repeating: 0, count: n * k)
    for i in 0..<n { mask[i * k + targets[i]] = 1 }
    return (try (logits * Tensor(uncheckedShape: [n, k], scalars: mask)).sum(), targets)
}

/// ∂score/∂input (zeros where the score does not depend on the input) and the targets.
func inputGradient(_ model: any Module, _ input: Tensor, target: Int? = nil, targets: [Int]? = nil, op: String) throws
    -> (gradient: Tensor, targets: [Int])
{
    try checkFinite(input, op: op)
    let x = Tensor(uncheckedShape: input.shape, scalars: input.scalars, requiresGrad: true)
    let (score, chosen) = try targetScore(try model(x), targets: targets ?? target.map { Array(repeating: $0, count: input.shape.first ?? 0) }, op: op)
    if score.requiresGrad { try score.backward() }
    return (x.grad ?? Tensor(uncheckedShape: input.shape, scalars: [Float](repeating: 0, count: input.count)), chosen)
}

func checkFinite(_ input: Tensor, op: String) throws {
    guard input.rank >= 1, input.count > 0, input.scalars.allSatisfy(\.isFinite) else {
        throw ConvKitError.invalidArgument(op: op, argument: "input", message: "must be a non-empty batch of finite values, got shape \(input.shape)")
    }
}
