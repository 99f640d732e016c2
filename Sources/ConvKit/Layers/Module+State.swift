// Saving and loading a module's state in PyTorch's state_dict layout, as safetensors.

extension Module {
    /// The state as safetensors values in `state_dict()` order: parameters and buffers as
    /// F32, counters (`num_batches_tracked`) as I64 scalars, as PyTorch stores them.
    public func stateDict() -> [(String, SafeTensors.Value)] {
        namedState().map { name, entry in
            entry.kind == .counter
                ? (name, .int64(shape: entry.tensor.shape, values: entry.tensor.scalars.map { Int($0) }))
                : (name, .tensor(entry.tensor))
        }
    }

    /// Loads state saved by ConvKit or by PyTorch (`safetensors.torch.save_file(model.state_dict())`).
    ///
    /// Everything is checked before anything is changed, so a failed load leaves the module
    /// as it was. Any stored float dtype (F32, F16, BF16, F64) is converted to float32.
    /// - Parameters:
    ///   - strict: when `true` (PyTorch's default), a name present on only one side is an
    ///     error; when `false`, missing and unexpected names are skipped.
    ///   - prefix: prepended to every name looked up (checkpoints store `model.…`); file
    ///     entries without it are ignored.
    /// - Throws: `ConvKitError.invalidFile` naming missing/unexpected keys or the first shape mismatch.
    public func loadState(from file: SafeTensors, strict: Bool = true, prefix: String = "") throws {
        let state = namedState().map { (name: prefix + $0.name, entry: $0.entry) }
        let fileNames = file.names.filter { $0.hasPrefix(prefix) }
        let stored = Set(fileNames)
        let wanted = Set(state.map(\.name))
        // Collect every problem first, as PyTorch's strict load reports them all at once.
        var problems: [String] = []
        if strict {
            let missing = state.map(\.name).filter { !stored.contains($0) }
            let unexpected = fileNames.filter { !wanted.contains($0) }
            if !missing.isEmpty { problems.append("missing keys " + missing.joined(separator: ", ")) }
            if !unexpected.isEmpty { problems.append("unexpected keys " + unexpected.joined(separator: ", ")) }
        }
        var updates: [(Tensor, [Float])] = []
        for (name, entry) in state where stored.contains(name) {
            let e = try file.entry(name)
            guard e.shape == entry.tensor.shape else {
                problems.append("size mismatch for \(name): \(e.shape) in the file, \(entry.tensor.shape) in the model")
                continue
            }
            updates.append((entry.tensor, try file.tensor(name).scalars))
        }
        guard problems.isEmpty else {
            throw ConvKitError.invalidFile(
                path: file.source, message: "state does not fit \(typeName(self)): " + problems.joined(separator: "; "))
        }
        for (tensor, values) in updates { tensor.scalars = values }
    }

    /// Copies every parameter and buffer of `other`, a module of the same architecture (a
    /// snapshot of a model being trained, say), without a file round trip.
    /// - Throws: `ConvKitError.shapeMismatch` naming the first name or shape that differs;
    ///   nothing is changed then.
    public func copyState(from other: any Module) throws {
        let mine = namedState(), theirs = other.namedState()
        guard mine.map(\.name) == theirs.map(\.name) else {
            let missing = Set(theirs.map(\.name)).symmetricDifference(mine.map(\.name)).sorted().prefix(5)
            throw ConvKitError.shapeMismatch(
                op: "copyState", message: "\(typeName(other)) and \(typeName(self)) hold different state (\(missing.joined(separator: ", ")))")
        }
        for (a, b) in zip(mine, theirs) where a.entry.tensor.shape != b.entry.tensor.shape {
            throw ConvKitError.shapeMismatch(
                op: "copyState", message: "size mismatch for \(a.name): \(b.entry.tensor.shape) in the source, \(a.entry.tensor.shape) here")
        }
        for (a, b) in zip(mine, theirs) { a.entry.tensor.scalars = b.entry.tensor.scalars }
    }

    /// Writes the state to a safetensors file atomically (see `SafeTensors.write`).
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stateDict(), metadata: metadata, to: path)
    }

    /// Reads a safetensors file and loads it with `loadState(from:strict:)`.
    public func load(from path: String, strict: Bool = true) throws {
        try loadState(from: SafeTensors(contentsOf: path), strict: strict)
    }

    /// Loads weights from a safetensors file or a PyTorch checkpoint (`.pt`, `.pth`, `.bin`;
    /// told apart by content, see `WeightsFile`) with `loadState(from:strict:)`.
    public func load(contentsOf path: String, strict: Bool = true) throws {
        try loadState(from: WeightsFile.read(contentsOf: path), strict: strict)
    }
}
