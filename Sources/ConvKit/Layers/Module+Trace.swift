/// Records module calls while active, so `summary` can report every module's output
/// without the modules knowing about it. Containers call children through `forward(_:)`.
// @unchecked: a trace is created, filled and read by one task (see `summary`).
final class ModuleTrace: @unchecked Sendable {
    struct Call {
        let module: any Module
        let depth: Int
        let input: Tensor
        let output: Tensor
        /// Index of the first call made inside this one (children come before their parent).
        let firstInnerCall: Int
        /// Position in call order (parents before children).
        let entryOrder: Int
    }

    @TaskLocal static var current: ModuleTrace?
    private(set) var calls: [Call] = []
    private var depth = 0
    private var entries = 0

    func record(_ module: any Module, input: Tensor, body: () throws -> Tensor) rethrows -> Tensor {
        let first = calls.count
        let order = entries
        entries += 1
        depth += 1
        defer { depth -= 1 }
        let output = try body()
        calls.append(Call(module: module, depth: depth - 1, input: input, output: output, firstInnerCall: first, entryOrder: order))
        return output
    }
}

/// While active, replaces one module's output by a leaf that requires a gradient, so a
/// backward pass from the model's output fills `∂score/∂activation` (what pytorch-grad-cam's
/// forward and backward hooks collect). Gradients stop at the leaf: nothing before it is
/// differentiated.
// @unchecked: created, filled and read by one task (see `GradCAM`).
final class ModuleCapture: @unchecked Sendable {
    @TaskLocal static var current: ModuleCapture?
    let target: ObjectIdentifier
    /// The target's outputs, one per call, in call order.
    private(set) var outputs: [Tensor] = []

    init(_ module: any Module) { target = ObjectIdentifier(module) }

    func record(_ output: Tensor) -> Tensor {
        let leaf = Tensor(uncheckedShape: output.shape, scalars: output.scalars, requiresGrad: true)
        outputs.append(leaf)
        return leaf
    }
}

/// Whether a trace (`summary`, `namedOutputs`, fusion) or a capture (Grad-CAM) is watching module
/// calls: a block that would otherwise fuse a convolution with the ops after it calls its modules
/// one by one then, so that each one's own output is seen.
var moduleCallsObserved: Bool { ModuleTrace.current != nil || ModuleCapture.current != nil }

extension Module {
    /// Applies the module, reporting the call to an active summary trace. Containers call
    /// their children through this; users can call the module directly.
    public func forward(_ input: Tensor) throws -> Tensor {
        if let capture = ModuleCapture.current, capture.target == ObjectIdentifier(self) { return capture.record(try self(input)) }
        guard let trace = ModuleTrace.current else { return try self(input) }
        return try trace.record(self, input: input) { try self(input) }
    }
}

extension Module {
    /// Every module's output for one input, by its dotted path in the module tree (the names of
    /// `named_modules()`; what PyTorch's forward hooks would collect), in the order the calls
    /// finished (children before their parents). A module called twice appears twice.
    public func namedOutputs(_ input: Tensor) throws -> [(path: String, output: Tensor)] {
        let trace = ModuleTrace()
        _ = try ModuleTrace.$current.withValue(trace) { try withGradientsDisabled { try self.forward(input) } }
        var paths: [ObjectIdentifier: String] = [:]
        for (path, module) in namedModules() where paths[ObjectIdentifier(module)] == nil { paths[ObjectIdentifier(module)] = path }
        return trace.calls.compactMap { call in paths[ObjectIdentifier(call.module)].map { ($0, call.output) } }
    }
}
