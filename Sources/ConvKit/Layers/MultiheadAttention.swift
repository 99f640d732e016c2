/// `nn.MultiheadAttention` with PyTorch's state names (`in_proj_weight`, `in_proj_bias`,
/// `out_proj.weight`, `out_proj.bias`) and semantics: the query, key and value projected by
/// the three row blocks of `in_proj_weight`, split into `heads` heads of E/heads features,
/// attended (`scaledDotProductAttention`), joined and projected by `out_proj`.
///
/// Inputs are (L, N, E), or (N, L, E) with `batchFirst` (ViT's layout), or (L, E) unbatched.
/// Called as a module it is self-attention and returns the output only.
public final class MultiheadAttention: Module, ModeDependent, RandomizedModule {
    public let embedDim: Int, heads: Int
    public let batchFirst: Bool
    /// Dropout on the attention weights in training.
    public let dropout: Float
    /// (3E, E): the query, key and value projections stacked.
    public let inProjWeight: Tensor
    /// (3E), or nil without bias.
    public let inProjBias: Tensor?
    public let outProj: Linear
    public var isTraining = true
    /// The attention-dropout masks' source; part of a checkpoint's RNG state.
    public var generator: SeededGenerator

    /// Creates the layer, initialised as PyTorch does: `in_proj_weight` Xavier-uniform, the
    /// biases 0, `out_proj.weight` as `nn.Linear`'s default.
    /// - Throws: `ConvKitError.invalidArgument` unless embedDim > 0 is a multiple of heads > 0
    ///   and dropout is in [0, 1].
    public init(embedDim: Int, heads: Int, dropout: Float = 0, bias: Bool = true, batchFirst: Bool = false,
                using g: inout some RandomNumberGenerator) throws {
        guard embedDim > 0, heads > 0, embedDim % heads == 0 else {
            throw ConvKitError.invalidArgument(op: "MultiheadAttention", argument: "embedDim/heads",
                                               message: "embedDim must be a positive multiple of heads, got \(embedDim) and \(heads)")
        }
        guard (0...1).contains(dropout) else {
            throw ConvKitError.invalidArgument(op: "MultiheadAttention", argument: "dropout", message: "must be in [0, 1], got \(dropout)")
        }
        try Limits.elementCount([3 * embedDim, embedDim], op: "MultiheadAttention", what: "in_proj_weight")
        (self.embedDim, self.heads, self.batchFirst, self.dropout) = (embedDim, heads, batchFirst, dropout)
        // xavier_uniform_: bound = √(6 / (fan_in + fan_out)) with fan_in = E, fan_out = 3E.
        inProjWeight = Initializer.uniform([3 * embedDim, embedDim], bound: (6 / Float(4 * embedDim)).squareRoot(), using: &g)
        inProjBias = bias ? Initializer.constant([3 * embedDim], 0) : nil
        outProj = try Linear(embedDim, embedDim, bias: bias, using: &g)
        try outProj.bias?.assign([Float](repeating: 0, count: embedDim))
        generator = SeededGenerator(seed: g.next())
    }

