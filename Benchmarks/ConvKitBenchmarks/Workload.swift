import ConvKit
import Foundation

/// One benchmark case, described the same way to ConvKit and to the PyTorch peer
/// (`scripts/bench_torch.py`), which receives `json` and times the same computation.
struct Workload {
    enum Kind {
        case gemm(m: Int, n: Int, k: Int)
        /// Convolution `pass` ("forward" or "backward": input and weight gradients).
        case conv(n: Int, c: Int, size: [Int], k: Int, kernel: Int, stride: Int, pad: Int, groups: Int, pass: String)
        /// The course CNN (004): "train" = forward, loss, backward, SGD-momentum step; "inference".
        case courseCNN(batch: Int, pass: String)
        /// Decoding a JPEG file (Benchmarks/photos) to 8-bit RGB, one thread: Pillow on the peer's side.
        case jpegDecode(file: String, pixels: Int)
        /// A zoo model's inference at 224², ConvKit with batch norm folded (`fuseForInference`),
        /// PyTorch's torchvision model in eval mode under no_grad (eager, unfused: what its users run).
        case zooInference(model: String, batch: Int)
        /// A zoo model's training step at 224² in training mode (batch statistics): forward,
        /// cross-entropy, backward, SGD-momentum update; torchvision's model on the peer's side.
        case zooTraining(model: String, batch: Int)
        /// The course CNN's whole default run, end to end and timed once per round: read the
        /// bundled MNIST subset (4,000 + 1,000 digits), normalise, build, `Trainer.fit` for
        /// `epochs` epochs (Adam 0.001, batch 64, shuffled) with evaluation after each; the peer
        /// runs the same loop in PyTorch on the same files.
        case courseRun(epochs: Int)
    }

    let name: String
    let kind: Kind

    /// The bundled MNIST subset both sides of `courseRun` read.
    static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/ConvKit/Resources/mnist-5k")

    /// Training images in the bundled subset (the work of one `courseRun` epoch).
    static let mnistTrainingImages = 4_000

    /// Whether a run is timed once per round, with no warm-up (a whole run end to end, as
    /// users feel it), instead of the median of repeated runs.
    var timedOnce: Bool {
        if case .courseRun = kind { return true }
        return false
    }

    /// Benchmarks/photos (the JPEG files both sides decode).
    static let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("photos")

    /// Work per run: floating-point operations, or images for the CNN.
    var work: Double {
        switch kind {
        case let .gemm(m, n, k):
            return 2 * Double(m * n * k)
        case let .conv(n, c, size, k, kernel, stride, pad, groups, pass):
            let out = size.map { ($0 + 2 * pad - kernel) / stride + 1 }.reduce(1, *)
            let forward = 2 * Double(n * k * out * (c / groups)) * pow(Double(kernel), Double(size.count))
            return pass == "forward" ? forward : 2 * forward
        case let .courseCNN(batch, _), let .zooInference(_, batch), let .zooTraining(_, batch):
            return Double(batch)
        case let .courseRun(epochs):
            return Double(epochs * Workload.mnistTrainingImages)
        case let .jpegDecode(_, pixels):
            return Double(pixels)
        }
    }

    /// The least memory traffic of one run, in bytes, for rows bound by memory rather than
    /// arithmetic (depthwise convolution: forward reads the input and writes the output; a
    /// backward run is a forward pass too (input read, output written) and then reads the input
    /// and the output gradient and writes the input gradient); nil for the others.
    var bytes: Double? {
        guard case let .conv(n, c, size, k, kernel, stride, pad, groups, pass) = kind, groups == c, groups > 1 else { return nil }
        let input = Double(n * c * size.reduce(1, *))
        let output = Double(n * k) * size.map { Double(($0 + 2 * pad - kernel) / stride + 1) }.reduce(1, *)
        return 4 * (pass == "forward" ? input + output : 3 * input + 2 * output)
    }

    var unit: String {
        if case .courseCNN = kind { return "img/s" }
        if case .zooInference = kind { return "img/s" }
        if case .zooTraining = kind { return "img/s" }
        if case .courseRun = kind { return "img/s" }
        if case .jpegDecode = kind { return "MP/s" }
        return "GFLOP/s"
    }

    /// The throughput for one run of `seconds`.
    func throughput(_ seconds: Double) -> Double {
        unit == "img/s" ? work / seconds : unit == "MP/s" ? work / seconds / 1e6 : work / seconds / 1e9
    }

