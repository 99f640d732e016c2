import Foundation

/// A torchinfo/Keras-style description of a model for one input shape: every module call
/// with its output shape, parameters, mult-adds and — what those tools lack — the
/// receptive field (size and jump, in input pixels) of the units of its output.
public struct ModelSummary: Sendable, Encodable {
    /// One module call, in call order (parents before children).
    public struct Row: Sendable, Encodable {
        /// Nesting depth (0 for the model's direct children).
        public let depth: Int
        /// The module's name in its parent (`conv1`, `0`) and its type (`Conv2d`).
        public let name: String, type: String
        /// The output shape, batch axis included.
        public let outputShape: [Int]
        /// Parameters of the module and its submodules.
        public let parameters: Int
        /// Multiply-adds of the module and its submodules for the summarised batch.
        public let multAdds: Int
        /// Receptive field per spatial axis: the side of the input region one output unit
        /// sees and the distance in input pixels between neighbouring units; `nil` when an
        /// output unit sees the whole input (after global pooling, flatten, linear).
        public let receptiveField: (size: [Int], jump: [Int])?
        /// Whether the module has submodules.
        public let isContainer: Bool

        enum CodingKeys: String, CodingKey {
            case depth, name, type, outputShape, parameters, multAdds, receptiveFieldSize, receptiveFieldJump, isContainer
        }
        /// `receptiveFieldSize` and `receptiveFieldJump` are null when a unit sees the whole input.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(depth, forKey: .depth)
            try c.encode(name, forKey: .name)
            try c.encode(type, forKey: .type)
            try c.encode(outputShape, forKey: .outputShape)
            try c.encode(parameters, forKey: .parameters)
            try c.encode(multAdds, forKey: .multAdds)
            try c.encode(receptiveField?.size, forKey: .receptiveFieldSize)
            try c.encode(receptiveField?.jump, forKey: .receptiveFieldJump)
            try c.encode(isContainer, forKey: .isContainer)
        }
    }

    public let modelName: String
    public let inputShape: [Int]
    public let rows: [Row]
    /// Learnable parameters.
    public let trainableParameters: Int
    /// Buffer scalars (batch-norm statistics…), not trained.
    public let bufferScalars: Int
    /// Multiply-adds of one forward pass of the summarised batch.
    public let totalMultAdds: Int
    /// Bytes of parameters and buffers (float32).
    public let parameterBytes: Int
    /// Bytes of every leaf module's output for the summarised batch (what training keeps for backward).
    public let activationBytes: Int
}

extension Module {
    /// Runs one forward pass of zeros of `inputShape` (batch axis included, e.g. [1, 3, 224, 224])
    /// in evaluation mode and describes every module call. The model's mode is restored.
    public func summary(inputShape: [Int]) throws -> ModelSummary {
        let trace = ModuleTrace()
        let wasTraining = isInTrainingMode
        eval()
        defer { train(wasTraining) }
        let input = try Tensor.zeros(inputShape)
        _ = try ModuleTrace.$current.withValue(trace) { try withGradientsDisabled { try self.forward(input) } }
        return ModelSummary(self, trace: trace, inputShape: inputShape)
    }
}

