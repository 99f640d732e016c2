import ConvKit
import Testing

/// The autograd is wired end to end: a tiny conv net learns vertical vs horizontal bars
/// with plain SGD and reaches 100 % training accuracy.
@Suite struct LearningSmokeTests {
    /// 8×8 images with one bar (vertical: label 0, horizontal: label 1) at a random
    /// position and brightness, plus noise.
    static func bars(count: Int, seed: UInt64) throws -> (Tensor, [Int]) {
        var rng = SeededGenerator(seed: seed)
        var pixels = [Float](), labels = [Int]()
        for i in 0..<count {
            let label = i % 2
            let at = Int.random(in: 1..<7, using: &rng)
            let brightness = Float.random(in: 0.6...1.0, using: &rng)
            for y in 0..<8 {
                for x in 0..<8 {
                    let on = label == 0 ? x == at : y == at
                    pixels.append((on ? brightness : 0) + Float.random(in: -0.1...0.1, using: &rng))
                }
            }
            labels.append(label)
        }
        return (try Tensor(shape: [count, 1, 8, 8], scalars: pixels), labels)
    }

    @Test func tinyConvNetLearnsBars() throws {
        var rng = SeededGenerator(seed: 1)
        let conv = try Tensor.randomNormal([4, 1, 3, 3], std: 0.5, using: &rng, requiresGrad: true)
        let convBias = try Tensor.zeros([4], requiresGrad: true)
        let fc = try Tensor.randomNormal([2, 64], std: 0.1, using: &rng, requiresGrad: true)
        let fcBias = try Tensor.zeros([2], requiresGrad: true)
        let parameters = [conv, convBias, fc, fcBias]
        func model(_ x: Tensor) throws -> Tensor {
            let h = try maxPool2d(try conv2d(x, weight: conv, bias: convBias, padding: 1).relu(), kernelSize: 2)
            return try linear(try h.flattened(), weight: fc, bias: fcBias)
        }

        let (images, labels) = try Self.bars(count: 32, seed: 2)
        let initialLoss = try crossEntropy(try model(images), targets: labels).item()
        for _ in 0..<150 {
            for p in parameters { p.zeroGrad() }
            try crossEntropy(try model(images), targets: labels).backward()
            for p in parameters {
                let g = try #require(p.grad)
                try p.assign(zip(p.scalars, g.scalars).map { $0 - 0.2 * $1 })
            }
        }
        let logits = try withGradientsDisabled { try model(images) }
        let finalLoss = try crossEntropy(logits, targets: labels).item()
        let accuracy = Float(zip(try logits.argmax(axis: 1), labels).filter { $0 == $1 }.count) / Float(labels.count)
        #expect(accuracy == 1, "training accuracy \(accuracy)")
        #expect(finalLoss < initialLoss / 5, "loss \(initialLoss) → \(finalLoss)")
    }
}
