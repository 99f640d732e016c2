/// A neural-network building block: callable on a tensor, holding named state (learnable
/// parameters and buffers) and named child modules, like PyTorch's `nn.Module`.
///
/// Names compose with dots exactly as PyTorch's `state_dict()` keys do (`0.weight`,
/// `layer1.0.bn1.running_mean`), so weights saved by either library load into the other.
public protocol Module: AnyObject {
    /// Applies the module.
    func callAsFunction(_ input: Tensor) throws -> Tensor
    /// The direct submodules with their names, in registration order.
    var children: [(name: String, module: any Module)] { get }
    /// This module's own state (not its children's), in registration order.
    var localState: [StateEntry] { get }
}

/// One named tensor of a module's state.
public struct StateEntry {
    /// What the tensor is for; decides whether optimizers see it and how it is saved.
    public enum Kind: Sendable, Equatable {
        /// Learnable; `requiresGrad` is set; saved as F32.
        case parameter
        /// Updated by the module itself (batch-norm running statistics); saved as F32.
        case buffer
        /// An integer count kept in a float tensor (`num_batches_tracked`); saved as I64.
        case counter
    }

    /// The name within its module (`weight`, `running_mean`).
    public let name: String
    /// The tensor, updated in place by optimizers and loaders.
    public let tensor: Tensor
    /// What the tensor is for.
    public let kind: Kind

    /// Creates an entry.
    public init(_ name: String, _ tensor: Tensor, kind: Kind = .parameter) {
        self.name = name
        self.tensor = tensor
        self.kind = kind
    }
}

/// A module whose behaviour differs between training and evaluation (dropout, batch norm).
public protocol ModeDependent: Module {
    /// Whether the module behaves as in training.
    var isTraining: Bool { get set }
}

extension Module {
    public var children: [(name: String, module: any Module)] { [] }
    public var localState: [StateEntry] { [] }

    /// Every module of the tree with its dotted path, depth first, parents before children
    /// (PyTorch's `named_modules()`); the root's path is "".
    public func namedModules() -> [(path: String, module: any Module)] {
        var result: [(path: String, module: any Module)] = []
        func visit(_ m: any Module, _ path: String) {
            result.append((path, m))
            for (name, child) in m.children { visit(child, path.isEmpty ? name : "\(path).\(name)") }
        }
        visit(self, "")
        return result
    }

    /// Every state entry of the tree with its full dotted name, in `state_dict()` order.
    public func namedState() -> [(name: String, entry: StateEntry)] {
        namedModules().flatMap { path, m in
            m.localState.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0) }
        }
    }

    /// The learnable parameters with their dotted names.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        namedState().filter { $0.entry.kind == .parameter }.map { ($0.name, $0.entry.tensor) }
    }

    /// The learnable parameters (what an optimizer updates).
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    /// The number of learnable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Puts every mode-dependent module of the tree in training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        for (_, m) in namedModules() { (m as? any ModeDependent)?.isTraining = training }
    }

    /// Puts the tree in evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// Whether the tree is in training mode (the first mode-dependent module's flag;
    /// `true` for a tree with none, as PyTorch's default).
    public var isInTrainingMode: Bool {
        namedModules().lazy.compactMap { ($0.module as? any ModeDependent)?.isTraining }.first ?? true
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}
