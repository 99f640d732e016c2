import ArgumentParser
import ConvKit
import ConvKitHub
import Foundation

struct Visualize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Feature maps, first-layer filters and activation maximisation as PNG grids.",
        discussion: """
            Examples: convkit visualize --weights course-cnn.safetensors --image digit.png --maximize 8 -o pictures
                      convkit visualize alexnet --pretrained -o alexnet   (a real ImageNet network's first-layer filters, in colour)
            """)
    @Argument(help: "A zoo model with sequential top-level layers (course-cnn, lenet5, …; default: the weights', else course-cnn).") var model: String?
    @Option(help: "Weights (safetensors or a PyTorch checkpoint); random initialisation without.") var weights: String?
    @Flag(help: "Use the model's published ImageNet weights (downloaded into the cache when missing).") var pretrained = false
    @Option(help: "Input PNG or JPEG (default: the first bundled test digit).") var image: String?
    @Option(parsing: .unconditional, help: "Also render what the first N channels of the last conv layer respond to most (0…64).") var maximize = 0
    @Option(name: .shortAndLong, help: "Output folder.") var output: String

    func run() async throws {
        if pretrained {
            guard weights == nil else { throw ValidationError("give --pretrained or --weights, not both") }
            let published = try PretrainedWeights.named(model ?? "")
            let path = try await downloadWeights(published, mirror: try Hub.environmentMirror())
            let classifier = try ImageClassifier(pretrained: published, path: path.path)
            let photo = try image.map { try Image.bytes(contentsOf: $0) } ?? ImageBytes(try Image.sample(.chelsea))
            let written = try writeNetworkPictures(classifier.model, input: try classifier.preprocessing.tensor(photo), folder: output, maximize: maximize)
            print(written.joined(separator: "\n"))
            return
        }
        let (entry, net, info): (Zoo.Entry, Sequential, ModelInfo?)
        if let weights { (entry, net, info) = try Zoo.load(weights: weights, model: model) } else {
            entry = try Zoo.entry(model ?? "course-cnn")
            (net, info) = (try entry.build(), nil)
        }
        let input: Tensor
        if let image {
            input = try Image(contentsOf: image).withChannels(entry.inputShape[0]).resized(width: entry.inputShape[2], height: entry.inputShape[1]).tensor
        } else {
            input = try MNIST.bundled(.test).image(0)
        }
        var x = input
        if let mean = info?.mean, let std = info?.std { x = try ImageDataset.normalize(x, mean: mean, std: std) }
        let written = try writeNetworkPictures(net, input: x, folder: output, maximize: maximize)
        print(written.joined(separator: "\n"))
    }
}

