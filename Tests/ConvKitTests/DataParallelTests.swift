import ConvKit
import Foundation
import Testing

/// A group of `worldSize` ranks that all hold this process's values: a sum is the value times
/// the world size. Data-parallel code over it must give exactly the one-process result, which
/// checks its bookkeeping (buckets, averaging, synchronised statistics) without MPI; the real
/// cross-rank numbers are checked under mpirun (ConvKitCLITests' DistributedTests).
final class IdenticalRanksGroup: ProcessGroup {
    let worldSize: Int
    var rank: Int { 0 }
    private(set) var reductions = 0
    init(worldSize: Int) { self.worldSize = worldSize }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        for i in values.indices { values[i] *= Float(worldSize) }
    }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        for i in values.indices { values[i] *= Double(worldSize) }
    }
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> any PendingReduction {
        reductions += 1
        try allReduceSum(values)
        return Completed()
    }
    final class Completed: PendingReduction {
        func poll() throws -> Bool { true }
        func wait() throws {}
    }
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    func allGather(_ values: [Int64]) throws -> [[Int64]] { Array(repeating: values, count: worldSize) }
}

@Suite struct DataParallelTests {
    /// torch 2.13's `DistributedSampler(range(n), num_replicas=W, rank=r, shuffle=False)` for each rank.
    @Test(arguments: [
        (10, 3, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]),
        (2, 5, [[0], [1], [0], [1], [0]]),
        (7, 7, [[0], [1], [2], [3], [4], [5], [6]]),
        (5, 2, [[0, 2, 4], [1, 3, 0]]),
    ])
    func samplerSplitsAsPyTorch(count: Int, worldSize: Int, expected: [[Int]]) throws {
        let shards = try (0..<worldSize).map { try DistributedSampler(rank: $0, worldSize: worldSize).shard(Array(0..<count)) }
        #expect(shards == expected)
    }

    @Test func samplerShardsMakeTheOneProcessBatches() throws {
        var g = SeededGenerator(seed: 5)
        let order = Array(0..<96).shuffled(using: &g)
        let (world, batch) = (3, 4)
        let shards = try (0..<world).map { try DistributedSampler(rank: $0, worldSize: world).shard(order) }
        for step in 0..<(96 / (world * batch)) {
            let together = shards.flatMap { $0[(step * batch)..<((step + 1) * batch)] }
            #expect(Set(together) == Set(order[(step * world * batch)..<((step + 1) * world * batch)]))
        }
    }

    @Test func samplerRefusesImpossibleRanks() {
        for (rank, world) in [(0, 0), (-1, 2), (2, 2), (0, Int.max), (Int.max, 3), (Int.min, 1)] {
            #expect(throws: ConvKitError.self) { try DistributedSampler(rank: rank, worldSize: world) }
        }
        for value in [0, -1, .nan, .infinity, 1e308, 4097] as [Double] {
            #expect(throws: ConvKitError.self) { try DataParallel(group: SingleProcessGroup(), bucketMegabytes: value) }
        }
    }

    func smallModel(seed: UInt64) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        return Sequential([try Conv2d(1, 3, kernelSize: 3, padding: 1, using: &g), try BatchNorm2d(3), ReLU(), MaxPool2d(kernelSize: 7),
                           Flatten(), try Linear(3 * 4 * 4, 10, using: &g)])
    }

    /// Four identical ranks: each trains on rank 0's shard with gradients averaged in buckets, which
    /// must be exactly that shard's gradients (one process on the same samples, plain backward).
    /// A power of two, so that summing 4 copies and dividing by 4 is exact in float32.
    @Test(arguments: [0.001, 0.01, 25])
    func bucketedAveragingLeavesEachRanksGradient(bucketMegabytes: Double) throws {
        let data = try MNIST.bundled(.train, normalized: true).prefix(96)
        let (world, batch) = (4, 8)
        let model = try smallModel(seed: 1)
        let group = IdenticalRanksGroup(worldSize: world)
        let trainer = try Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9),
                                  batchSize: batch, seed: 6)
        trainer.dataParallel = try DataParallel(group: group, bucketMegabytes: bucketMegabytes)
        try trainer.fit(data, epochs: 1)

        let reference = try smallModel(seed: 1)
        let optimizer = try SGD(parameters: reference.parameters, learningRate: 0.1, momentum: 0.9)
        var g = SeededGenerator(seed: 6)
        var order = Array(0..<data.count)
        order.shuffle(using: &g)
        let shard = try DistributedSampler(rank: 0, worldSize: world).shard(order)
        for step in 0..<(shard.count / batch) {
            let (images, labels) = data.batch(shard[(step * batch)..<((step + 1) * batch)])
            optimizer.zeroGrad()
            try crossEntropy(try reference(images), targets: labels).backward()
            try optimizer.step()
        }
        for (p, q) in zip(model.namedState(), reference.namedState()) { #expect(p.entry.tensor.scalars == q.entry.tensor.scalars, "\(p.name)") }
        // 25 MiB holds every gradient (one all-reduce per step); 1 KiB splits them (the 10×48 linear weight alone is 1.9 KiB).
        let steps = shard.count / batch
        let parameters = model.parameters.count
        switch bucketMegabytes {
        case 25: #expect(group.reductions == steps)
        case 0.001: #expect(group.reductions > steps && group.reductions < steps * parameters)
        default: #expect(group.reductions >= steps && group.reductions <= steps * parameters)
        }
    }

    /// A model with a head it never uses and a frozen layer.
    final class PartlyUsed: Module {
        let body: Sequential, unused: Linear
        init(seed: UInt64) throws {
            var g = SeededGenerator(seed: seed)
            body = Sequential([try Conv2d(1, 2, kernelSize: 3, using: &g), ReLU(), MaxPool2d(kernelSize: 26), Flatten(), try Linear(2, 10, using: &g)])
            unused = try Linear(3, 3, using: &g)
            body.parameters.first!.requiresGrad = false  // the convolution's weight is frozen
        }
        func callAsFunction(_ input: Tensor) throws -> Tensor { try body(input) }
        var children: [(name: String, module: any Module)] { [("body", body), ("unused", unused)] }
        var localState: [StateEntry] { [] }
    }

    /// Parameters without a gradient on every rank keep none (the optimizer skips them, weight decay
    /// included, as in one process); frozen ones take no part; the rest is averaged as usual.
    @Test func unusedAndFrozenParametersAsInOneProcess() throws {
        let data = try MNIST.bundled(.train, normalized: true).prefix(64)
        let model = try PartlyUsed(seed: 2)
        let trainer = try Trainer(model: model, optimizer: try AdamW(parameters: model.parameters, learningRate: 0.01, weightDecay: 0.1),
                                  batchSize: 8, seed: 1)
        trainer.dataParallel = try DataParallel(group: IdenticalRanksGroup(worldSize: 2), bucketMegabytes: 0.001)
        try trainer.fit(data, epochs: 1)
        #expect(model.unused.parameters.allSatisfy { $0.grad == nil })
        let state = model.namedState().map(\.entry.tensor.scalars)
        let untouched = try PartlyUsed(seed: 2)
        #expect(state[0] == untouched.namedState()[0].entry.tensor.scalars, "the frozen weight")
        #expect(Array(state.suffix(2)) == untouched.namedState().suffix(2).map(\.entry.tensor.scalars), "the unused head, weight decay included")
        #expect(state[1] != untouched.namedState()[1].entry.tensor.scalars, "the trained bias")
    }

    @Test func synchronisedBatchNormOverIdenticalRanksIsBatchNorm() throws {
        var g = SeededGenerator(seed: 4)
        let x = try Tensor(shape: [3, 2, 4, 4], scalars: (0..<96).map { _ in Float.random(in: -2...2, using: &g) }, requiresGrad: true)
        let x2 = try Tensor(shape: x.shape, scalars: x.scalars, requiresGrad: true)
        let (w, b) = (Tensor([1.5, -0.5], requiresGrad: true), Tensor([0.1, 0.2], requiresGrad: true))
        let (w2, b2) = (Tensor([1.5, -0.5], requiresGrad: true), Tensor([0.1, 0.2], requiresGrad: true))
        let (rm, rv, rm2, rv2) = (Tensor([0, 0]), Tensor([1, 1]), Tensor([0, 0]), Tensor([1, 1]))
        let upstream = try Tensor(shape: x.shape, scalars: (0..<96).map { _ in Float.random(in: -1...1, using: &g) })
        let y = try syncBatchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, group: IdenticalRanksGroup(worldSize: 4))
        let y2 = try batchNorm(x2, runningMean: rm2, runningVar: rv2, weight: w2, bias: b2, training: true)
        try y.backward(gradient: upstream)
        try y2.backward(gradient: upstream)
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 + 1e-4 * abs($1) } }
        #expect(close(y.scalars, y2.scalars))
        #expect(close(x.grad!.scalars, x2.grad!.scalars))
        #expect(close(w.grad!.scalars, w2.grad!.scalars) && close(b.grad!.scalars, b2.grad!.scalars))
        #expect(close(rm.scalars, rm2.scalars))
        // The unbiased variance uses the global count: 4 ranks × 48 values, not 48.
        let unbiasedGlobal = zip(rv2.scalars, [Float](repeating: 0.9, count: 2)).map { ($0 - $1) / 0.1 * 47 / 48 * 192 / 191 * 0.1 + $1 }
        #expect(close(rv.scalars, unbiasedGlobal))
    }

    @Test func oneRankTrainsBitForBitAsWithout() throws {
        let data = try MNIST.bundled(.train, normalized: true).prefix(256)
        var weights: [[Float]] = []
        for parallel in [false, true] {
            let model = try smallCourseModel()
            let trainer = try Trainer(model: model, optimizer: try Adam(parameters: model.parameters), batchSize: 32, seed: 2)
            if parallel { trainer.dataParallel = try DataParallel(group: SingleProcessGroup()) }
            try trainer.fit(data, epochs: 2)
            weights.append(model.parameters.flatMap(\.scalars))
        }
        #expect(weights[0] == weights[1])
    }

    func smallCourseModel() throws -> Sequential {
        var g = SeededGenerator(seed: 3)
        return Sequential([try Conv2d(1, 4, kernelSize: 3, padding: 1, using: &g), ReLU(), MaxPool2d(kernelSize: 4), Flatten(),
                           try Linear(4 * 7 * 7, 10, using: &g)])
    }
}
