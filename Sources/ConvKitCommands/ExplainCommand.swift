import ArgumentParser
import ConvKit
import Foundation

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where in an image a network finds its class: Grad-CAM, saliency, SmoothGrad or occlusion, as a PNG overlay.",
        discussion: """
            Examples: convkit explain photo.jpg --model resnet18 --pretrained -o cam.png                 (Grad-CAM on layer4, top class)
                      convkit explain photo.jpg --model resnet18 --pretrained --layer layer3 --class 281 -o cam.png
                      convkit explain digit.png --weights course-cnn.safetensors --method occlusion -o occlusion.png
            The layer is a module path as in the state dict (layer4, features.28, layer4.1.conv2); without one,
            Grad-CAM uses the last layer whose output is maps larger than 1×1. Scores are logits, as captum's
            target= and pytorch-grad-cam's ClassifierOutputTarget.
            """)
    @Argument(help: "A PNG or JPEG file, a bundled photo (camera, chelsea) or test digit (digit0 … digit999).") var image: String
    @OptionGroup var source: ClassifierOptions
    @Option(help: "gradcam, saliency, smoothgrad or occlusion.") var method = "gradcam"
    @Option(help: "Grad-CAM: the module whose maps to weigh (default: the last maps larger than 1×1).") var layer: String?
    @Option(name: .customLong("class"), parsing: .unconditional, help: "The class to explain (default: the top class).") var target: Int?
    @Option(parsing: .unconditional, help: "SmoothGrad: noisy copies (1…1000).") var samples = 50
    @Option(parsing: .unconditional, help: "SmoothGrad: noise σ as a fraction of the input's range (0…10).") var noise: Float = 0.15
    @Option(parsing: .unconditional, help: "Occlusion: the square patch's side in pixels (default: a seventh of the image).") var window: Int?
    @Option(parsing: .unconditional, help: "Occlusion: how far the patch moves (default: half the window).") var stride: Int?
    @Option(parsing: .unconditional, help: "SmoothGrad: the noise seed.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "The picture to write (PNG): the input and the heat map over it, labelled.") var output: String

    func validate() throws {
        guard ExplanationMethod.named[method] != nil else {
            throw ValidationError("--method must be one of \(ExplanationMethod.named.keys.sorted().joined(separator: ", ")), got '\(method)'")
        }
        let given: [(String, Bool, String)] = [("--layer", layer != nil, "gradcam"), ("--window", window != nil, "occlusion"),
                                               ("--stride", stride != nil, "occlusion")]
        if let (flag, _, owner) = given.first(where: { $0.1 && $0.2 != method }) {
            throw ValidationError("\(flag) applies to --method \(owner), not \(method)")
        }
    }

    func run() async throws {
        try checkWritable(output)
        let chosen: ExplanationMethod = switch method {
        case "saliency": .saliency
        case "smoothgrad": .smoothGrad(samples: samples, noiseLevel: noise, seed: seed)
        case "occlusion": .occlusion(window: window, stride: stride)
        default: .gradCAM(layer: layer)
        }
        let loaded = try await source.load(image: image)
        let explanation = try loaded.model.explain(loaded.input, method: chosen, target: target)
        let name = explanation.target < loaded.classNames.count ? loaded.classNames[explanation.target] : nil
        try PNG.write(try explanation.picture(of: loaded.seen, className: name), to: output)
        print("\(explanation.caption(className: name)): \(output)")
    }
}
