import Foundation

/// What trained weights are for, saved in their safetensors metadata so that evaluating,
/// predicting and the lab need no repeated flags: the zoo model, the class names (and so
/// their count), the input shape and the input normalisation.
///
/// Stored as JSON under `convkit.info`; the older keys `convkit.model`, `convkit.mean` and
/// `convkit.std` are written too and still read.
public struct ModelInfo: Sendable, Equatable, Codable {
    /// The zoo name (`Zoo.entry`).
    public var model: String
    /// One name per class, in output order.
    public var classNames: [String]
    /// The input (C, H, W) the weights were trained on.
    public var inputShape: [Int]
    /// Per-channel mean and standard deviation subtracted and divided before the model, if any.
    public var mean: [Float]?, std: [Float]?

    public init(model: String, classNames: [String], inputShape: [Int], mean: [Float]? = nil, std: [Float]? = nil) {
        (self.model, self.classNames, self.inputShape, self.mean, self.std) = (model, classNames, inputShape, mean, std)
    }

    static let key = "convkit.info"

    /// The metadata entries to save with the weights.
    public var metadata: [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // same weights, same bytes
        var m = [Self.key: String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self), "convkit.model": model]
        if let mean, let std {
            m["convkit.mean"] = mean.map { "\($0)" }.joined(separator: ",")
            m["convkit.std"] = std.map { "\($0)" }.joined(separator: ",")
        }
        return m
    }

    /// Reads the info saved with weights; nil when the file has none (weights saved by
    /// PyTorch, say). Files written before `convkit.info` give what their keys hold.
    /// - Throws: `ConvKitError.invalidFile` when `convkit.info` is present but malformed
    ///   or names impossible sizes.
    public init?(metadata: [String: String], source: String = "weights") throws {
        if let text = metadata[Self.key] {
            do {
                self = try JSONDecoder().decode(ModelInfo.self, from: Data(text.utf8))
            } catch {
                throw ConvKitError.invalidFile(path: source, message: "its convkit.info metadata is not valid (\(error))")
            }
            guard !classNames.isEmpty, classNames.count <= 1_000_000, inputShape.count == 3,
                  inputShape.allSatisfy({ (1...65_536).contains($0) }), mean?.count == std?.count,
                  (mean ?? []).allSatisfy(\.isFinite), (std ?? []).allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw ConvKitError.invalidFile(path: source, message: "its convkit.info metadata names impossible classes, shape or normalisation")
            }
            return
        }
        guard let model = metadata["convkit.model"] else { return nil }
        let entry = try? Zoo.entry(model)
        let parse = { (key: String) in metadata[key].map { $0.split(separator: ",").compactMap { Float($0) } } }
        self.init(model: model, classNames: (0..<(entry?.classes ?? 10)).map(String.init), inputShape: entry?.inputShape ?? [1, 28, 28],
                  mean: parse("convkit.mean"), std: parse("convkit.std"))
        classesKnown = false
    }

    /// Whether `classNames` came from the file (false for files written before `convkit.info`,
    /// where the zoo's default class count is assumed).
    public private(set) var classesKnown = true

    enum CodingKeys: String, CodingKey { case model, classNames, inputShape, mean, std }
}

extension Zoo {
    /// Loads trained weights with what they say about themselves: builds the zoo model they
    /// were saved from (with their class count and input channels) and loads the state.
    /// - Parameters:
    ///   - path: safetensors weights or a PyTorch checkpoint (see `WeightsFile`). Without
    ///     saved info, the class count is read from the classifier's weight in the file.
    ///   - model: the zoo name to use when the file does not say; when it does and `model`
    ///     names another, that is an error (weights for one model given to another).
    /// - Returns: the zoo entry, the model (in evaluation mode) and the file's info (nil for
    ///   files without any, e.g. saved by PyTorch).
    /// - Throws: `ConvKitError` for an unreadable file, a model mismatch or state that does not fit.
    public static func load(weights path: String, model: String? = nil) throws -> (entry: Entry, model: Sequential, info: ModelInfo?) {
        let file = try WeightsFile.read(contentsOf: path)
        let info = try ModelInfo(metadata: file.metadata, source: path)
        if let model, let saved = info?.model, saved != model.lowercased() {
            throw ConvKitError.invalidArgument(op: "load", argument: "model", message: "'\(model)' was given, but \(path) holds weights for '\(saved)'")
        }
        let entry = try Zoo.entry(info?.model ?? model ?? "course-cnn")
        let net = info == nil ? try entry.build(fitting: file)
            : try entry.build(classes: info.flatMap { $0.classesKnown ? $0.classNames.count : nil }, inputChannels: info?.inputShape.first)
        try net.loadState(from: file)
        net.eval()
        return (entry, net, info)
    }

    /// The course CNN trained on the bundled 4,000 digits (3 epochs, seed 0, stored as F16 with
    /// its info; scripts/train_bundled_weights.sh): what the digit lab starts from, so a learner
    /// sees a working network before training one.
    /// - Throws: `ConvKitError.io` when ConvKit's resources lack the file.
    public static func bundledCourseCNN() throws -> Sequential {
        try load(weights: try bundledCourseCNNWeights().path, model: "course-cnn").model
    }

    /// Where the bundled course-CNN weights are (a safetensors file with ConvKit's info).
    /// - Throws: `ConvKitError.io` when ConvKit's resources lack the file.
    public static func bundledCourseCNNWeights() throws -> URL {
        guard let url = Bundle.module.url(forResource: "course-cnn", withExtension: "safetensors", subdirectory: "weights") else {
            throw ConvKitError.io(path: "weights/course-cnn.safetensors", message: "the bundled weights are missing from ConvKit's resources")
        }
        return url
    }
}

extension Zoo.Entry {
    /// The model built with the class count `file` holds: weights from elsewhere (a fine-tuned
    /// torchvision checkpoint) say it only through the shape of the last layer's weight.
    public func build(fitting file: SafeTensors) throws -> Sequential {
        let net = try build()
        if let last = net.namedState().last(where: { $0.name.hasSuffix(".weight") }),
           let stored = try? file.entry(last.name), stored.shape.count == last.entry.tensor.shape.count,
           let classes = stored.shape.first, classes != last.entry.tensor.shape.first, (1...1_000_000).contains(classes) {
            return try build(classes: classes)
        }
        return net
    }
}
