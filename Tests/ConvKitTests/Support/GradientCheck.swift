import ConvKit
import Testing

/// Compares autograd gradients with central finite differences.
///
/// The scalar objective is L = Σ f(inputs) ⊙ r for a fixed random r, accumulated in Double
/// so that the finite differences (step `epsilon`) are not drowned by float32 rounding of
/// the sum. Every element of every input is perturbed; keep the inputs small.
func checkGradients(
    of inputs: [Tensor], epsilon: Float = 1e-2, rtol: Float = 1e-2, atol: Float = 1e-3,
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    for t in inputs { t.requiresGrad = true; t.zeroGrad() }
    let probe = try withGradientsDisabled { try f(inputs) }
    var generator = SeededGenerator(seed: 99)
    let r = try Tensor.randomNormal(probe.shape, using: &generator)
    let out = try f(inputs)
    try (out * r).sum().backward()

    func objective() throws -> Double {
        let y = try withGradientsDisabled { try f(inputs) }
        return zip(y.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (n, t) in inputs.enumerated() {
        let analytic = try #require(t.grad, "\(what): input \(n) got no gradient", sourceLocation: sourceLocation)
        var numeric = [Float](repeating: 0, count: t.count)
        for i in 0..<t.count {
            let original = t.scalars[i]
            var s = t.scalars
            s[i] = original + epsilon
            try t.assign(s)
            let plus = try objective()
            s[i] = original - epsilon
            try t.assign(s)
            let minus = try objective()
            s[i] = original
            try t.assign(s)
            numeric[i] = Float((plus - minus) / (2 * Double(epsilon)))
        }
        expectClose(analytic, try Tensor(shape: t.shape, scalars: numeric), rtol: rtol, atol: atol,
                    "\(what): gradient of input \(n)", sourceLocation: sourceLocation)
    }
}
