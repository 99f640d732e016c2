import ConvKit
import Foundation

// Run under MPI: `mpirun -np W ConvKitDistributedChecks SCENARIO`. Every rank trains data-parallel
// (W ranks × batch B, one epoch of `steps` steps); rank 0 then computes what one process should
// get on the same samples and compares every weight and buffer. Prints one line per check
// ("ok …" / "FAIL …") on rank 0; the exit status is non-zero on a failure.
//
// Scenarios:
//   plain      no batch norm: W × B must equal one process with batch W·B (SGD with momentum, and Adam)
//   batchnorm  per-rank statistics: each rank normalises its own B samples; the weights must equal
//              one process that runs each rank's shard separately and averages the gradients, and
//              the running statistics must be rank 0's (those that process computes from shard 0)
//   syncbn     synchronised batch norm: W × B must equal one process with batch W·B and plain batch norm
//
// Tolerance: the ranks' float sums run in another order than one process's (per-rank means then an
// average; MPI's reduction order), so the results differ by rounding, ~1e-7 relative per operation,
// compounded over the steps: 1e-5 relative to each tensor's largest magnitude.

let scenario = CommandLine.arguments.dropFirst().first ?? "plain"
let tolerance: Float = 1e-5
let (batch, steps, classes) = (4, 5, 3)

func makeModel(batchNorm: Bool) throws -> Sequential {
    var g = SeededGenerator(seed: 7)
    var layers: [any Module] = [try Conv2d(1, 4, kernelSize: 3, padding: 1, using: &g)]
    if batchNorm { layers.append(try BatchNorm2d(4)) }
    layers += [ReLU(), MaxPool2d(kernelSize: 2), Flatten(), try Linear(4 * 4 * 4, classes, using: &g)]
    return Sequential(layers)
}

func makeData(count: Int) throws -> ImageDataset {
    var g = SeededGenerator(seed: 11)
    let pixels = (0..<(count * 64)).map { _ in Float.random(in: -1...1, using: &g) }
    let labels = (0..<count).map { _ in Int.random(in: 0..<classes, using: &g) }
    return try ImageDataset(sampleShape: [1, 8, 8], pixels: pixels, labels: labels, classNames: (0..<classes).map(String.init))
}

func makeOptimizer(_ name: String, _ model: any Module) throws -> any Optimizer {
    name == "adam" ? try Adam(parameters: model.parameters, learningRate: 0.01)
        : try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9)
}

/// Largest |a − b| over each tensor, relative to the tensor's largest |b|.
func largestDifference(_ a: any Module, _ b: any Module) -> (Float, String) {
    var worst: (Float, String) = (0, "")
    for (x, y) in zip(a.namedState(), b.namedState()) {
        let scale = Swift.max(y.entry.tensor.scalars.map(abs).max() ?? 0, 1e-6)
        let d = zip(x.entry.tensor.scalars, y.entry.tensor.scalars).map { abs($0 - $1) }.max() ?? 0
        if d / scale > worst.0 || d.isNaN { worst = (d / scale, x.name) }
    }
    return worst
}

func fail(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("ConvKitDistributedChecks: \(error)\n".utf8))
    exit(1)
}

let group: MPIProcessGroup = { do { return try MPIProcessGroup.world() } catch { fail(error) } }()
let world = group.worldSize
let data: ImageDataset = { do { return try makeData(count: world * batch * steps) } catch { fail(error) } }()
var failures = 0

@MainActor func report(_ name: String, _ difference: (Float, String)) {
    guard group.isLeader else { return }
    let ok = difference.0 <= tolerance
    if !ok { failures += 1 }
    print("\(ok ? "ok" : "FAIL") \(scenario) \(name), \(world) ranks × batch \(batch), \(steps) steps: largest relative difference "
          + String(format: "%.2e", difference.0) + " (\(difference.1)), tolerance " + String(format: "%.0e", tolerance))
}

/// Trains data-parallel on every rank; returns the model.
@MainActor func trainDistributed(batchNorm: Bool, optimizer: String, synchronized: Bool = false) throws -> Sequential {
    let model = try makeModel(batchNorm: batchNorm)
    if synchronized { model.synchronizeBatchNorm(over: group) }
    let trainer = try Trainer(model: model, optimizer: try makeOptimizer(optimizer, model), batchSize: batch, seed: 3)
    trainer.dataParallel = try DataParallel(group: group, bucketMegabytes: 0.001)  // several buckets
    try trainer.fit(data, epochs: 1)
    return model
}

/// The epoch's order as the trainer draws it (same seed, same generator).
func epochOrder() -> [Int] {
    var g = SeededGenerator(seed: 3)
    var order = Array(0..<data.count)
    order.shuffle(using: &g)
    return order
}

do {
switch scenario {
case "plain", "syncbn":
    let batchNorm = scenario == "syncbn"
    for optimizer in batchNorm ? ["sgd"] : ["sgd", "adam"] {
        let distributed = try trainDistributed(batchNorm: batchNorm, optimizer: optimizer, synchronized: batchNorm)
        guard group.isLeader else { continue }
        // One process, batch W·B over the same order: batch j is the union of the ranks' batches j.
        let reference = try makeModel(batchNorm: batchNorm)
        let trainer = try Trainer(model: reference, optimizer: try makeOptimizer(optimizer, reference), batchSize: world * batch, seed: 3)
        try trainer.fit(data, epochs: 1)
        report(optimizer, largestDifference(distributed, reference))
    }
case "batchnorm":
    let distributed = try trainDistributed(batchNorm: true, optimizer: "sgd")
    if group.isLeader {
        let reference = try makeModel(batchNorm: true)
        let optimizer = try makeOptimizer("sgd", reference)
        let shards = try (0..<world).map { try DistributedSampler(rank: $0, worldSize: world).shard(epochOrder()) }
        let buffers = reference.namedState().filter { $0.entry.kind != .parameter }.map(\.entry.tensor)
        reference.train()
        for step in 0..<steps {
            optimizer.zeroGrad()
            let start = buffers.map(\.scalars)  // every rank starts the step from rank 0's buffers
            var rank0 = start
            for rank in 0..<world {
                for (t, v) in zip(buffers, start) { try t.assign(v) }
                let (images, labels) = data.batch(shards[rank][(step * batch)..<((step + 1) * batch)])
                let loss = try crossEntropy(try reference(images), targets: labels) * (1 / Float(world))
                try loss.backward()
                if rank == 0 { rank0 = buffers.map(\.scalars) }
            }
            for (t, v) in zip(buffers, rank0) { try t.assign(v) }
            try optimizer.step()
        }
        report("sgd", largestDifference(distributed, reference))
    }
default:
    FileHandle.standardError.write(Data("unknown scenario \(scenario); use plain, batchnorm or syncbn\n".utf8))
    exit(2)
}
} catch { fail(error) }
exit(failures == 0 ? 0 : 1)
