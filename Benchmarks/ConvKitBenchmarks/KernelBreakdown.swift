import ConvKit
import _ConvKitKernels
import Dispatch
import Foundation

/// `--breakdown`: times each convolution kernel (forward, input gradient, weight gradient)
/// on the course CNN's layers, to show where a training step's convolution time goes.
enum KernelBreakdown {
    static func run(minTime: Double) {
        let layers: [(String, ConvGeometry)] = [
            ("conv1 64×1×28² → 32", geometry(n: 64, c: 1, k: 32, size: 28)),
            ("conv2 64×32×28² → 32", geometry(n: 64, c: 32, k: 32, size: 28)),
            ("conv3 64×32×14² → 64", geometry(n: 64, c: 32, k: 64, size: 14)),
            ("32×64×56² → 64", geometry(n: 32, c: 64, k: 64, size: 56)),
            ("32×128×28² → 128", geometry(n: 32, c: 128, k: 128, size: 28)),
        ]
        print("kernel breakdown (ms, median)")
        for (name, g) in layers {
            let x = filled(g.inputCount), w = filled(g.weightCount), b = filled(g.outChannels)
            let y = filled(g.outputCount), dx = filled(g.inputCount), dw = filled(g.weightCount)
            let ws = filled(ConvolutionKernel.workspaceCount(g))
            let f = time(minTime) { ConvolutionKernel.forward(g, input: x, weight: w, bias: b, output: y, workspace: ws) }
            let bi = time(minTime) { ConvolutionKernel.backwardInput(g, gradOutput: y, weight: w, gradInput: dx, workspace: ws) }
            let bw = time(minTime) { ConvolutionKernel.backwardWeight(g, input: x, gradOutput: y, gradWeight: dw, workspace: ws) }
            let gflop = 2.0 * Double(g.batch * g.outChannels * g.outputPlane * g.columnRows) / 1e9
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0),
                  fmt(f), fmt(bi), fmt(bw), "   GFLOP/s", fmt(gflop / f * 1e3), fmt(gflop / bi * 1e3), fmt(gflop / bw * 1e3))
            print("    plan: \(ConvolutionPlan(g))")
        }
    }

    static func geometry(n: Int, c: Int, k: Int, size: Int) -> ConvGeometry {
        ConvGeometry(batch: n, inChannels: c, outChannels: k, inputSize: [size, size], kernelSize: [3, 3],
                     stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
    }
    static func filled(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        for i in 0..<max(count, 1) { p[i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
        return p
    }
    static func fmt(_ v: Double) -> String { String(format: "%8.2f", v) }
    static func time(_ minTime: Double, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        } while times.count < 5 || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minTime
        return times.sorted()[times.count / 2]
    }
}

extension KernelBreakdown {
    /// The course CNN's training step split into forward + loss, backward and the SGD
    /// step, and an inference pass at the same batch, beside the kernel times above.
    static func trainStep() throws {
        let model = try Zoo.courseCNN(seed: 1)
        var rng = SeededGenerator(seed: 1)
        let images = try Tensor.randomNormal([64, 1, 28, 28], using: &rng)
        let labels = (0..<64).map { $0 % 10 }
        let optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        var fwd: [Double] = [], bwd: [Double] = [], stp: [Double] = [], inf: [Double] = []
        for _ in 0..<30 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            optimizer.zeroGrad()
            let loss = try crossEntropy(try model(images), targets: labels)
            let t1 = DispatchTime.now().uptimeNanoseconds
            try loss.backward()
            let t2 = DispatchTime.now().uptimeNanoseconds
            try optimizer.step()
            let t3 = DispatchTime.now().uptimeNanoseconds
            _ = try withGradientsDisabled { try model(images) }
            let t4 = DispatchTime.now().uptimeNanoseconds
            fwd.append(Double(t1 - t0) / 1e6); bwd.append(Double(t2 - t1) / 1e6); stp.append(Double(t3 - t2) / 1e6)
            inf.append(Double(t4 - t3) / 1e6)
        }
        func med(_ a: [Double]) -> String { fmt(a.sorted()[a.count / 2]) }
        print("train step (ms): forward+loss", med(fwd), " backward", med(bwd), " step", med(stp), " inference b64", med(inf))
        // The first layer through the op (tensor allocation, autograd bookkeeping) vs its kernel above.
        let x1 = try Tensor.randomNormal([64, 1, 28, 28], using: &rng), w1 = try Tensor.randomNormal([32, 1, 3, 3], using: &rng)
        let op = time(0.5) { _ = try? withGradientsDisabled { try conv2d(x1, weight: w1, padding: 1) } }
        print("conv1 forward as an op (ms):", fmt(op))
    }
}

extension KernelBreakdown {
    /// The course CNN's batch-1 forward pass (the latency row's model: not fused, nothing
    /// recorded) stage by stage, each stage on its own input, beside the whole pass (µs, median).
    static func batchOneLatency(minTime: Double) throws {
        let model = try Zoo.courseCNN(seed: 1)
        var rng = SeededGenerator(seed: 2)
        let image = try Tensor.randomNormal([1, 1, 28, 28], using: &rng)
        let stages: [(String, Sequential)] = [
            ("conv1 + ReLU", Sequential([model[0], model[1]])), ("conv2 + ReLU + pool", Sequential([model[2], model[3], model[4]])),
            ("conv3 + ReLU + pool", Sequential([model[5], model[6], model[7]])),
            ("flatten + fc1 + ReLU", Sequential([model[8], model[9], model[10]])), ("fc2", Sequential([model[11]])),
        ]
        try withGradientsDisabled {
            print("batch-1 forward (µs, median): whole", fmt(time(minTime) { _ = try? model(image) } * 1e3))
            var x = image
            for (name, stage) in stages {
                let input = x
                print("    " + name.padding(toLength: 22, withPad: " ", startingAt: 0), fmt(time(minTime) { _ = try? stage(input) } * 1e3))
                x = try stage(input)
            }
        }
    }

    /// sgemm on one thread and on all, to separate the kernel's speed from its scaling.
    static func gemmScaling(minTime: Double) {
        for size in [512, 1024, 2048] {
            let a = filled(size * size), b = filled(size * size), c = filled(size * size)
            let flop = 2 * Double(size * size * size)
            let one = time(minTime) {
                packedGEMM(transposeA: false, transposeB: false, m: size, n: size, k: size, a: a, lda: size,
                           b: b, ldb: size, beta: 0, c: c, ldc: size, threaded: false)
            }
            let all = time(minTime) {
                packedGEMM(transposeA: false, transposeB: false, m: size, n: size, k: size, a: a, lda: size,
                           b: b, ldb: size, beta: 0, c: c, ldc: size, threaded: true)
            }
            print("sgemm \(size)³ GFLOP/s: one thread", fmt(flop / one / 1e6), " all threads", fmt(flop / all / 1e6))
        }
    }
}