extension ModelSummary {
    fileprivate init(_ model: any Module, trace: ModuleTrace, inputShape: [Int]) {
        let names = Dictionary(model.namedModules().map { (ObjectIdentifier($0.module), $0.path) }, uniquingKeysWith: { a, _ in a })
        let calls = trace.calls
        let spatial = Swift.max(inputShape.count - 2, 0)
        var fields: [ObjectIdentifier: ReceptiveField] = [:]
        var callField: [ReceptiveField] = []
        var callMultAdds: [Int] = []
        // Work a container does itself besides its children's (attention's projections and products).
        let own = calls.map { ($0.module as? MultiheadAttention)?.ownMultAdds(input: $0.input) ?? 0 }
        var activation = 0
        var recent: [(spatialShape: [Int], field: ReceptiveField)] = []
        for call in calls {
            // A tensor made by an op between modules (a relu in a block's code, a concat) is
            // unknown: use the latest known output with the same spatial size.
            let inputField = fields[ObjectIdentifier(call.input)]
                ?? recent.last(where: { $0.spatialShape == Array(call.input.shape.dropFirst(2)) })?.field
                ?? ReceptiveField(axes: spatial)
            let isLeaf = call.module.children.isEmpty
            var field: ReceptiveField
            if isLeaf {
                field = inputField.after(call.module, input: call.input)
                callMultAdds.append(leafMultAdds(call.module, input: call.input, output: call.output))
                activation += call.output.count * 4
            } else {
                let inner = callField[call.firstInnerCall..<callField.count]
                field = fields[ObjectIdentifier(call.output)] ?? inner.reduce(inputField) { $0.union($1) }
                callMultAdds.append(0)
            }
            if call.output.rank != inputShape.count { field = .global }
            fields[ObjectIdentifier(call.output)] = field
            callField.append(field)
            recent.append((Array(call.output.shape.dropFirst(2)), field))
        }
        // Containers sum the mult-adds of the calls made inside them.
        for (i, call) in calls.enumerated() where !call.module.children.isEmpty {
            callMultAdds[i] = (call.firstInnerCall..<i).reduce(own[i]) { calls[$1].module.children.isEmpty ? $0 + callMultAdds[$1] : $0 + own[$1] }
        }
        let order = calls.indices.sorted { calls[$0].entryOrder < calls[$1].entryOrder }.dropFirst()  // drop the model itself
        rows = order.map { i in
            let call = calls[i]
            let path = names[ObjectIdentifier(call.module)] ?? "?"
            let rf = callField[i]
            return Row(depth: call.depth - 1, name: path.split(separator: ".").last.map(String.init) ?? path,
                       type: typeName(call.module), outputShape: call.output.shape, parameters: call.module.parameterCount,
                       multAdds: callMultAdds[i], receptiveField: rf.isGlobal ? nil : (rf.size, rf.jump),
                       isContainer: !call.module.children.isEmpty)
        }
        modelName = typeName(model)
        self.inputShape = inputShape
        let state = model.namedState()
        trainableParameters = model.parameterCount
        bufferScalars = state.filter { $0.entry.kind != .parameter }.reduce(0) { $0 + $1.entry.tensor.count }
        totalMultAdds = calls.indices.reduce(0) { $0 + (calls[$1].module.children.isEmpty ? callMultAdds[$1] : own[$1]) }
        parameterBytes = (trainableParameters + bufferScalars) * 4
        activationBytes = activation
    }

    /// The summary as an aligned text table.
    public var table: String {
        func count(_ n: Int) -> String { groupedDigits(n) }
        func rf(_ r: Row) -> String {
            guard let f = r.receptiveField else { return "global" }
            let size = Set(f.size).count == 1 ? "\(f.size[0])" : f.size.map(String.init).joined(separator: "×")
            let jump = Set(f.jump).count == 1 ? "\(f.jump[0])" : f.jump.map(String.init).joined(separator: "×")
            return f.size.isEmpty ? "-" : "\(size) / \(jump)"
        }
        let header = ["Layer (type)", "Output shape", "Param #", "Mult-adds", "RF size / jump"]
        let body = rows.map { r in
            [String(repeating: "  ", count: r.depth) + "\(r.name) (\(r.type))", "\(r.outputShape)",
             r.parameters == 0 ? "-" : count(r.parameters), r.multAdds == 0 ? "-" : count(r.multAdds), rf(r)]
        }
        let widths = (0..<header.count).map { c in ([header] + body).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in
                c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - s.count) + s
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        func mb(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1_000_000) }
        return ([ "\(modelName), input \(inputShape)", rule, line(header), rule] + body.map(line) + [rule,
            "Trainable params: \(count(trainableParameters))",
            "Buffers (not trained): \(count(bufferScalars))",
            "Mult-adds: \(count(totalMultAdds)) (" + (totalMultAdds >= 1_000_000_000
                ? String(format: "%.2f G", Double(totalMultAdds) / 1e9) : String(format: "%.2f M", Double(totalMultAdds) / 1e6)) + ")",
            "Parameter memory: \(mb(parameterBytes)); activation memory (forward, this batch): \(mb(activationBytes))",
        ] + (rows.contains { $0.type == "MultiheadAttention" }
            ? ["Receptive field: a token sees its own patch until the first attention layer, then the whole image "
               + "(every token attends to every other)."] : [])).joined(separator: "\n")
    }
}

