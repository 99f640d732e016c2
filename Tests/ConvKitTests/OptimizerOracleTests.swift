import ConvKit
import Foundation
import Testing

/// SGD, Adam and AdamW against torch.optim on five steps with given gradients, and the
/// learning-rate schedules against their formulas.
@Suite struct OptimizerOracleTests {
    @Test func optimizersMatchTorchOptim() throws {
        let fixture = try Fixture("optimizers")
        let steps = Int(fixture.file.metadata["steps"] ?? "0") ?? 0
        #expect(fixture.cases.count == 8 && steps == 5)
        for (i, c) in fixture.cases.enumerated() {
            let p = try fixture.required(i, "initial", requiresGrad: true)
            func number(_ key: String, _ fallback: Float) -> Float { c[key]?.double.map { Float($0) } ?? fallback }
            let betas = c["betas"]?.arrayValue?.compactMap(\.double).map { Float($0) } ?? [0.9, 0.999]
            let optimizer: any Optimizer
            switch c["kind"]?.stringValue {
            case "sgd":
                optimizer = try SGD(parameters: [p], learningRate: number("lr", 0), momentum: number("momentum", 0),
                                    dampening: number("dampening", 0), weightDecay: number("weight_decay", 0),
                                    nesterov: c["nesterov"]?.bool ?? false)
            case "adam":
                optimizer = try Adam(parameters: [p], learningRate: number("lr", 0), beta1: betas[0], beta2: betas[1],
                                     eps: number("eps", 1e-8), weightDecay: number("weight_decay", 0))
            default:
                optimizer = try AdamW(parameters: [p], learningRate: number("lr", 0), beta1: betas[0], beta2: betas[1],
                                      eps: number("eps", 1e-8), weightDecay: number("weight_decay", 0.01))
            }
            for s in 0..<steps {
                optimizer.zeroGrad()
                try (p * (try fixture.required(i, "grad\(s)"))).sum().backward()  // grad = the fixture's gradient
                try optimizer.step()
                expectClose(p, try fixture.required(i, "after\(s)"), rtol: 1e-5, atol: 1e-6, "case \(i) \(c) step \(s)")
            }
        }
    }

    @Test func optimizerStateRoundTrips() throws {
        let p = try Tensor([1, 2, 3], requiresGrad: true)
        let adam = try Adam(parameters: [p], learningRate: 0.1)
        try (p * p).sum().backward()
        try adam.step()
        let copy = try Adam(parameters: [try Tensor([1, 2, 3])], learningRate: 0.1)
        try copy.loadStateArrays(Dictionary(uniqueKeysWithValues: adam.stateArrays()))
        #expect(copy.stepCount == 1)
        #expect(copy.stateArrays().map(\.1) == adam.stateArrays().map(\.1))
        expectError(containing: "Adam: state has no 'exp_avg.0'") { try copy.loadStateArrays(["step": [1]]) }
        expectError(containing: "SGD: nesterov requires momentum > 0") {
            try SGD(parameters: [p], learningRate: 0.1, nesterov: true)
        }
    }

    @Test func schedulesFollowTheirFormulas() {
        #expect(LearningRateSchedule.step(stepSize: 10, gamma: 0.5).rate(at: 25, base: 0.8) == 0.2)
        let cosine = LearningRateSchedule.cosine(totalSteps: 100, minimum: 0.1)
        #expect(cosine.rate(at: 0, base: 1) == 1)
        #expect(Swift.abs(cosine.rate(at: 50, base: 1) - 0.55) < 1e-6)
        #expect(Swift.abs(cosine.rate(at: 100, base: 1) - 0.1) < 1e-6)
        // OneCycleLR(max_lr=1, total_steps=100): starts at 1/25, peaks at step 29, ends at 1/25/1e4.
        let oneCycle = LearningRateSchedule.oneCycle(maxRate: 1, totalSteps: 100)
        #expect(Swift.abs(oneCycle.rate(at: 0, base: 0) - 0.04) < 1e-6)
        #expect(Swift.abs(oneCycle.rate(at: 29, base: 0) - 1) < 1e-6)
        #expect(Swift.abs(oneCycle.rate(at: 99, base: 0) - 4e-6) < 1e-9)
        let warmup = LearningRateSchedule.warmupCosine(warmupSteps: 4, totalSteps: 10)
        #expect(warmup.rate(at: 0, base: 1) == 0.25 && warmup.rate(at: 3, base: 1) == 1)
    }

    @Test func gradientClippingScalesToTheNorm() throws {
        let p = try Tensor([3, 4], requiresGrad: true)
        try (p * p).sum().backward()  // grad (6, 8), norm 10
        #expect(clipGradientNorm([p], maxNorm: 5) == 10)
        let g = try #require(p.grad).scalars
        #expect(Swift.abs(g[0] - 3) < 1e-5 && Swift.abs(g[1] - 4) < 1e-5)
        clipGradientValue([p], maxValue: 3.5)
        let clamped = try #require(p.grad).scalars
        #expect(Swift.abs(clamped[0] - 3) < 1e-5 && clamped[1] == 3.5)
    }
}
