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
        case let .courseCNN(batch, pass):
            let model = try CourseCNN(using: &rng)
            let images = try Tensor.randomNormal([batch, 1, 28, 28], using: &rng)
            let labels = (0..<batch).map { $0 % 10 }
            if pass == "inference" { return { _ = try withGradientsDisabled { try model(images) } } }
            return { try model.trainStep(images, labels: labels, learningRate: 0.01, momentum: 0.9) }
        }
    }
}

/// The course's MNIST CNN (004): Conv(1→32,3,p1)-ReLU-Conv(32→32,3,p1)-ReLU-MaxPool2-
/// Conv(32→64,3,p1)-ReLU-MaxPool2-Flatten-Linear(3136→128)-ReLU-Linear(128→10), 430,890
/// parameters, written with the engine's ops until the layers of the models issue exist.
final class CourseCNN {
    let parameters: [Tensor]
    private var velocity: [[Float]]

    init(using rng: inout SeededGenerator) throws {
        let shapes = [[32, 1, 3, 3], [32], [32, 32, 3, 3], [32], [64, 32, 3, 3], [64], [128, 3136], [128], [10, 128], [10]]
        parameters = try shapes.map { try Tensor.randomNormal($0, std: 0.05, using: &rng, requiresGrad: true) }
        velocity = parameters.map { [Float](repeating: 0, count: $0.count) }
        precondition(parameters.reduce(0) { $0 + $1.count } == 430_890)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let p = parameters
        var h = try conv2d(x, weight: p[0], bias: p[1], padding: 1).relu()
        h = try maxPool2d(try conv2d(h, weight: p[2], bias: p[3], padding: 1).relu(), kernelSize: 2)
        h = try maxPool2d(try conv2d(h, weight: p[4], bias: p[5], padding: 1).relu(), kernelSize: 2)
        h = try linear(try h.flattened(), weight: p[6], bias: p[7]).relu()
        return try linear(h, weight: p[8], bias: p[9])
    }

    /// Forward, cross-entropy, backward and an SGD-momentum update (v = μv + g; p −= lr·v,
    /// as torch.optim.SGD) — inline here until the optimizers of the models issue exist.
    func trainStep(_ x: Tensor, labels: [Int], learningRate: Float, momentum: Float) throws {
        for p in parameters { p.zeroGrad() }
        try crossEntropy(try self(x), targets: labels).backward()
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            p.withUnsafeMutableScalars { values in
                for j in 0..<values.count {
                    velocity[i][j] = momentum * velocity[i][j] + g.scalars[j]
                    values[j] -= learningRate * velocity[i][j]
                }
            }
        }
    }
}
