import ArgumentParser
import ConvKit
import ConvKitHub
import Foundation

/// Which model and weights classify an image, for `predict` and `explain`: a ConvKit
/// safetensors file (its info names the model, classes and normalisation), a torchvision
/// checkpoint of a zoo model, or published weights.
struct ClassifierOptions: ParsableArguments {
    @Option(help: "A zoo model (default: the one the weights name, else course-cnn).") var model: String?
    @Option(help: "Weights: safetensors or a PyTorch checkpoint (.pth/.pt/.bin); without, the course CNN's bundled trained weights.") var weights: String?
    @Flag(help: "Use the model's published ImageNet weights (downloaded into the cache when missing).") var pretrained = false
    @Option(help: "With --pretrained: weights other than the model's default, e.g. IMAGENET1K_V2.") var weightsName: String?
    @Option(help: "Base URL of a mirror for --pretrained downloads (default: $CONVKIT_MIRROR).") var mirror: String?
    @Option(help: "Class names, comma-separated (default: the weights' names, else 0, 1, …).") var classNames: String?
    @Flag(help: "Invert gray levels (dark digit on light paper → MNIST's light on dark).") var invert = false
    @Flag(help: "Rotate or flip a JPEG as its EXIF orientation says first.") var exifOrientation = false

    /// A model ready to run, one image as it takes it (C, H, W, normalised), the picture it
    /// sees (resized and cropped, before normalising) and its class names (empty: unknown).
    struct Loaded {
        let model: Sequential
        let input: Tensor
        let seen: Image
        let classNames: [String]
    }

    func load(image path: String) async throws -> Loaded {
        guard !(pretrained && weights != nil) else { throw ValidationError("give --pretrained or --weights, not both") }
        // Without weights, the course CNN comes with the bundled trained ones.
        var weights = weights
        if !pretrained && weights == nil {
            guard model == nil || model == "course-cnn" else { throw ValidationError("give --weights FILE or --pretrained for \(model!)") }
            weights = try Zoo.bundledCourseCNNWeights().path
        }
        let photo = try readPhoto(path)
        if pretrained || isImageNetModel(weights: weights) {
            let published = try PretrainedWeights.named((model ?? "") + (weightsName.map { ":" + $0 } ?? ""))
            var file = weights ?? ""
            if weights == nil { file = try await downloadWeights(published, mirror: try mirror.map(url) ?? Hub.environmentMirror()).path }
            let classifier = try ImageClassifier(pretrained: published, path: file)
            let prepared = try classifier.preprocessing.prepared(photo)
            return Loaded(model: classifier.model, input: try classifier.preprocessing.tensor(photo), seen: prepared.image,
                          classNames: names(default: classifier.classNames))
        }
        let (entry, net, info) = try Zoo.load(weights: weights!, model: model)
        net.eval()
        let shape = info?.inputShape ?? entry.inputShape
        var picture = try photo.image.withChannels(shape[0]).resized(width: shape[2], height: shape[1])
        if invert { picture.pixels = picture.pixels.map { 1 - $0 } }
        var x = picture.tensor
        if let mean = info?.mean, let std = info?.std { x = try ImageDataset.normalize(x, mean: mean, std: std) }
        return Loaded(model: net, input: x, seen: picture, classNames: names(default: info?.classesKnown == true ? info!.classNames : []))
    }

    private func names(default known: [String]) -> [String] { classNames?.split(separator: ",").map(String.init) ?? known }

    /// A zoo model with published ImageNet weights given a checkpoint without ConvKit's info
    /// (a torchvision `.pth`): it gets the published preprocessing and class names.
    private func isImageNetModel(weights: String?) -> Bool {
        guard let model, let weights, (try? PretrainedWeights.named(model)) != nil,
              let file = try? WeightsFile.read(contentsOf: weights) else { return false }
        return (try? ModelInfo(metadata: file.metadata)) == nil
    }

    private func readPhoto(_ path: String) throws -> ImageBytes {
        if !FileManager.default.fileExists(atPath: path), let bundled = try Image.named(path) { return ImageBytes(bundled) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvKitError.io(path: path, message: "cannot read the file (missing or unreadable)")
        }
        let bytes = [UInt8](data)
        return JPEG.isJPEG(bytes) ? try JPEG.decodeSamples(bytes, source: path, applyingOrientation: exifOrientation)
            : ImageBytes(try Image(bytes: bytes, source: path))
    }

    private func url(_ s: String) throws -> URL {
        guard let u = URL(string: s), u.scheme != nil else { throw ValidationError("--mirror must be a URL, got '\(s)'") }
        return u
    }
}