/// Writes filters.png, one features-N.png per top-level conv layer and, when asked,
/// maximize-N.png; returns the paths. Shared by `visualize` and `demo`. Every picture is
/// made before the first is written, so a failure leaves no partial set behind.
func writeNetworkPictures(_ net: Sequential, input: Tensor, folder: String, maximize: Int = 0) throws -> [String] {
    try Limits.check(maximize, in: 0...64, op: "visualize", argument: "maximize")
    var pictures: [(Image, String)] = []
    if let first = net.namedModules().lazy.compactMap({ $0.module as? Conv2d }).first {
        pictures.append((try Pictures.filters(first), "filters.png"))
    }
    net.eval()
    let outputs = try withGradientsDisabled { try net.intermediateOutputs(try input.unsqueezed(axis: 0)) }
    var lastConv: Int?
    for (i, layer) in net.layers.enumerated() where layer.module is Conv2d && outputs[i].rank == 4 {
        let shape = outputs[i].shape.dropFirst().map(String.init).joined(separator: "×")
        pictures.append((try Pictures.featureMaps(outputs[i], scale: Swift.max(1, 56 / outputs[i].shape[2]),
                                                  title: "layer \(i) (\(type(of: layer.module))) → \(shape), dark = low, light = high"),
                         "features-\(i)-\(layer.name).png"))
        lastConv = i
    }
    if maximize > 0, let lastConv {
        let channels = Swift.min(maximize, outputs[lastConv].shape[1])
        let maps = try (0..<channels).map { c in
            let t = try Pictures.maximizeActivation(net, layerIndex: lastConv, channel: c, inputShape: Array(input.shape))
            return try t.slice(axis: 0, 0..<1).squeezed(axis: 0)
        }
        pictures.append((try Pictures.grid(maps, scale: 3), "maximize-\(lastConv).png"))
    }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return try pictures.map { image, name in
        let path = (folder as NSString).appendingPathComponent(name)
        try PNG.write(image, to: path)
        return path
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the course CNN on the bundled digits and write pictures (the README's main job).",
        discussion: """
            Trains the course's MNIST CNN (004) on the bundled 4,000 digits with a progress bar, prints the test
            accuracy and confusion matrix, and writes to the output folder: first-layer filters, every conv layer's
            feature maps for one test digit, loss and accuracy curves, classic kernels applied to a photo, the weights.
            """)
    @Option(parsing: .unconditional, help: "Epochs.") var epochs = 5
    @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output folder.") var output = "convkit-demo"

    func run() throws {
        let train = try MNIST.bundled(.train, normalized: true), test = try MNIST.bundled(.test, normalized: true)
        let model = try Zoo.courseCNN(seed: seed)
        print("course CNN (\(groupedDigits(model.parameterCount)) parameters) on \(groupedDigits(train.count)) bundled MNIST digits, \(epochs) epochs")
        let trainer = try Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: 1e-3), batchSize: 64, seed: seed)
        let progress = ProgressBar.terminal()
        var batchLosses: [Float] = [], trainAccuracy: [Float] = [], testAccuracy: [Float] = []
        try trainer.fit(train, epochs: epochs, validation: test) { event in
            progress(event)
            switch event {
            case let .batch(b): batchLosses.append(b.loss)
            case let .epoch(r): trainAccuracy.append(r.trainAccuracy); testAccuracy.append(r.validation?.accuracy ?? .nan)
            }
        }
        let result = try trainer.evaluate(test)
        print(String(format: "test accuracy: %.2f%% on %d digits", result.accuracy * 100, result.count))
        print(result.confusionTable(classNames: test.classNames))
        var written = try writeNetworkPictures(model, input: test.image(0), folder: output)
        var notes: [String] = []
        func write(_ image: Image, _ name: String, _ note: String? = nil) throws {
            let path = (output as NSString).appendingPathComponent(name)
            try PNG.write(image, to: path)
            written.append(path)
            if let note { notes.append("\(name): \(note)") }
        }
        // The per-batch loss smoothed over 10 batches (x in epochs), accuracy per epoch; also as SVG.
        let perEpoch = Float(batchLosses.count) / Float(Swift.max(epochs, 1))
        let loss = LineChart(title: "Training loss (moving average of 10 batches)", xLabel: "epoch", yLabel: "cross-entropy loss",
                             series: [.init("training loss", movingAverage(batchLosses, window: 10), x: batchLosses.indices.map { Float($0 + 1) / perEpoch })])
        let accuracy = LineChart(title: "Accuracy per epoch", xLabel: "epoch", yLabel: "accuracy",
                                 series: [.init("training", trainAccuracy), .init("test", testAccuracy)])
        try write(try loss.image(), "loss.png")
        try write(try accuracy.image(), "accuracy.png")
        for (chart, name) in [(loss, "loss.svg"), (accuracy, "accuracy.svg")] {
            let path = (output as NSString).appendingPathComponent(name)
            try AtomicFile.write(Array(try chart.svg().utf8), to: path)
            written.append(path)
        }
        try write(try Pictures.confusionMatrix(result, classNames: test.classNames), "confusion.png")
        let photo = try Image.sample(.camera)
        for kernel in [NamedKernel.sobelX, .sobelY, .sobel, .prewittX, .laplacian, .sharpen] {
            let display = try ImageFilter.display(try ImageFilter.apply(kernel, to: photo, padding: 1), kernel: try kernel.matrix())
            try write(display.image, "camera-\(kernel.rawValue).png", display.mapping)
        }
        let weights = (output as NSString).appendingPathComponent("course-cnn.safetensors")
        try model.save(to: weights, metadata: ModelInfo(model: "course-cnn", classNames: train.classNames, inputShape: train.sampleShape,
                                                       mean: [MNIST.normalization.mean], std: [MNIST.normalization.std]).metadata)
        written.append(weights)
        print("wrote:\n  " + written.joined(separator: "\n  "))
        print("colours: " + notes.joined(separator: "; "))
    }
}