    var json: String {
        switch kind {
        case let .gemm(m, n, k):
            return #"{"kind":"gemm","m":\#(m),"n":\#(n),"k":\#(k)}"#
        case let .conv(n, c, size, k, kernel, stride, pad, groups, pass):
            return #"{"kind":"conv","n":\#(n),"c":\#(c),"size":\#(size),"k":\#(k),"kernel":\#(kernel),"stride":\#(stride),"pad":\#(pad),"groups":\#(groups),"pass":"\#(pass)"}"#
        case let .courseCNN(batch, pass):
            return #"{"kind":"cnn","batch":\#(batch),"pass":"\#(pass)"}"#
        case let .jpegDecode(file, _):
            return #"{"kind":"jpeg","file":"\#(Workload.photos.appendingPathComponent(file).path)"}"#
        case let .zooInference(model, batch):
            return #"{"kind":"zoo","model":"\#(model)","batch":\#(batch)}"#
        case let .zooTraining(model, batch):
            return #"{"kind":"zoo_train","model":"\#(model)","batch":\#(batch)}"#
        case let .courseRun(epochs):
            return #"{"kind":"course_run","epochs":\#(epochs),"folder":"\#(Workload.mnist.path)","once":true}"#
        }
    }

    /// The shape set of the speed issue, forward and backward, then GEMM and the course CNN.
    static let all: [Workload] = {
        var list: [Workload] = [
            Workload(name: "sgemm 1024³", kind: .gemm(m: 1024, n: 1024, k: 1024)),
            Workload(name: "sgemm 2048³", kind: .gemm(m: 2048, n: 2048, k: 2048)),
        ]
        let shapes: [(String, Int, Int, [Int], Int, Int, Int, Int, Int)] = [
            ("64×1×28² → 32 k3", 64, 1, [28, 28], 32, 3, 1, 1, 1),
            ("64×32×28² → 32 k3", 64, 32, [28, 28], 32, 3, 1, 1, 1),
            ("64×32×14² → 64 k3", 64, 32, [14, 14], 64, 3, 1, 1, 1),
            ("32×64×56² → 64 k3", 32, 64, [56, 56], 64, 3, 1, 1, 1),
            ("8×3×224² → 64 k7 s2", 8, 3, [224, 224], 64, 7, 2, 3, 1),
            ("32×128×28² → 128 k3", 32, 128, [28, 28], 128, 3, 1, 1, 1),
            ("32×128×56² depthwise k3", 32, 128, [56, 56], 128, 3, 1, 1, 128),
            ("32×256×14² → 512 k1", 32, 256, [14, 14], 512, 1, 1, 0, 1),
            ("conv1d 32×17×128 → 64 k3", 32, 17, [128], 64, 3, 1, 1, 1),
            ("16×512×7² → 512 k3", 16, 512, [7, 7], 512, 3, 1, 1, 1),  // ResNet-18/34's last stage
        ]
        for pass in ["forward", "backward"] {
            for (name, n, c, size, k, kernel, stride, pad, groups) in shapes {
                list.append(Workload(name: "\(name) \(pass)", kind: .conv(
                    n: n, c: c, size: size, k: k, kernel: kernel, stride: stride, pad: pad, groups: groups, pass: pass)))
            }
        }
        list.append(Workload(name: "course CNN train step, batch 64", kind: .courseCNN(batch: 64, pass: "train")))
        list.append(Workload(name: "course CNN inference, batch 256", kind: .courseCNN(batch: 256, pass: "inference")))
        list.append(Workload(name: "course CNN inference, batch 1 (latency)", kind: .courseCNN(batch: 1, pass: "inference")))
        list.append(Workload(name: "course CNN 5 epochs end to end (train img/s)", kind: .courseRun(epochs: 5)))
        list.append(Workload(name: "ResNet-18 train step 224², batch 16", kind: .zooTraining(model: "resnet18", batch: 16)))
        for (model, label) in [("resnet18", "ResNet-18"), ("mobilenet_v2", "MobileNetV2"), ("resnet50", "ResNet-50"),
                               ("efficientnet_b0", "EfficientNet-B0"), ("vgg16", "VGG-16")] {
            for batch in [1, 16] {
                list.append(Workload(name: "\(label) infer 224², batch \(batch), fused", kind: .zooInference(model: model, batch: batch)))
            }
        }
        list.append(Workload(name: "JPEG decode 512² 4:2:0 q90", kind: .jpegDecode(file: "astronaut-q90-420.jpg", pixels: 512 * 512)))
        list.append(Workload(name: "JPEG decode 512² 4:4:4 progressive", kind: .jpegDecode(file: "astronaut-q90-444-progressive.jpg", pixels: 512 * 512)))
        return list
    }()
}
