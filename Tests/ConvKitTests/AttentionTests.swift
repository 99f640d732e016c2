import ConvKit
import Foundation
import Testing

/// Attention, multi-head attention and the Vision Transformer against PyTorch
/// (scripts/generate_fixtures.py: attention.safetensors, vit_small.safetensors).
@Suite struct AttentionTests {
    @Test func scaledDotProductAttentionMatchesPyTorch() throws {
        let fx = try Fixture("attention")
        var checked = 0
        for i in fx.cases.indices where fx.cases[i]["op"]?.stringValue == "sdpa" {
            let c = fx.cases[i]
            let (q, k, v) = (try fx.required(i, "q", requiresGrad: true), try fx.required(i, "k", requiresGrad: true),
                             try fx.required(i, "v", requiresGrad: true))
            var mask: AttentionMask?
            if let m = try fx.tensor(i, "mask") { mask = c["mask"]?.stringValue == "bool" ? .allowed(m) : .additive(m) }
            let y = try scaledDotProductAttention(q, k, v, mask: mask, isCausal: c["causal"]!.bool,
                                                  scale: c["scale"]?.double.map { Float($0) })
            expectClose(y, try fx.required(i, "output"), "sdpa \(i) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(q.grad, try fx.required(i, "grad_q"), "sdpa \(i) grad q")
            expectClose(k.grad, try fx.required(i, "grad_k"), "sdpa \(i) grad k")
            expectClose(v.grad, try fx.required(i, "grad_v"), "sdpa \(i) grad v")
            checked += 1
        }
        #expect(checked == 5)
    }

    @Test func multiheadAttentionMatchesPyTorch() throws {
        let fx = try Fixture("attention")
        var checked = 0
        for i in fx.cases.indices where fx.cases[i]["op"]?.stringValue == "mha" {
            let c = fx.cases[i]
            var g = SeededGenerator(seed: 1)
            let mha = try MultiheadAttention(embedDim: c["embed"]!.intValue!, heads: c["heads"]!.intValue!, bias: c["bias"]!.bool,
                                             batchFirst: c["batch_first"]!.bool, using: &g)
            for (name, entry) in mha.namedState() { try entry.tensor.assign(try fx.required(i, "param." + name).scalars) }
            let query = try fx.required(i, "query", requiresGrad: true)
            let key = c["self"]!.bool ? query : try fx.required(i, "key", requiresGrad: true)
            let value = c["same_kv"]!.bool ? key : try fx.required(i, "value", requiresGrad: true)
            let padding = try fx.tensor(i, "key_padding_mask").map { AttentionMask.blocked($0) }
            let attn = try fx.tensor(i, "attn_mask").map { c["attn_mask"]?.stringValue == "float" ? AttentionMask.additive($0) : .blocked($0) }
            let (y, weights) = try mha.forward(query: query, key: key, value: value, keyPaddingMask: padding, needWeights: true,
                                               attentionMask: attn, averageWeights: c["average"]!.bool)
            expectClose(y, try fx.required(i, "output"), "mha \(i) output")
            expectClose(weights, try fx.required(i, "weights"), "mha \(i) weights")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(query.grad, try fx.required(i, "grad_query"), "mha \(i) grad query")
            if !c["self"]!.bool { expectClose(key.grad, try fx.required(i, "grad_key"), "mha \(i) grad key") }
            if !c["same_kv"]!.bool { expectClose(value.grad, try fx.required(i, "grad_value"), "mha \(i) grad value") }
            for (name, tensor) in mha.namedParameters() {
                expectClose(tensor.grad, try fx.required(i, "grad." + name), "mha \(i) grad \(name)")
            }
            checked += 1
        }
        #expect(checked == 4)
    }

    /// Central differences of Σ dy·y for query, key and value, with a causal mask.
    @Test func attentionGradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 11)
        let inputs = try [[2, 4, 3], [2, 4, 3], [2, 4, 2]].map { try Tensor.randomNormal($0, using: &rng) }
        let dy = try Tensor.randomNormal([2, 4, 2], using: &rng)
        func loss(_ t: [Tensor]) throws -> Tensor {
            try (try scaledDotProductAttention(t[0], t[1], t[2], isCausal: true) * dy).sum()
        }
        for x in inputs { x.requiresGrad = true }
        try loss(inputs).backward()
        for (n, x) in inputs.enumerated() {
            let analytic = try #require(x.grad).scalars
            for j in 0..<x.count {
                var plus = x.scalars, minus = x.scalars
                plus[j] += 1e-2
                minus[j] -= 1e-2
                func at(_ values: [Float]) throws -> Float {
                    var t = inputs.map { try! Tensor(shape: $0.shape, scalars: $0.scalars) }
                    t[n] = try Tensor(shape: x.shape, scalars: values)
                    return try withGradientsDisabled { try loss(t).scalars[0] }
                }
                let numeric = (try at(plus) - (try at(minus))) / 2e-2
                #expect(Swift.abs(numeric - analytic[j]) <= 2e-3 + 2e-2 * Swift.abs(numeric), "input \(n)[\(j)]: \(numeric) vs \(analytic[j])")
            }
        }
    }

    @Test func attentionRefusesWhatDoesNotFit() throws {
        let q = try Tensor.zeros([2, 3, 4]), k = try Tensor.zeros([2, 5, 4]), v = try Tensor.zeros([2, 5, 6])
        expectError(containing: "must agree") { try scaledDotProductAttention(q, try Tensor.zeros([2, 5, 3]), v) }
        expectError(containing: "must agree") { try scaledDotProductAttention(q, k, try Tensor.zeros([2, 4, 6])) }
        expectError(containing: "same rank") { try scaledDotProductAttention(try Tensor.zeros([4]), k, v) }
        expectError(containing: "must be finite") { try scaledDotProductAttention(q, k, v, scale: .nan) }
        expectError(containing: "not both") { try scaledDotProductAttention(q, k, v, mask: .allowed(try Tensor.zeros([3, 5])), isCausal: true) }
        var g = SeededGenerator(seed: 0)
        expectError(containing: "multiple of heads") { try MultiheadAttention(embedDim: 10, heads: 3, using: &g) }
        expectError(containing: "multiple of heads") { try MultiheadAttention(embedDim: 0, heads: 0, using: &g) }
        expectError(containing: "must be in [0, 1]") { try MultiheadAttention(embedDim: 8, heads: 2, dropout: .nan, using: &g) }
        let mha = try MultiheadAttention(embedDim: 8, heads: 2, batchFirst: true, using: &g)
        expectError(containing: "(N, L, 8)") { try mha(try Tensor.zeros([2, 3, 7])) }
        expectError(containing: "keyPaddingMask must be") {
            try mha.forward(query: try Tensor.zeros([2, 3, 8]), key: try Tensor.zeros([2, 3, 8]), value: try Tensor.zeros([2, 3, 8]),
                            keyPaddingMask: .blocked(try Tensor.zeros([3, 2])))
        }
        expectError(containing: "patchSize") { try VisionTransformer(imageSize: 28, patchSize: 5, layers: 1, heads: 1, hiddenDim: 4, mlpDim: 4) }
        expectError(containing: "expects (N, C, 28, 28)") {
            try Zoo.vitMNIST()(try Tensor.zeros([1, 1, 32, 32]))
        }
    }

    /// torchvision's VisionTransformer code at small sizes, weights saved by PyTorch: the same logits.
    @Test func visionTransformerMatchesTorchvision() throws {
        let file = try SafeTensors(contentsOf: fixtureURL("vit_small.safetensors").path)
        let vit = try VisionTransformer(imageSize: 32, patchSize: 8, layers: 2, heads: 2, hiddenDim: 16, mlpDim: 24, classes: 5)
        vit.eval()
        let state = vit.namedState()
        #expect(state.count == file.names.filter { $0.hasPrefix("state.") }.count)
        for (name, entry) in state { try entry.tensor.assign(try file.tensor("state." + name).scalars) }
        let y = try withGradientsDisabled { try vit(try file.tensor("input")) }
        expectClose(y, try file.tensor("output"), rtol: 1e-4, atol: 1e-4, "ViT logits")
    }
}
