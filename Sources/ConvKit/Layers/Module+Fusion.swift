import Foundation

extension Module {
    /// Folds every batch norm that takes a convolution's output straight into that convolution,
    /// as PyTorch's `fuse_conv_bn_eval` does: per output channel k, with s_k = γ_k / √(σ²_k + ε),
    /// W'_k = s_k · W_k and b'_k = s_k · (b_k − μ_k) + β_k; the batch norm then passes its input
    /// through. One pass over memory and one op fewer per pair, the same numbers within float
    /// rounding. Then, where a ReLU or ReLU6 is the only use of such a (folded) output, the
    /// convolution clamps its output as it stores it (`Convolution.fusedActivation`) and the
    /// activation passes it through: one more pass and one activation-sized array fewer.
    ///
    /// For inference only, in place: the model is put in evaluation mode, a folded batch norm
    /// refuses training mode, and the state (convolution biases added, folded weights) is no
    /// longer the trained model's — save weights before fusing.
    /// - Parameter exampleInput: a batch the model takes; one forward pass finds which
    ///   convolution feeds which batch norm, and a second checks the fused output against it.
    /// - Returns: the paths of the folded batch norms, in call order.
    /// - Throws: `ConvKitError.invalidArgument` when the fused output differs from the
    ///   unfused one by more than 1e-3 of its largest value (a convolution's output also used
    ///   elsewhere); the model is then restored as it was.
    @discardableResult
    public func fuseForInference(exampleInput: Tensor) throws -> [String] {
        eval()
        let trace = ModuleTrace()
        let reference = try ModuleTrace.$current.withValue(trace) { try withGradientsDisabled { try self(exampleInput) } }
        let calls = trace.calls
        let callCounts = Dictionary(calls.map { (ObjectIdentifier($0.module), 1) }, uniquingKeysWith: +)
        var paths: [ObjectIdentifier: String] = [:]
        for (path, module) in namedModules() where paths[ObjectIdentifier(module)] == nil { paths[ObjectIdentifier(module)] = path }
        // A batch norm whose input is the very tensor a convolution returned; each called once (no shared weights).
        let pairs: [(conv: Convolution, bn: BatchNorm)] = calls.compactMap { call in
            guard let bn = call.module as? BatchNorm, !bn.isFolded, callCounts[ObjectIdentifier(bn)] == 1,
                  let producer = calls.first(where: { $0.output === call.input }), let conv = producer.module as? Convolution,
                  callCounts[ObjectIdentifier(conv)] == 1, conv.outChannels == bn.runningMean.count else { return nil }
            return (conv, bn)
        }
        let activations = try fusibleActivations(exampleInput: exampleInput, folded: pairs.map(\.bn))
        let saved = pairs.map { (weight: $0.conv.weight.scalars, bias: $0.conv.bias) }
        for (conv, bn) in pairs { try fold(bn, into: conv) }
        for (conv, activation) in activations { conv.fusedActivation = activation }
        let fused = try withGradientsDisabled { try self(exampleInput) }
        let scale = reference.scalars.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
        let difference = zip(fused.scalars, reference.scalars).reduce(Float(0)) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
        guard fused.shape == reference.shape, difference <= 1e-3 * Swift.max(scale, 1) else {
            for ((conv, bn), s) in zip(pairs, saved) {
                try conv.weight.assign(s.weight)
                conv.bias = s.bias
                bn.isFolded = false
            }
            for (conv, _) in activations { conv.fusedActivation = nil }
            throw ConvKitError.invalidArgument(op: "fuseForInference", argument: "model",
                                               message: "folding changed the output by \(difference) (largest value \(scale)); a convolution's output is used elsewhere too, so nothing was folded")
        }
        return pairs.map { paths[ObjectIdentifier($0.bn)] ?? "" }
    }
}

extension Module {
    /// The convolutions (called once) whose output, or the output of the batch norm in `folded`
    /// that takes it, has exactly one use in the recorded graph of a forward pass, a ReLU or a
    /// ReLU6 (a module or a tensor method: the graph sees both), with the bounds to clamp to.
    /// A residual block's last convolution, whose output is added to the shortcut first, is not one.
    fileprivate func fusibleActivations(exampleInput: Tensor, folded: [BatchNorm]) throws -> [(Convolution, OutputClamp)] {
        guard GradMode.isEnabled else { return [] }  // no graph to read: nothing fused
        let trace = ModuleTrace()
        // The first item only: the graph's shape does not depend on the batch, its memory does.
        var shape = exampleInput.shape
        if shape.count > 1, shape[0] > 1 { shape[0] = 1 }
        let input = Tensor(uncheckedShape: shape, scalars: Array(exampleInput.scalars.prefix(shape.reduce(1, *))), requiresGrad: true)
        let output = try ModuleTrace.$current.withValue(trace) { try self(input) }
        // Every recorded op reachable from the output: how often each tensor is used, and by what.
        var uses: [ObjectIdentifier: [String]] = [:], seen: Set<ObjectIdentifier> = [], stack = [output]
        while let tensor = stack.popLast() {
            guard let node = tensor.node, seen.insert(ObjectIdentifier(tensor)).inserted else { continue }
            for operand in node.inputs {
                uses[ObjectIdentifier(operand), default: []].append(node.name)
                stack.append(operand)
            }
        }
        let callCounts = Dictionary(trace.calls.map { (ObjectIdentifier($0.module), 1) }, uniquingKeysWith: +)
        let foldedIDs = Set(folded.map { ObjectIdentifier($0) })
        return trace.calls.compactMap { call in
            guard let conv = call.module as? Convolution, conv.fusedActivation == nil,
                  callCounts[ObjectIdentifier(conv)] == 1 else { return nil }
            var result = call.output
            if let norm = trace.calls.first(where: { $0.input === call.output && foldedIDs.contains(ObjectIdentifier($0.module)) }) {
                guard uses[ObjectIdentifier(call.output)]?.count == 1 else { return nil }
                result = norm.output
            }
            guard result !== output, let only = uses[ObjectIdentifier(result)], only.count == 1 else { return nil }
            switch only[0] {
            case "relu": return (conv, .relu)
            case "relu6": return (conv, .relu6)
            default: return nil
            }
        }
    }
}

/// W'_k = s_k · W_k, b'_k = s_k · (b_k − μ_k) + β_k with s_k = γ_k / √(σ²_k + ε), in double.
private func fold(_ bn: BatchNorm, into conv: Convolution) throws {
    let k = conv.outChannels, per = conv.weight.count / k
    var weight = conv.weight.scalars, bias = conv.bias?.scalars ?? [Float](repeating: 0, count: k)
    for c in 0..<k {
        let s = Double(bn.weight?.scalars[c] ?? 1) / (Double(bn.runningVar.scalars[c]) + Double(bn.eps)).squareRoot()
        for i in (c * per)..<((c + 1) * per) { weight[i] = Float(Double(weight[i]) * s) }
        bias[c] = Float(s * (Double(bias[c]) - Double(bn.runningMean.scalars[c])) + Double(bn.bias?.scalars[c] ?? 0))
    }
    try conv.weight.assign(weight)
    if let existing = conv.bias { try existing.assign(bias) } else { conv.bias = Tensor(uncheckedShape: [k], scalars: bias) }
    bn.isFolded = true
}
