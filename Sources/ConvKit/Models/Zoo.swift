/// The model zoo: the course's networks and the classic architectures, with torchvision's
/// state-dict names so that their weights load as saved by PyTorch.
public enum Zoo {
    /// A zoo model: how to build it and what it expects.
    public struct Entry: Sendable {
        /// The name used by the CLI and the lab (torchvision's where there is one).
        public let name: String
        /// One line on what it is.
        public let description: String
        /// The native input (C, H, W).
        public let inputShape: [Int]
        /// The default number of classes.
        public let classes: Int
        /// Builds the model: (classes, input channels, seed).
        public let make: @Sendable (Int, Int, UInt64) throws -> Sequential

        /// Builds the model with its defaults (or the given classes, channels and seed).
        /// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ classes ≤ 1,000,000 and
        ///   1 ≤ inputChannels ≤ 4,096, and for layers larger than `Limits.maxTensorElements`.
        public func build(classes: Int? = nil, inputChannels: Int? = nil, seed: UInt64 = 0) throws -> Sequential {
            try Limits.check(classes ?? self.classes, in: 1...1_000_000, op: name, argument: "classes")
            try Limits.check(inputChannels ?? inputShape[0], in: 1...4096, op: name, argument: "inputChannels")
            return try make(classes ?? self.classes, inputChannels ?? inputShape[0], seed)
        }
    }

    /// Every zoo model, small to large.
    public static let entries: [Entry] = [
        Entry(name: "scratch-cnn", description: "course 001: 2-layer CNN from scratch (14×14, 2 classes)",
              inputShape: [1, 14, 14], classes: 2) { try scratchCNN(classes: $0, inputChannels: $1, seed: $2) },
        Entry(name: "course-cnn", description: "course 004: the MNIST CNN (28×28)", inputShape: [1, 28, 28], classes: 10) {
            try courseCNN(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "lenet5", description: "LeNet-5, modern variant (ReLU, max pool; 28×28)", inputShape: [1, 28, 28],
              classes: 10) { try leNet5(classes: $0, inputChannels: $1, seed: $2) },
        Entry(name: "lenet5-classic", description: "LeNet-5 as in LeCun et al. 1998 (32×32, 60,000 trainable)",
              inputShape: [1, 32, 32], classes: 10) { try leNet5Classic(classes: $0, inputChannels: $1, seed: $2) },
        Entry(name: "tiny-vgg", description: "Tiny-VGG of CNN Explainer (64×64)", inputShape: [3, 64, 64], classes: 10) {
            try tinyVGG(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "alexnet", description: "AlexNet (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try alexNet(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vgg11", description: "VGG-11 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vgg(depth: 11, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vgg16", description: "VGG-16 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vgg(depth: 16, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vgg19", description: "VGG-19 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vgg(depth: 19, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "resnet18", description: "ResNet-18 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try resNet(depth: 18, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "resnet34", description: "ResNet-34 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try resNet(depth: 34, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "resnet50", description: "ResNet-50 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try resNet(depth: 50, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "resnet101", description: "ResNet-101 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try resNet(depth: 101, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "resnet152", description: "ResNet-152 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try resNet(depth: 152, classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "mobilenet_v2", description: "MobileNetV2 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try mobileNetV2(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "efficientnet_b0", description: "EfficientNet-B0 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try efficientNetB0(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "densenet121", description: "DenseNet-121 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try denseNet121(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "googlenet", description: "GoogLeNet without auxiliary heads (torchvision)", inputShape: [3, 224, 224],
              classes: 1000) { try googLeNet(classes: $0, inputChannels: $1, seed: $2) },
        Entry(name: "convnext_tiny", description: "ConvNeXt-Tiny (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try convNeXtTiny(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vit_mnist", description: "small ViT for the digits (7×7 patches, 4 blocks)",
              inputShape: [1, 28, 28], classes: 10) { try vitMNIST(classes: $0, inputChannels: $1, seed: $2) },
        Entry(name: "vit_b_16", description: "ViT-B/16 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vitB16(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vit_b_32", description: "ViT-B/32 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vitB32(classes: $0, inputChannels: $1, seed: $2)
        },
        Entry(name: "vit_l_16", description: "ViT-L/16 (torchvision)", inputShape: [3, 224, 224], classes: 1000) {
            try vitL16(classes: $0, inputChannels: $1, seed: $2)
        },
    ]

    /// The entry called `name`.
    /// - Throws: `ConvKitError.invalidArgument` listing the known names.
    public static func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name.lowercased() }) else {
            throw ConvKitError.invalidArgument(
                op: "Zoo", argument: "model", message: "'\(name)' is not in the zoo; known: \(entries.map(\.name).joined(separator: ", "))")
        }
        return e
    }
}
