import Foundation
import ConvKit

/// Builds a workload's tensors once and returns the closure that runs it in ConvKit.
enum ConvKitRunner {
    static func prepare(_ w: Workload) throws -> () throws -> Void {
        var rng = SeededGenerator(seed: 1)
        switch w.kind {
        case let .gemm(m, n, k):
            let a = try Tensor.randomNormal([m, k], using: &rng), b = try Tensor.randomNormal([k, n], using: &rng)
            return { _ = try matmul(a, b) }
        case let .conv(n, c, size, k, kernel, stride, pad, groups, pass):
            let x = try Tensor.randomNormal([n, c] + size, using: &rng, requiresGrad: pass == "backward")
            let weight = try Tensor.randomNormal([k, c / groups] + size.map { _ in kernel }, std: 0.1, using: &rng,
                                                 requiresGrad: pass == "backward")
            let conv = { () throws -> Tensor in
                size.count == 1
                    ? try conv1d(x, weight: weight, stride: PerAxis(stride), padding: Padding.symmetric(pad), groups: groups)
                    : try conv2d(x, weight: weight, stride: PerAxis(stride), padding: Padding.symmetric(pad), groups: groups)
            }
            if pass == "forward" { return { _ = try withGradientsDisabled(conv) } }
            let y = try conv()
            let upstream = try Tensor.randomNormal(y.shape, using: &rng)
            return {
                x.zeroGrad()
                weight.zeroGrad()
                try conv().backward(gradient: upstream)
            }
        case let .zooInference(name, batch):
            let model = try Zoo.entry(name).build()
            let images = try Tensor.randomNormal([batch, 3, 224, 224], using: &rng)
            try model.fuseForInference(exampleInput: images)
            return { _ = try withGradientsDisabled { try model(images) } }
        case let .zooTraining(name, batch):
            let model = try Zoo.entry(name).build()
            model.train()
            let images = try Tensor.randomNormal([batch, 3, 224, 224], using: &rng)
            let labels = (0..<batch).map { $0 % 1000 }
            let optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
            return {
                optimizer.zeroGrad()
                try crossEntropy(try model(images), targets: labels).backward()
                try optimizer.step()
            }
        case let .courseRun(epochs):
            // What `convkit train --epochs 5` does, less the printing: everything inside the timed run.
            return {
                let folder = Workload.mnist.path
                let train = try MNIST.load(folder: folder, split: .train), test = try MNIST.load(folder: folder, split: .test)
                let (mean, std) = MNIST.normalization
                let model = try Zoo.courseCNN(seed: 1)
                let trainer = try Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: 0.001),
                                          batchSize: 64, seed: 1)
                try trainer.fit(try train.normalized(mean: [mean], std: [std]), epochs: epochs,
                                validation: try test.normalized(mean: [mean], std: [std]))
            }
        case let .jpegDecode(file, _):
            let bytes = [UInt8](try Data(contentsOf: Workload.photos.appendingPathComponent(file)))
            return { _ = try JPEG.decodeSamples(bytes) }
        case let .courseCNN(batch, pass):
            let model = try Zoo.courseCNN(seed: 1)
            let images = try Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
            let labels = (0..<batch).map { $0 % 10 }
            if pass == "inference" { return { _ = try withGradientsDisabled { try model(images) } } }
            // One training step as torch does it: forward, cross-entropy, backward, SGD-momentum update.
            let optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
            return {
                optimizer.zeroGrad()
                try crossEntropy(try model(images), targets: labels).backward()
                try optimizer.step()
            }
        }
    }
}