/// `1234567` → `"1,234,567"` (locale-independent).
public func groupedDigits(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

/// A module's display name: a named Sequential's name, otherwise its type.
func typeName(_ m: any Module) -> String {
    if let s = m as? Sequential, let name = s.name { return name }
    return String(describing: type(of: m))
}

/// Multiply-adds of a leaf module: convolutions and linear layers (output elements × inputs
/// per output); zero for the rest.
private func leafMultAdds(_ m: any Module, input: Tensor, output: Tensor) -> Int {
    switch m {
    case let c as Convolution: output.count * (c.inChannels / c.groups) * c.kernelSize.reduce(1, *)
    case let t as ConvTranspose: input.count * t.weight.shape[1...].reduce(1, *)
    case let l as Linear: output.count * l.weight.shape[1]
    default: 0
    }
}

/// Receptive field bookkeeping per spatial axis, through `ReceptiveFieldRecurrence` (a field
/// that no longer fits an `Int` is reported as the whole input).
struct ReceptiveField {
    var size: [Int], jump: [Int]
    var isGlobal = false

    init(axes: Int) { size = Array(repeating: 1, count: axes); jump = size }
    private init(global: Void) { size = []; jump = []; isGlobal = true }
    static let global = ReceptiveField(global: ())

    func window(kernel: [Int], stride: [Int], dilation: [Int]) -> ReceptiveField {
        guard !isGlobal, kernel.count == size.count else { return self }
        var f = self
        for a in size.indices {
            guard let next = ReceptiveFieldRecurrence.step(size: size[a], jump: jump[a], kernel: kernel[a], stride: stride[a],
                                                           dilation: dilation[a]) else { return .global }
            (f.size[a], f.jump[a]) = next
        }
        return f
    }

    func union(_ other: ReceptiveField) -> ReceptiveField {
        if isGlobal || other.isGlobal { return .global }
        guard size.count == other.size.count else { return self }
        var f = self
        for a in size.indices { f.size[a] = Swift.max(size[a], other.size[a]); f.jump[a] = Swift.max(jump[a], other.jump[a]) }
        return f
    }

    func after(_ m: any Module, input: Tensor) -> ReceptiveField {
        let r = size.count
        func values(_ p: PerAxis?, _ fallback: [Int]) -> [Int] {
            guard let p else { return fallback }
            return (try? p.resolved(rank: r, op: "summary", argument: "window", minimum: 0)) ?? fallback
        }
        switch m {
        case let c as Convolution:
            return window(kernel: c.kernelSize, stride: c.stride, dilation: c.dilation)
        case let t as ConvTranspose where t.rank == r:
            // Output o reads the inputs i with i·s + t·d − p = o: at most ⌈((k − 1)·d + 1)/s⌉ of
            // them, neighbours in input units; outputs are j/s apart (rounded up when s does not divide j).
            guard !isGlobal else { return self }
            let ones = Array(repeating: 1, count: r)
            let k = Array(t.weight.shape.suffix(r)), s = values(t.stride, ones), d = values(t.dilation, ones)
            var f = self
            for a in 0..<r {
                let taps = ((k[a] - 1) * d[a] + 1 + s[a] - 1) / s[a]
                guard let next = ReceptiveFieldRecurrence.step(size: size[a], jump: jump[a], kernel: taps, stride: 1, dilation: 1) else { return .global }
                f.size[a] = next.size
                f.jump[a] = Swift.max((jump[a] + s[a] - 1) / s[a], 1)
            }
            return f
        case let p as MaxPool:
            let k = values(p.kernelSize, [])
            return window(kernel: k, stride: values(p.stride, k), dilation: values(p.dilation, k))
        case let p as AvgPool:
            let k = values(p.kernelSize, [])
            return window(kernel: k, stride: values(p.stride, k), dilation: Array(repeating: 1, count: r))
        case let p as AdaptiveAvgPool where input.rank == r + 2:
            // Adaptive windows: about ⌈n/o⌉ wide, ⌊n/o⌋ apart (exact when o divides n).
            let n = Array(input.shape.suffix(r)), o = values(p.outputSize, [])
            guard o.count == r, o.allSatisfy({ $0 > 0 }) else { return .global }
            if o.allSatisfy({ $0 == 1 }) { return .global }
            return window(kernel: zip(n, o).map { ($0 + $1 - 1) / $1 }, stride: zip(n, o).map { Swift.max($0 / $1, 1) },
                          dilation: Array(repeating: 1, count: r))
        case is Linear where input.rank > 2:
            // A Linear on (N, H, W, C) mixes channels at each position (ConvNeXt's pointwise
            // layers): the field is unchanged.
            return self
        case is AdaptiveAvgPool, is GlobalAvgPool, is Linear, is Flatten:
            return .global
        default:
            return self
        }
    }
}
