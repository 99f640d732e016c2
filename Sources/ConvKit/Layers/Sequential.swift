/// Builds a list of modules from a block of module expressions (with `if`, `for`).
@resultBuilder
public enum ModuleBuilder {
    public static func buildExpression(_ m: any Module) -> [any Module] { [m] }
    public static func buildExpression(_ ms: [any Module]) -> [any Module] { ms }
    public static func buildBlock(_ parts: [any Module]...) -> [any Module] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Module]?) -> [any Module] { part ?? [] }
    public static func buildEither(first part: [any Module]) -> [any Module] { part }
    public static func buildEither(second part: [any Module]) -> [any Module] { part }
    public static func buildArray(_ parts: [[any Module]]) -> [any Module] { parts.flatMap { $0 } }
}

/// `nn.Sequential`: applies its layers in order. Children are named "0", "1", … as in
/// PyTorch, unless names are given (as `nn.Sequential(OrderedDict(...))`).
public final class Sequential: Module {
    /// The layers with their names.
    public private(set) var layers: [(name: String, module: any Module)]

    /// The name shown in summaries (`ResNet-18`); `nil` shows "Sequential".
    public var name: String?

    /// Layers named by position.
    public init(_ layers: [any Module]) {
        self.layers = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Layers named by position, from a builder block:
    /// `Sequential { try Conv2d(1, 32, kernelSize: 3); ReLU() }`.
    public convenience init(@ModuleBuilder _ content: () throws -> [any Module]) rethrows {
        self.init(try content())
    }

    /// Layers with explicit names.
    public init(named layers: [(String, any Module)], name: String? = nil) {
        self.layers = layers.map { ($0.0, $0.1) }
        self.name = name
    }

    /// Appends a layer named by its position (or by `name`).
    public func append(_ module: any Module, name: String? = nil) {
        layers.append((name ?? String(layers.count), module))
    }

    public var count: Int { layers.count }
    public subscript(index: Int) -> any Module { layers[index].module }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = input, i = 0
        while i < layers.count {
            // Batch norm then ReLU (VGG-BN's and ResNet's stems): one layer's passes (`forwardThenReLU`).
            if let norm = layers[i].module as? BatchNorm, i + 1 < layers.count, layers[i + 1].module is ReLU, !moduleCallsObserved {
                x = try norm.forwardThenReLU(x)
                i += 2
                continue
            }
            // A convolution and its ReLU: the ReLU clamps in the convolution's stores (recorded or
            // not, one op: `Convolution(_:then:)`); with a MaxPool2d(2) after a 2-D one, also one op
            // that pools each block of output lines as it is stored (`Convolution.pooled`, where it
            // takes the direct or Winograd path). A layer with a fused activation of its own runs
            // it, then the ReLU (a no-op on its known range when nothing is recorded).
            if let conv = layers[i].module as? Convolution, !moduleCallsObserved {
                let relu = i + 1 < layers.count && layers[i + 1].module is ReLU
                let own = relu && conv.fusedActivation == nil
                let p = i + (relu ? 2 : 1)
                if p < layers.count, let pool = layers[p].module as? MaxPool, pool.isTwoByTwo,
                   let y = try conv.pooled(x, then: own ? .relu : nil) {
                    x = relu && !own ? y.relu() : y
                    i = p + 1
                    continue
                }
                if own {
                    x = try conv(x, then: .relu)
                    i += 2
                    continue
                }
            }
            // ReLU then max pooling without padding: the pooling first, then ReLU on the pooled map.
            // relu(max(window)) = max(relu(window)), and the gradients agree too (a window whose
            // largest value is ≤ 0 passes none back either way): a quarter of the ReLU passes and
            // one full-size map fewer for 2 × 2 windows (VGG's and the course CNN's blocks).
            if layers[i].module is ReLU, i + 1 < layers.count, let pool = layers[i + 1].module as? MaxPool,
               pool.padding.values.allSatisfy({ $0 == 0 }), !moduleCallsObserved {
                x = try pool.forward(x).relu()
                i += 2
                continue
            }
            x = try layers[i].module.forward(x)
            i += 1
        }
        return x
    }

    /// The output of every layer in turn (for feature-map pictures and summaries).
    public func intermediateOutputs(_ input: Tensor) throws -> [Tensor] {
        var outputs: [Tensor] = []
        var x = input
        for (_, m) in layers {
            x = try m.forward(x)
            outputs.append(x)
        }
        return outputs
    }

    public var children: [(name: String, module: any Module)] { layers }
}

/// y = body(x) + shortcut(x) (shortcut: identity when `nil`), then `activation` if given —
/// the residual connection of ResNet and friends.
public final class Residual: Module {
    public let body: any Module
    public let shortcut: (any Module)?
    public let activation: (any Module)?

    public init(_ body: any Module, shortcut: (any Module)? = nil, activation: (any Module)? = nil) {
        self.body = body
        self.shortcut = shortcut
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let y = try body.forward(input) + (try shortcut?.forward(input) ?? input)
        return try activation?.forward(y) ?? y
    }

    public var children: [(name: String, module: any Module)] {
        [("body", body)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }
}

/// Applies each branch to the same input and concatenates the results along the channel
/// axis, as GoogLeNet's Inception modules.
public final class Concat: Module {
    public let branches: [(name: String, module: any Module)]

    public init(named branches: [(String, any Module)]) { self.branches = branches.map { ($0.0, $0.1) } }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Tensor.concatenate(branches.map { try $0.module.forward(input) }, axis: 1)
    }

    public var children: [(name: String, module: any Module)] { branches }
}

/// `nn.ModuleList`: holds modules under "0", "1", … for the state dict, without a forward of
/// its own (the model's code calls them). Calling it is an error, as in PyTorch.
public final class ModuleList: Module {
    public private(set) var modules: [any Module]
    public init(_ modules: [any Module] = []) { self.modules = modules }
    public func append(_ module: any Module) { modules.append(module) }
    public subscript(_ index: Int) -> any Module { modules[index] }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        throw ConvKitError.invalidArgument(op: "ModuleList", argument: "input",
                                           message: "a ModuleList holds modules but has no forward; call its modules (or use Sequential)")
    }
    public var children: [(name: String, module: any Module)] { modules.enumerated().map { ("\($0.offset)", $0.element) } }
}
