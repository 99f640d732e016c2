import ConvKit
import Testing

/// 3-D convolution, transposed convolution, pooling and batch norm against PyTorch
/// (scripts/generate_fixtures.py: three_d.safetensors), through the layers users build with.
@Suite struct ThreeDOracleTests {
    static func axes(_ v: JSONValue?) -> PerAxis {
        if let i = v?.intValue { return PerAxis(i) }
        return PerAxis(v?.ints ?? [])
    }

    @Test func volumesMatchPyTorch() throws {
        let fx = try Fixture("three_d")
        var seen: Set<String> = []
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let op = c["op"]!.stringValue!
            seen.insert(op)
            let x = try fx.required(i, "input", requiresGrad: true)
            var g = SeededGenerator(seed: 0)
            var parameters: [(String, Tensor)] = []
            let y: Tensor
            switch op {
            case "conv3d":
                let w = try fx.required(i, "weight")
                let layer = try Conv3d(w.shape[1] * c["groups"]!.intValue!, w.shape[0], kernelSize: PerAxis(Array(w.shape[2...])),
                                       stride: Self.axes(c["stride"]), padding: .explicit(before: Self.axes(c["padding"]).values,
                                                                                         after: Self.axes(c["padding"]).values),
                                       dilation: Self.axes(c["dilation"]), groups: c["groups"]!.intValue!,
                                       paddingMode: PaddingMode(rawValue: c["mode"]!.stringValue!)!, using: &g)
                try layer.weight.assign(w.scalars)
                try layer.bias!.assign(try fx.required(i, "bias").scalars)
                parameters = [("weight", layer.weight), ("bias", layer.bias!)]
                y = try layer(x)
            case "conv_transpose3d":
                let w = try fx.required(i, "weight"), groups = c["groups"]!.intValue!
                let layer = try ConvTranspose3d(w.shape[0], w.shape[1] * groups, kernelSize: PerAxis(Array(w.shape[2...])),
                                                stride: Self.axes(c["stride"]), padding: Self.axes(c["padding"]),
                                                outputPadding: Self.axes(c["output_padding"]), groups: groups,
                                                dilation: Self.axes(c["dilation"]), using: &g)
                try layer.weight.assign(w.scalars)
                try layer.bias!.assign(try fx.required(i, "bias").scalars)
                parameters = [("weight", layer.weight), ("bias", layer.bias!)]
                y = try layer(x)
            case "max_pool3d":
                let (out, indices) = try maxPool3dWithIndices(x, kernelSize: Self.axes(c["kernel"]), stride: Self.axes(c["stride"]),
                                                              padding: Self.axes(c["padding"]), dilation: Self.axes(c["dilation"]),
                                                              ceilMode: c["ceil"]!.bool)
                #expect(indices == (try fx.integers(i, "indices")), "case \(i) indices")
                let layer = MaxPool3d(kernelSize: Self.axes(c["kernel"]), stride: Self.axes(c["stride"]), padding: Self.axes(c["padding"]),
                                      dilation: Self.axes(c["dilation"]), ceilMode: c["ceil"]!.bool)
                expectClose(try withGradientsDisabled { try layer(x) }, out, "case \(i) layer")
                y = out
            case "avg_pool3d":
                y = try avgPool3d(x, kernelSize: Self.axes(c["kernel"]), stride: Self.axes(c["stride"]), padding: Self.axes(c["padding"]),
                                  ceilMode: c["ceil"]!.bool, countIncludePad: c["count_include_pad"]!.bool,
                                  divisorOverride: c["divisor"]?.intValue)
            case "adaptive_avg_pool3d":
                y = try AdaptiveAvgPool3d(outputSize: PerAxis(c["output_size"]!.ints))(x)
            case "batch_norm3d":
                let bn = try BatchNorm3d(x.shape[1])
                try bn.weight!.assign(try fx.required(i, "weight").scalars)
                try bn.bias!.assign(try fx.required(i, "bias").scalars)
                parameters = [("weight", bn.weight!), ("bias", bn.bias!)]
                y = try bn(x)
                expectClose(bn.runningMean, try fx.required(i, "running_mean_after"), "case \(i) running mean")
                expectClose(bn.runningVar, try fx.required(i, "running_var_after"), "case \(i) running var")
            default:
                Issue.record("no ConvKit op for \(op)")
                continue
            }
            expectClose(y, try fx.required(i, "output"), "\(op) case \(i) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(op) case \(i) grad input")
            for (name, p) in parameters { expectClose(p.grad, try fx.required(i, "grad_" + name), "\(op) case \(i) grad \(name)") }
        }
        #expect(seen == ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "batch_norm3d"])
    }

    /// A stack of 3-D layers trains: a tiny volume classifier tells a bright cube in the front
    /// half of a 8×8×8 volume from one in the back half within a few steps.
    @Test func aSmallVolumeClassifierLearns() throws {
        var g = SeededGenerator(seed: 5)
        let model = Sequential([try Conv3d(1, 4, kernelSize: 3, padding: 1, using: &g), ReLU(), MaxPool3d(kernelSize: 2),
                                try BatchNorm3d(4), AdaptiveAvgPool3d(outputSize: [2, 1, 1]), Flatten(), try Linear(8, 2, using: &g)])
        var volumes: [Float] = [], labels: [Int] = []
        for n in 0..<16 {
            var v = [Float](repeating: 0, count: 512)
            let back = n % 2, z0 = back * 4 + Int(g.next() % 2), y0 = Int(g.next() % 5), x0 = Int(g.next() % 5)
            for z in z0..<(z0 + 3) where z < 8 { for y in y0..<(y0 + 3) { for x in x0..<(x0 + 3) { v[z * 64 + y * 8 + x] = 1 } } }
            volumes += v
            labels.append(back)
        }
        let x = try Tensor(shape: [16, 1, 8, 8, 8], scalars: volumes)
        let optimizer = try Adam(parameters: model.parameters, learningRate: 0.05)
        var first: Float = 0, last: Float = 0
        for step in 0..<30 {
            let loss = try crossEntropy(try model(x), targets: labels)
            if step == 0 { first = loss.scalars[0] }
            last = loss.scalars[0]
            optimizer.zeroGrad()
            try loss.backward()
            try optimizer.step()
        }
        #expect(last < first / 4, "loss \(first) → \(last)")
    }

    @Test func threeDArgumentsAreChecked() throws {
        let x = try Tensor.zeros([1, 2, 4, 4, 4])
        expectError(containing: "(N, C, D, H, W)") { try conv3d(try Tensor.zeros([2, 4, 4]), weight: try Tensor.zeros([1, 2, 3, 3, 3])) }
        expectError(containing: "stride must be positive") { try conv3d(x, weight: try Tensor.zeros([1, 2, 3, 3, 3]), stride: [1, 0, 1]) }
        expectError(containing: "kernel larger than padded input") { try conv3d(x, weight: try Tensor.zeros([1, 2, 5, 3, 3])) }
        expectError(containing: "at most half of the kernel size") { try maxPool3d(x, kernelSize: 2, padding: 2) }
        expectError(containing: "3 values") { try avgPool3d(x, kernelSize: [2, 2]) }
        var g = SeededGenerator(seed: 0)
        expectError(containing: "multiples of groups") { try ConvTranspose3d(3, 4, kernelSize: 2, groups: 2, using: &g) }
        expectError(containing: "(N, C, D, H, W)") { try adaptiveAvgPool3d(try Tensor.zeros([2, 3]), outputSize: 1) }
    }
}
