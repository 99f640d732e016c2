import Foundation

/// The input pipeline a set of weights was trained with, as torchvision's
/// `ImageClassification` preset: resize the shorter side (antialiased, on 8-bit samples),
/// center-crop, scale to [0, 1], normalise per channel.
public struct ImagePreprocessing: Sendable, Codable, Equatable {
    public var resizeSize: Int
    public var cropSize: Int
    public var interpolation: ImageBytes.Filter
    public var mean: [Float], std: [Float]

    public init(resizeSize: Int, cropSize: Int, interpolation: ImageBytes.Filter = .bilinear,
                mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]) {
        (self.resizeSize, self.cropSize, self.interpolation, self.mean, self.std) = (resizeSize, cropSize, interpolation, mean, std)
    }

    /// Resized and cropped, still 8-bit RGB (what the model will see, before normalising).
    public func prepared(_ image: ImageBytes) throws -> ImageBytes {
        let rgb = image.rgb
        let size = rgb.shorterSideSize(resizeSize)
        return try rgb.resized(width: size.width, height: size.height, filter: interpolation)
            .centerCropped(width: cropSize, height: cropSize)
    }

    /// The model's input: (3, crop, crop), (x/255 − mean) / std.
    public func tensor(_ image: ImageBytes) throws -> Tensor {
        let p = try prepared(image)
        return try ImageDataset.normalize(p.image.tensor, mean: mean, std: std)
    }
}

/// Published weights for a zoo model: torchvision's ImageNet-1k files, their preprocessing
/// and the accuracy torchvision reports (Resources/pretrained, written by
/// scripts/export_torchvision_weights.py from torchvision itself).
public struct PretrainedWeights: Sendable, Codable, Equatable {
    /// The zoo name (`Zoo.entry`).
    public let model: String
    /// torchvision's enum case, e.g. `IMAGENET1K_V1`.
    public let name: String
    /// The canonical URL; its file name ends with the first hex digits of the file's SHA-256
    /// (`resnet18-f37072fd.pth`), which downloads are checked against.
    public let url: URL
    public let resizeSize: Int, cropSize: Int
    public let interpolation: ImageBytes.Filter
    public let mean: [Float], std: [Float]
    /// Top-1 accuracy on ImageNet-1k's validation set, as torchvision reports it.
    public let top1: Double?
    public let parameters: Int?

    /// The file name (`resnet18-f37072fd.pth`).
    public var fileName: String { url.lastPathComponent }

    /// The SHA-256 prefix in the file name (`f37072fd`), as `torch.hub` reads it.
    public var sha256Prefix: String {
        let stem = (fileName as NSString).deletingPathExtension
        return stem.split(separator: "-").last.map(String.init) ?? ""
    }

    public var preprocessing: ImagePreprocessing {
        ImagePreprocessing(resizeSize: resizeSize, cropSize: cropSize, interpolation: interpolation, mean: mean, std: std)
    }

    /// `resnet18` or `resnet18:IMAGENET1K_V1`.
    public var id: String { "\(model):\(name)" }

    /// Every published weight set for ConvKit's zoo. GoogLeNet's are left out: they need its
    /// auxiliary classifiers and input transform, which the zoo's GoogLeNet does not have.
    public static let all: [PretrainedWeights] = {
        guard let url = Bundle.module.url(forResource: "torchvision_weights", withExtension: "json", subdirectory: "pretrained"),
              let data = try? Data(contentsOf: url),
              let entries = try? JSONDecoder().decode([PretrainedWeights].self, from: data) else { return [] }
        return entries.filter { $0.model != "googlenet" }
    }()

    /// The weights named `name`: a model (its first, default weights) or `model:WEIGHTS`.
    /// - Throws: `ConvKitError.invalidArgument` listing the models that have weights.
    public static func named(_ name: String) throws -> PretrainedWeights {
        let parts = name.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let found = all.first { $0.model == parts.first && (parts.count == 1 || $0.name.lowercased() == parts[1]) }
        guard let found else {
            let models = Array(Set(all.map(\.model))).sorted().joined(separator: ", ")
            throw ConvKitError.invalidArgument(op: "pretrained", argument: "name",
                                               message: "no published weights for '\(name)' (models with weights: \(models))")
        }
        return found
    }
}

