import ConvKit
import Foundation
import Testing

/// Activations, softmax, losses, normalisation and basic ops against PyTorch.
@Suite struct ElementwiseOracleTests {
    @Test func activationsMatchPyTorch() throws {
        let fx = try Fixture("activation")
        let ops: [String: (Tensor) throws -> Tensor] = [
            "relu": { $0.relu() }, "relu6": { $0.relu6() }, "leaky_relu": { $0.leakyRelu(negativeSlope: 0.1) },
            "sigmoid": { $0.sigmoid() }, "tanh": { $0.tanh() }, "gelu": { $0.gelu() },
            "gelu_tanh": { $0.gelu(approximate: .tanh) }, "silu": { $0.silu() },
            "softmax1": { try $0.softmax(axis: 1) }, "log_softmax1": { try $0.logSoftmax(axis: 1) },
            "softmax_last": { try $0.softmax() }, "log_softmax_last": { try $0.logSoftmax() },
        ]
        #expect(fx.cases.count == ops.count)
        for i in fx.cases.indices {
            let name = fx.cases[i]["op"]!.stringValue!
            let f = try #require(ops[name], "no ConvKit op for \(name)")
            let x = try fx.required(i, "input", requiresGrad: true)
            let y = try f(x)
            expectClose(y, try fx.required(i, "output"), "\(name) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(name) grad input")
        }
    }

    /// Logits near 1e4 (where exp(x − logsumexp) with the log-sum rounded to float32 lost
    /// ~5e-4): softmax and logSoftmax within float32 rounding of their Double values.
    @Test func softmaxOfLargeLogits() throws {
        for base in [0.0, 1e4, -1e4, 3e7] {
            let logits = (0..<7).map { base + Double($0) * 0.37 - 1 }
            let m = logits.max()!
            let x = try Tensor(shape: [1, 7], scalars: logits.map(Float.init))
            let p = try x.softmax(axis: 1).scalars, lp = try x.logSoftmax(axis: 1).scalars
            for j in 0..<7 {
                // The reference from the float32 logits the tensor holds.
                let xj = Double(Float(logits[j])), mj = Double(Float(m))
                let refSum = (0..<7).reduce(0.0) { $0 + Foundation.exp(Double(Float(logits[$1])) - mj) }
                let expected = Foundation.exp(xj - mj) / refSum, expectedLog = (xj - mj) - Foundation.log(refSum)
                #expect(Swift.abs(Double(p[j]) - expected) <= 2e-7 * Swift.max(expected, 1e-30) + 1e-12, "softmax at \(base), \(j)")
                #expect(Swift.abs(Double(lp[j]) - expectedLog) <= 1e-6 * Swift.max(Swift.abs(expectedLog), 1), "logSoftmax at \(base), \(j)")
            }
        }
    }

    @Test func lossesMatchPyTorch() throws {
        let fx = try Fixture("loss")
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let x = try fx.required(i, "input", requiresGrad: true)
            let reduction = Reduction(rawValue: c["reduction"]!.stringValue!)!
            let y: Tensor
            var target: Tensor?
            switch c["op"]!.stringValue! {
            case "cross_entropy":
                y = try crossEntropy(x, targets: try fx.integers(i, "targets"),
                                     labelSmoothing: Float(c["label_smoothing"]!.double!), reduction: reduction)
            case "nll":
                y = try nllLoss(x, targets: try fx.integers(i, "targets"), reduction: reduction)
            default:
                target = try fx.required(i, "target", requiresGrad: true)
                y = try mseLoss(x, target: target!, reduction: reduction)
            }
            let label = "case \(i) \(c.serialized)"
            expectClose(y, try fx.required(i, "output"), "\(label) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
            if let target { expectClose(target.grad, try fx.required(i, "grad_target"), "\(label) grad target") }
        }
    }

