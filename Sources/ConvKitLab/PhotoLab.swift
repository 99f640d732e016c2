import ConvKit
import ConvKitHub
import Foundation

/// The photo lab's models: torchvision's published weights when they are in the cache
/// (`Hub`, never downloaded by the lab), or weights uploaded for any zoo model that takes RGB.
/// One model is kept loaded at a time (an uploaded one until another upload replaces it).
///
/// @unchecked Sendable: every field is guarded by `lock`.
final class PhotoLab: @unchecked Sendable {
    struct ModelChoice: Encodable, Sendable {
        let model: String
        let weights: String
        /// Whether the weights are on disk (cached) or uploaded; otherwise `command` fetches them.
        let available: Bool
        let command: String?
    }

    private let lock = NSLock()
    /// Held while a photo goes through a model, so an explanation (which changes the model's
    /// parameters' flags while it runs) never overlaps another request on the same model.
    private let inference = NSLock()
    private let home: URL
    private var loaded: (key: String, classifier: ImageClassifier)?
    private var uploaded: (model: String, classifier: ImageClassifier)?

    init(home: URL = Hub.home()) { self.home = home }

    /// Every model with published weights (available when cached), and the uploaded one.
    func models() -> [ModelChoice] {
        let up = lock.withLock { uploaded?.model }
        return (up.map { [ModelChoice(model: $0, weights: "uploaded", available: true, command: nil)] } ?? [])
            + PretrainedWeights.all.map { w in
                let cached = Hub.cached(w, home: home) != nil
                return ModelChoice(model: w.model, weights: w.name, available: cached,
                                   command: cached ? nil : "convkit download weights \(w.model):\(w.name)")
            }
    }

    /// Runs `body` alone (see `inference`).
    func run<R>(_ body: () throws -> R) rethrows -> R { try inference.withLock(body) }

    /// The classifier for `model` (`uploaded`, or a published `weights` name in the cache).
    func classifier(model: String, weights: String) throws -> ImageClassifier {
        if weights == "uploaded" {
            guard let u = lock.withLock({ uploaded }), u.model == model else {
                throw LabError(status: .notFound, message: "no uploaded weights for '\(model)'")
            }
            return u.classifier
        }
        let published = try PretrainedWeights.named("\(model):\(weights)")
        if let l = lock.withLock({ loaded }), l.key == published.id { return l.classifier }
        guard let file = Hub.cached(published, home: home) else {
            throw LabError(status: .notFound, message: "\(published.id) is not downloaded: run convkit download weights \(published.id)")
        }
        let classifier = try ImageClassifier(pretrained: published, path: file.path)
        lock.withLock { loaded = (published.id, classifier) }
        return classifier
    }

    /// Loads uploaded weights (safetensors or a PyTorch checkpoint) for a zoo model that takes
    /// RGB; the preprocessing is the model's published one, or ImageNet's 256/224 without.
    func upload(_ bytes: [UInt8], model: String) throws {
        let entry = try Zoo.entry(model)
        guard entry.inputShape.first == 3 else {
            throw LabError(status: .unprocessableContent, message: "'\(model)' takes \(entry.inputShape); the photo lab feeds RGB photos")
        }
        let file = try WeightsFile.read(bytes: bytes, source: "uploaded weights")
        let info = try ModelInfo(metadata: file.metadata, source: "uploaded weights")
        // Without ConvKit's info, the class count is the classifier's output size (as Zoo.load).
        let net = info == nil ? try entry.build(fitting: file) : try entry.build(classes: info?.classNames.count)
        try net.loadState(from: file)
        let classes = net.namedState().last(where: { $0.name.hasSuffix(".weight") })?.entry.tensor.shape.first ?? 0
        let names = info?.classNames ?? (classes == 1000 ? ImageNet.classNames : (0..<classes).map(String.init))
        let preprocessing = (try? PretrainedWeights.named(model))?.preprocessing ?? ImagePreprocessing(resizeSize: 256, cropSize: 224)
        lock.withLock { uploaded = (entry.name, ImageClassifier(model: net, preprocessing: preprocessing, classNames: names)) }
    }
}