/// ImageNet-1k, the data set torchvision's weights were trained on.
public enum ImageNet {
    /// The 1,000 class names in output order (torchvision's `_IMAGENET_CATEGORIES`).
    public static let classNames: [String] = {
        guard let url = Bundle.module.url(forResource: "imagenet_classes", withExtension: "txt", subdirectory: "pretrained"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }()
}

/// A model with its weights' preprocessing and class names: "classify this photo".
public struct ImageClassifier {
    public let model: Sequential
    public let preprocessing: ImagePreprocessing
    public let classNames: [String]

    public init(model: Sequential, preprocessing: ImagePreprocessing, classNames: [String]) {
        (self.model, self.preprocessing, self.classNames) = (model, preprocessing, classNames)
        model.eval()
    }

    /// A zoo model with published weights loaded from `path` (a `.pth` as downloaded, or a
    /// conversion of it).
    public init(pretrained weights: PretrainedWeights, path: String) throws {
        let model = try Zoo.entry(weights.model).build(classes: 1000)
        try model.loadState(from: WeightsFile.read(contentsOf: path))
        self.init(model: model, preprocessing: weights.preprocessing, classNames: ImageNet.classNames)
    }

    /// Softmax probabilities of every class for one image.
    public func probabilities(_ image: ImageBytes) throws -> [Float] {
        let x = try preprocessing.tensor(image).unsqueezed(axis: 0)
        return try withGradientsDisabled { try model(x).softmax(axis: 1) }.scalars
    }

    /// The `top` most probable classes for one image, most probable first.
    public func classify(_ image: ImageBytes, top: Int = 5) throws -> [ClassProbability] {
        try rankedClasses(probabilities(image), names: classNames, top: top)
    }
}

/// What the photo lab shows for one photo and model: what the model sees, its top classes,
/// its first-layer filters and the feature maps of one layer of its module tree.
public struct PhotoAnalysis {
    /// The preprocessed photo (resized and cropped, before normalising).
    public let prepared: ImageBytes
    public let top: [ClassProbability]
    /// The first convolution's filters (RGB filters in colour), if the model has one.
    public let filters: Image?
    /// Paths of the modules whose output is a stack of maps (N, C, H, W), in call order.
    public let layers: [String]
    /// The layer shown, and its first `maxMaps` maps.
    public let layer: String?
    public let featureMaps: Image?
    /// At most this many maps of a layer are drawn.
    public static let maxMaps = 64
}

extension ImageClassifier {
    /// Classifies `image` and collects what the photo lab shows.
    /// - Parameter layer: the module path whose maps to draw (default: the first convolution's output).
    /// - Throws: `ConvKitError.invalidArgument` for a layer that is not in `layers`.
    public func analyze(_ image: ImageBytes, layer: String? = nil, top: Int = 5) throws -> PhotoAnalysis {
        let prepared = try preprocessing.prepared(image)
        let x = try ImageDataset.normalize(prepared.image.tensor, mean: preprocessing.mean, std: preprocessing.std).unsqueezed(axis: 0)
        let outputs = try model.namedOutputs(x)
        let logits = try require(outputs.last(where: { $0.path.isEmpty })?.output ?? outputs.last?.output)
        let ranked = try rankedClasses(try logits.softmax(axis: 1).scalars, names: classNames, top: top)
        var seen = Set<String>()
        let maps = outputs.filter { $0.output.rank == 4 && !$0.path.isEmpty && seen.insert($0.path).inserted }
        let firstConv = model.namedModules().first { $0.module is Conv2d }
        let chosen = layer ?? firstConv?.path ?? maps.first?.path
        if let layer, !maps.contains(where: { $0.path == layer }) {
            throw ConvKitError.invalidArgument(op: "analyze", argument: "layer", message: "'\(layer)' is not a layer with feature maps of \(typeName(model))")
        }
        let featureMaps = try maps.first { $0.path == chosen }.map { m -> Image in
            let channels = Swift.min(m.output.shape[1], PhotoAnalysis.maxMaps)
            let shown = try m.output.slice(axis: 1, 0..<channels)
            return try Pictures.featureMaps(shown, scale: Swift.max(1, 56 / Swift.max(m.output.shape[2], 1)),
                                            title: "\(m.path) → \(m.output.shape.dropFirst().map(String.init).joined(separator: "×"))"
                                                + (channels < m.output.shape[1] ? ", first \(channels) maps" : ""))
        }
        let filters = try (firstConv?.module as? Conv2d).map { try Pictures.filters($0) }
        return PhotoAnalysis(prepared: prepared, top: ranked, filters: filters, layers: maps.map(\.path), layer: chosen, featureMaps: featureMaps)
    }
}

private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw ConvKitError.invalidArgument(op: "analyze", argument: "model", message: "produced no output") }
    return value
}