    @Test func normalizationMatchesPyTorch() throws {
        let fx = try Fixture("norm")
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let label = "case \(i) \(c.serialized)"
            let x = try fx.required(i, "input", requiresGrad: true)
            let w = try fx.tensor(i, "weight", requiresGrad: true), b = try fx.tensor(i, "bias", requiresGrad: true)
            let eps = Float(c["eps"]!.double!)
            let y: Tensor
            switch c["op"]!.stringValue! {
            case "batch_norm":
                let rm = try fx.required(i, "running_mean"), rv = try fx.required(i, "running_var")
                y = try batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: c["training"]!.bool,
                                  momentum: Float(c["momentum"]!.double!), eps: eps)
                expectClose(rm, try fx.required(i, "running_mean_after"), "\(label) running mean")
                expectClose(rv, try fx.required(i, "running_var_after"), "\(label) running var")
            case "layer_norm":
                y = try layerNorm(x, normalizedShape: c["normalized_shape"]!.ints, weight: w, bias: b, eps: eps)
            default:
                y = try layerNormChannels(x, weight: w, bias: b, eps: eps)
            }
            expectClose(y, try fx.required(i, "output"), "\(label) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
            if let w { expectClose(w.grad, try fx.required(i, "grad_weight"), "\(label) grad weight") }
            if let b { expectClose(b.grad, try fx.required(i, "grad_bias"), "\(label) grad bias") }
        }
    }

    @Test func basicOpsMatchPyTorch() throws {
        let fx = try Fixture("basic")
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let op = c["op"]!.stringValue!
            let label = "case \(i) \(c.serialized)"
            switch op {
            case "matmul", "add", "sub", "mul", "div":
                let a = try fx.required(i, "a", requiresGrad: true), b = try fx.required(i, "b", requiresGrad: true)
                let f: (Tensor, Tensor) throws -> Tensor = switch op {
                case "matmul": matmul
                case "add": (+)
                case "sub": (-)
                case "mul": (*)
                default: (/)
                }
                let y = try f(a, b)
                expectClose(y, try fx.required(i, "output"), "\(label) output")
                try y.backward(gradient: try fx.required(i, "grad_output"))
                expectClose(a.grad, try fx.required(i, "grad_a"), "\(label) grad a")
                expectClose(b.grad, try fx.required(i, "grad_b"), "\(label) grad b")
            case "linear":
                let x = try fx.required(i, "input", requiresGrad: true)
                let w = try fx.required(i, "weight", requiresGrad: true), b = try fx.required(i, "bias", requiresGrad: true)
                let y = try linear(x, weight: w, bias: b)
                expectClose(y, try fx.required(i, "output"), "\(label) output")
                try y.backward(gradient: try fx.required(i, "grad_output"))
                expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
                expectClose(w.grad, try fx.required(i, "grad_weight"), "\(label) grad weight")
                expectClose(b.grad, try fx.required(i, "grad_bias"), "\(label) grad bias")
            default:
                let x = try fx.required(i, "input", requiresGrad: true)
                let axes = c["axes"] == .null ? nil : c["axes"]!.ints
                let keep = c["keep_dims"]!.bool
                let y = op == "sum" ? try x.sum(axes: axes, keepingDims: keep) : try x.mean(axes: axes, keepingDims: keep)
                expectClose(y, try fx.required(i, "output"), "\(label) output")
                try y.backward(gradient: try fx.required(i, "grad_output"))
                expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
            }
        }
    }
}

@Suite struct NaNPropagationTests {
    /// As in PyTorch: relu(nan) = nan, relu6(nan) = nan, max pooling picks NaN.
    @Test func activationsAndPoolingPropagateNaN() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], scalars: [.nan, -1, 2, 7])
        #expect(x.relu().scalars[0].isNaN && x.relu().scalars[1] == 0)
        #expect(x.relu6().scalars[0].isNaN && x.relu6().scalars[3] == 6)
        #expect(x.leakyRelu().scalars[0].isNaN)
        #expect(try maxPool2d(x, kernelSize: 2).scalars[0].isNaN)
    }
}
