/// A mask over attention scores (…, L, S), broadcast against them as PyTorch broadcasts.
/// PyTorch's two boolean conventions are told apart by name: `F.scaled_dot_product_attention`
/// takes True where a query *may* attend (`.allowed`), `nn.MultiheadAttention`'s `attn_mask`
/// and `key_padding_mask` take True where it may *not* (`.blocked`). Boolean masks are
/// float tensors here: nonzero is True.
public enum AttentionMask {
    /// Nonzero where a query may attend to a key.
    case allowed(Tensor)
    /// Nonzero where a query may not attend to a key.
    case blocked(Tensor)
    /// Added to the scores before the softmax (−∞ blocks); gradients flow into it.
    case additive(Tensor)

    /// The mask as scores to add: 0 where allowed, −∞ where blocked.
    func additiveScores() -> Tensor {
        switch self {
        case let .additive(t): return t
        case let .allowed(t): return Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { $0 != 0 ? 0 : -.infinity })
        case let .blocked(t): return Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { $0 != 0 ? -.infinity : 0 })
        }
    }
}

/// PyTorch's `F.scaled_dot_product_attention`: softmax(Q·Kᵀ·scale + mask)·V.
/// - Parameters:
///   - query: (…, L, E); key: (…, S, E); value: (…, S, Ev), with the same leading sizes.
///   - mask: broadcast against the scores (…, L, S).
///   - isCausal: query i attends to keys 0…i only (the upper triangle of (L, S) blocked);
///     not together with `mask`, as in PyTorch.
///   - scale: 1/√E when nil.
/// - Returns: (…, L, Ev). A query that may attend to no key gets NaN, as PyTorch's math path.
/// - Throws: `ConvKitError.shapeMismatch` for sizes that do not fit, `invalidArgument` for a
///   non-finite scale or a mask with `isCausal`.
public func scaledDotProductAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: AttentionMask? = nil,
                                      isCausal: Bool = false, scale: Float? = nil) throws -> Tensor {
    try attention(query, key, value, mask: mask, isCausal: isCausal, scale: scale, dropout: { $0 }).output
}

/// `scaledDotProductAttention` with dropout on the attention weights (probability
/// `dropout`, masks drawn from `generator`), as `F.scaled_dot_product_attention(dropout_p:)`.
public func scaledDotProductAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: AttentionMask? = nil,
                                      dropout p: Float, isCausal: Bool = false, scale: Float? = nil,
                                      using generator: inout some RandomNumberGenerator) throws -> Tensor {
    var g = SeededGenerator(seed: generator.next())
    return try attention(query, key, value, mask: mask, isCausal: isCausal, scale: scale) {
        try ConvKit.dropout($0, probability: p, training: true, using: &g)
    }.output
}

/// The attention both entry points and `MultiheadAttention` share; also returns the weights
/// softmax(Q·Kᵀ·scale + mask) (…, L, S), before dropout.
func attention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: AttentionMask?, isCausal: Bool, scale: Float?,
               dropout: (Tensor) throws -> Tensor) throws -> (output: Tensor, weights: Tensor) {
    let op = "scaledDotProductAttention"
    guard query.rank >= 2, key.rank == query.rank, value.rank == query.rank else {
        throw ConvKitError.shapeMismatch(op: op, message: "query, key and value need the same rank ≥ 2, got \(query.shape), \(key.shape), \(value.shape)")
    }
    let lead = Array(query.shape.dropLast(2))
    let (l, e, s, ev) = (query.shape[query.rank - 2], query.shape[query.rank - 1], key.shape[key.rank - 2], value.shape[value.rank - 1])
    guard Array(key.shape.dropLast(2)) == lead, Array(value.shape.dropLast(2)) == lead, key.shape[key.rank - 1] == e,
          value.shape[value.rank - 2] == s else {
        throw ConvKitError.shapeMismatch(op: op, message: "query (…, L, E), key (…, S, E) and value (…, S, Ev) must agree, got "
                                         + "\(query.shape), \(key.shape), \(value.shape)")
    }
    if let scale, !scale.isFinite {
        throw ConvKitError.invalidArgument(op: op, argument: "scale", message: "must be finite, got \(scale)")
    }
    if isCausal, mask != nil {
        throw ConvKitError.invalidArgument(op: op, argument: "mask", message: "give a mask or isCausal, not both (as PyTorch)")
    }
    let batch = lead.reduce(1, *)
    let q = try query.reshaped(to: [batch, l, e]), k = try key.reshaped(to: [batch, s, e]), v = try value.reshaped(to: [batch, s, ev])
    var scores = try matmul(q, try k.transposed(1, 2)) * (scale ?? 1 / Float(e).squareRoot())
    scores = try scores.reshaped(to: lead + [l, s])
    if let mask { scores = try scores + mask.additiveScores() }
    if isCausal {
        let causal = (0..<(l * s)).map { i -> Float in i % s > i / s ? -.infinity : 0 }
        scores = try scores + Tensor(uncheckedShape: [l, s], scalars: causal)
    }
    let weights = try scores.softmax(axis: -1)
    let output = try matmul(try dropout(weights).reshaped(to: [batch, l, s]), v)
    return (try output.reshaped(to: lead + [l, ev]), weights)
}
