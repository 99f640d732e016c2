/// One recorded operation: its inputs and the function that maps the gradient of its
/// output to the gradients of its inputs (`nil` for inputs that need none).
///
/// Backward closures must not capture the output tensor itself (that would be a
/// reference cycle); capture its `scalars` instead.
final class GradNode {
    let name: String
    /// Cleared only while an unreferenced graph is torn down (see `Tensor.deinit`).
    var inputs: [Tensor]
    var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// The result of an op: recorded on the tape when recording is on and any input
    /// requires a gradient, plain otherwise.
    static func result(
        shape: [Int], scalars: [Float], op: String, inputs: [Tensor],
        backward: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        if GradMode.isEnabled && inputs.contains(where: \.requiresGrad) {
            return Tensor(uncheckedShape: shape, scalars: scalars,
                          node: GradNode(name: op, inputs: inputs, backward: backward))
        }
        return Tensor(uncheckedShape: shape, scalars: scalars)
    }

    /// Computes the gradient of this tensor with respect to every leaf that requires one,
    /// adding it to their `grad`.
    ///
    /// - Parameter gradient: the upstream gradient, of this tensor's shape; may be omitted
    ///   for a one-element tensor (it is then 1).
    /// - Throws: `ConvKitError.autograd` when the tensor does not require a gradient, or
    ///   when `gradient` is missing for a non-scalar or has the wrong shape.
    public func backward(gradient: Tensor? = nil) throws {
        try backward(gradient: gradient, whenLeafDone: nil)
    }

    /// `backward(gradient:)`, calling `whenLeafDone` with each leaf as soon as its gradient for
    /// this pass is complete (a leaf is reached only after every op that used it), while the
    /// rest of the pass still runs: data-parallel training starts reducing gradients there.
    func backward(gradient: Tensor?, whenLeafDone: ((Tensor) -> Void)?) throws {
        guard requiresGrad else {
            throw ConvKitError.autograd(
                message: "tensor of shape \(shape) does not require grad and has no recorded history")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else {
                throw ConvKitError.autograd(
                    message: "gradient has shape \(gradient.shape) but the tensor has shape \(shape)")
            }
            seed = gradient
        } else {
            guard count == 1 else {
                throw ConvKitError.autograd(
                    message: "gradient can be implicit only for one-element tensors, got shape \(shape)")
            }
            seed = Tensor(uncheckedShape: shape, scalars: [1])
        }

        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        withGradientsDisabled {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.node else {
                    t.accumulateGrad(g)
                    whenLeafDone?(t)
                    continue
                }
                if t.retainsGrad { t.accumulateGrad(g) }
                guard let backward = node.backward else { continue }
                let inputGrads = backward(g)
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    let key = ObjectIdentifier(input)
                    if let acc = grads[key] {
                        // A tensor used twice (a residual block's input): the sum by the elementwise
                        // kernel (both cores, no copy of `acc` first; a copy and a scalar loop were 3.6 %
                        // of a ResNet-18 training step).
                        grads[key] = Tensor(uncheckedShape: input.shape, scalars: Tensor.broadcastMap(acc, ig, to: input.shape, .add))
                    } else {
                        grads[key] = ig
                    }
                }
            }
        }
    }

    /// Tensors reachable from `self` through recorded nodes, each after all its inputs.
    /// Iterative, so deep graphs cannot overflow the stack.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded {
                order.append(t)
                continue
            }
            guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad
                && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