    /// Self-attention: `forward(query: input, key: input, value: input).output`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try forward(query: input, key: input, value: input, needWeights: false).output
    }

    /// PyTorch's `forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights)`.
    /// - Parameters:
    ///   - keyPaddingMask: (N, S) (or (S) unbatched); `.blocked` marks padding keys.
    ///   - attentionMask: (L, S) or (N·heads, L, S).
    ///   - averageWeights: the returned weights averaged over heads (N, L, S), else (N, heads, L, S).
    /// - Returns: the output, shaped as the query, and the attention weights when `needWeights`.
    public func forward(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: AttentionMask? = nil, needWeights: Bool = true,
                        attentionMask: AttentionMask? = nil, averageWeights: Bool = true) throws -> (output: Tensor, weights: Tensor?) {
        let op = "MultiheadAttention"
        let unbatched = query.rank == 2
        guard query.rank == 2 || query.rank == 3, key.rank == query.rank, value.rank == query.rank,
              query.shape.last == embedDim, key.shape.last == embedDim, value.shape.last == embedDim else {
            throw ConvKitError.shapeMismatch(op: op, message: "query, key and value must be (L, N, \(embedDim)), (N, L, \(embedDim)) "
                                             + "with batchFirst, or (L, \(embedDim)); got \(query.shape), \(key.shape), \(value.shape)")
        }
        // To (N, L, E).
        func batchFirst(_ t: Tensor) throws -> Tensor { unbatched ? try t.unsqueezed(axis: 0) : self.batchFirst ? t : try t.transposed(0, 1) }
        let (q, k, v) = (try batchFirst(query), try batchFirst(key), try batchFirst(value))
        let (n, l, s) = (q.shape[0], q.shape[1], k.shape[1])
        guard k.shape[0] == n, v.shape[0] == n, v.shape[1] == s else {
            throw ConvKitError.shapeMismatch(op: op, message: "key and value must have the query's batch and each other's length, got "
                                             + "\(query.shape), \(key.shape), \(value.shape)")
        }
        let e = embedDim, d = embedDim / heads
        func project(_ x: Tensor, _ block: Int) throws -> Tensor {
            let w = try inProjWeight.slice(axis: 0, (block * e)..<((block + 1) * e))
            let b = try inProjBias.map { try $0.slice(axis: 0, (block * e)..<((block + 1) * e)) }
            // (N, L, E) → (N, heads, L, d)
            return try linear(x, weight: w, bias: b).reshaped(to: [n, x.shape[1], heads, d]).permuted([0, 2, 1, 3])
        }
        // The masks as one additive (N, heads, L, S)-broadcastable tensor.
        var combined: Tensor?
        if let attentionMask {
            var m = attentionMask.additiveScores()
            if m.shape == [n * heads, l, s] { m = try m.reshaped(to: [n, heads, l, s]) }
            guard m.shape == [l, s] || m.shape == [n, heads, l, s] else {
                throw ConvKitError.shapeMismatch(op: op, message: "attentionMask must be (\(l), \(s)) or (\(n * heads), \(l), \(s)), got \(m.shape)")
            }
            combined = m
        }
        if let keyPaddingMask {
            let m = keyPaddingMask.additiveScores()
            guard m.shape == (unbatched ? [s] : [n, s]) else {
                throw ConvKitError.shapeMismatch(op: op, message: "keyPaddingMask must be (\(unbatched ? "" : "\(n), ")\(s)), got \(m.shape)")
            }
            let padding = try m.reshaped(to: [n, 1, 1, s])
            combined = try combined.map { try $0 + padding } ?? padding
        }
        let training = isTraining && dropout > 0
        let (attended, weights) = try attention(try project(q, 0), try project(k, 1), try project(v, 2),
                                                mask: combined.map { .additive($0) }, isCausal: false, scale: nil) { w in
            training ? try ConvKit.dropout(w, probability: self.dropout, training: true, using: &self.generator) : w
        }
        // (N, heads, L, d) → (N, L, E) → out_proj → the query's layout.
        var output = try outProj.forward(try attended.permuted([0, 2, 1, 3]).reshaped(to: [n, l, e]))
        output = unbatched ? try output.squeezed(axis: 0) : self.batchFirst ? output : try output.transposed(0, 1)
        guard needWeights else { return (output, nil) }
        var w = averageWeights ? try weights.mean(axes: [1]) : weights
        if unbatched { w = try w.squeezed(axis: 0) }
        return (output, w)
    }

    /// Multiply-adds of one self-attention call on `input` besides `out_proj`'s: the three
    /// projections (3E² per token) and the two products with the attention weights (2·L·E per token).
    func ownMultAdds(input: Tensor) -> Int {
        guard input.rank >= 2, let e = input.shape.last, e == embedDim else { return 0 }
        let tokens = input.count / e, length = input.rank == 3 && batchFirst ? input.shape[1] : input.shape[0]
        return tokens * 3 * e * e + 2 * tokens * length * e
    }

    public var localState: [StateEntry] {
        [StateEntry("in_proj_weight", inProjWeight)] + (inProjBias.map { [StateEntry("in_proj_bias", $0)] } ?? [])
    }
    public var children: [(name: String, module: any Module)] { [("out_proj", outProj)] }
}
