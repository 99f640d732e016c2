import ConvKit
import Testing

/// torch.nn's other CNN layers against PyTorch (scripts/generate_fixtures.py: layers.safetensors),
/// through the modules users build with; forward and every gradient.
@Suite struct LayerOracleTests {
    @Test func layersMatchPyTorch() throws {
        let fx = try Fixture("layers")
        var seen: Set<String> = []
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let op = c["op"]!.stringValue!
            seen.insert(op)
            let x = try fx.required(i, "input", requiresGrad: true)
            var parameters: [(String, Tensor)] = []
            func load(_ weight: Tensor?, _ bias: Tensor?) throws {
                if let weight { try weight.assign(try fx.required(i, "weight").scalars); parameters.append(("weight", weight)) }
                if let bias { try bias.assign(try fx.required(i, "bias").scalars); parameters.append(("bias", bias)) }
            }
            let module: any Module
            switch op {
            case "elu": module = ELU(alpha: 0.7)
            case "selu": module = SELU()
            case "celu": module = CELU(alpha: 1.3)
            case "hardswish": module = Hardswish()
            case "hardsigmoid": module = Hardsigmoid()
            case "hardtanh": module = Hardtanh(minValue: -0.5, maxValue: 2)
            case "mish": module = Mish()
            case "softplus": module = Softplus(beta: 2, threshold: 3)
            case "prelu":
                let m = try PReLU(parameters: try fx.required(i, "weight").count)
                try load(m.weight, nil)
                module = m
            case "group_norm":
                let affine = try fx.tensor(i, "weight") != nil
                let m = try GroupNorm(groups: c["groups"]!.intValue!, channels: x.shape[1], affine: affine)
                try load(m.weight, m.bias)
                module = m
            case "instance_norm":
                let affine = try fx.tensor(i, "weight") != nil
                let m = try InstanceNorm(channels: x.shape[1], affine: affine)
                try load(m.weight, m.bias)
                module = m
            case "local_response_norm":
                module = LocalResponseNorm(size: c["size"]!.intValue!, alpha: Float(c["alpha"]!.double!), beta: Float(c["beta"]!.double!),
                                           k: Float(c["k"]!.double!))
            case "pixel_shuffle": module = PixelShuffle(upscaleFactor: c["r"]!.intValue!)
            case "pad2d":
                let p = c["padding"]!.ints
                switch c["kind"]!.stringValue! {
                case "zero": module = try Pad2d.zero(p)
                case "constant": module = try Pad2d.constant(p, value: 0.5)
                case "reflection": module = try Pad2d.reflection(p)
                default: module = try Pad2d.replication(p)
                }
            default:
                Issue.record("no ConvKit layer for \(op)")
                continue
            }
            let y = try module(x)
            expectClose(y, try fx.required(i, "output"), "\(op) case \(i) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(op) case \(i) grad input")
            for (name, p) in parameters { expectClose(p.grad, try fx.required(i, "grad_" + name), "\(op) case \(i) grad \(name)") }
        }
        #expect(seen.count == 14)
    }

    @Test func upsampleMatchesPyTorch() throws {
        let fx = try Fixture("upsample")
        #expect(fx.cases.count == 9)
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let x = try fx.required(i, "input", requiresGrad: true)
            let layer = Upsample(size: c["size"]?.arrayValue.map { _ in c["size"]!.ints }, scaleFactor: c["scale"]?.double,
                                 mode: UpsampleMode(rawValue: c["mode"]!.stringValue!)!, alignCorners: c["align_corners"]!.bool)
            let y = try layer(x)
            expectClose(y, try fx.required(i, "output"), "upsample case \(i) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "upsample case \(i) grad input")
        }
        let x = try Tensor.zeros([1, 1, 2, 2])
        expectError(containing: "exactly one of size and scaleFactor") { try upsample(x) }
        expectError(containing: "exactly one of size and scaleFactor") { try upsample(x, size: [4, 4], scaleFactor: 2) }
        expectError(containing: "positive and finite") { try upsample(x, scaleFactor: .nan) }
        expectError(containing: "positive and finite") { try upsample(x, scaleFactor: -2) }
        expectError(containing: "only applies to bilinear") { try upsample(x, scaleFactor: 2, alignCorners: true) }
        expectError(containing: "must be positive") { try upsample(x, scaleFactor: 0.1) }
        expectError(containing: "output") { try upsample(x, scaleFactor: 1e300) }
        expectError(containing: "(N, C, H, W)") { try upsample(try Tensor.zeros([2, 2]), scaleFactor: 2) }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 21)
        let x = try Tensor.randomNormal([2, 4, 3, 3], using: &rng), w = try Tensor.randomNormal([4], using: &rng)
        let b = try Tensor.randomNormal([4], using: &rng)
        try checkGradients(of: [x, w], "prelu") { t in try prelu(t[0], weight: t[1]) }
        try checkGradients(of: [x, w, b], "groupNorm") { t in try groupNorm(t[0], groups: 2, weight: t[1], bias: t[2]) }
        try checkGradients(of: [x], "localResponseNorm") { t in try localResponseNorm(t[0], size: 3, alpha: 0.3, beta: 0.7, k: 1.5) }
        try checkGradients(of: [x], "mish") { t in t[0].mish() }
        try checkGradients(of: [x], "softplus") { t in try t[0].softplus(beta: 1.5) }
        try checkGradients(of: [x], "elu") { t in t[0].elu(alpha: 0.8) }
    }

    @Test func channelDropoutDropsWholeMaps() throws {
        var g = SeededGenerator(seed: 4)
        let x = try Tensor(shape: [8, 16, 3, 3], scalars: [Float](repeating: 1, count: 8 * 16 * 9))
        let layer = try Dropout2d(probability: 0.5, seed: 9)
        let y = try layer(x)
        var dropped = 0
        for map in 0..<(8 * 16) {
            let values = Set(y.scalars[(map * 9)..<(map * 9 + 9)])
            #expect(values == [0] || values == [2], "map \(map): \(values)")
            if values == [0] { dropped += 1 }
        }
        #expect((32...96).contains(dropped), "\(dropped) of 128 maps dropped at p = 0.5")
        layer.isTraining = false
        #expect(try layer(x).scalars == x.scalars)
        #expect(try channelDropout(x, probability: 1, training: true, using: &g).scalars.allSatisfy { $0 == 0 })
    }

    @Test func badArgumentsAreRefused() throws {
        let x = try Tensor.zeros([2, 4, 3, 3])
        expectError(containing: "divide the 4 channels") { try groupNorm(x, groups: 3) }
        expectError(containing: "divide channels") { try GroupNorm(groups: 0, channels: 4) }
        expectError(containing: "must be finite and non-zero") { try x.celu(alpha: 0) }
        expectError(containing: "min must be below max") { try x.hardtanh(min: 1, max: 1) }
        expectError(containing: "min must be below max") { try x.hardtanh(min: .nan, max: 1) }
        expectError(containing: "must be finite and non-zero") { try x.softplus(beta: .infinity) }
        expectError(containing: "weight must have 1 value or 4") { try prelu(x, weight: try Tensor.zeros([3])) }
        expectError(containing: "must be in") { try PReLU(parameters: 0) }
        expectError(containing: "k > 0") { try localResponseNorm(x, size: 3, k: 0) }
        expectError(containing: "size") { try localResponseNorm(x, size: 0) }
        expectError(containing: "r² dividing") { try pixelShuffle(x, upscaleFactor: 3) }
        expectError(containing: "r² dividing") { try pixelShuffle(x, upscaleFactor: Int.max) }
        expectError(containing: "1 or 4 non-negative") { try Pad2d([1, 2]) }
        expectError(containing: "1 or 4 non-negative") { try Pad2d([-1]) }
        expectError(containing: "has no forward") { try ModuleList([ReLU()])(x) }
        expectError(containing: "must be in [0, 1]") { try Dropout2d(probability: 2) }
        let list = ModuleList([try Linear(2, 3), ReLU()])
        #expect(list.namedState().map(\.name) == ["0.weight", "0.bias"])
    }
}
