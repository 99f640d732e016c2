import _ConvKitKernels

/// Matrix product of (M, K) and (K, N) → (M, N), or batched (B, M, K) × (B, K, N) → (B, M, N).
/// - Throws: `ConvKitError.shapeMismatch` for other ranks or mismatched inner sizes.
public func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard (a.rank == 2 && b.rank == 2) || (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0]) else {
        throw ConvKitError.shapeMismatch(
            op: "matmul", message: "expected (M, K)×(K, N) or (B, M, K)×(B, K, N), got \(a.shape) and \(b.shape)")
    }
    let batched = a.rank == 3
    let batch = batched ? a.shape[0] : 1
    let (m, k) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (k2, n) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    guard k == k2 else {
        throw ConvKitError.shapeMismatch(
            op: "matmul", message: "inner sizes differ: \(a.shape) has K = \(k) but \(b.shape) has K = \(k2)")
    }
    let outShape = batched ? [batch, m, n] : [m, n]
    let out = batchedProduct(a.scalars, b.scalars, batch: batch, m: m, n: n, k: k, transposeA: false, transposeB: false)
    return Tensor.result(shape: outShape, scalars: out, op: "matmul", inputs: [a, b]) { g in
        // dA = g · Bᵀ (M, K); dB = Aᵀ · g (K, N)
        let da = a.requiresGrad ? batchedProduct(g.scalars, b.scalars, batch: batch, m: m, n: k, k: n,
                                                 transposeA: false, transposeB: true) : nil
        let db = b.requiresGrad ? batchedProduct(a.scalars, g.scalars, batch: batch, m: k, n: n, k: m,
                                                 transposeA: true, transposeB: false) : nil
        return [da.map { Tensor(uncheckedShape: a.shape, scalars: $0) },
                db.map { Tensor(uncheckedShape: b.shape, scalars: $0) }]
    }
}

/// `batch` products op(A)·op(B) of contiguous row-major matrices.
func batchedProduct(
    _ a: [Float], _ b: [Float], batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
) -> [Float] {
    var c = [Float](repeating: 0, count: batch * m * n)
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
        for i in 0..<batch {
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                 a: pa.baseAddress! + i * m * k, lda: transposeA ? m : k,
                 b: pb.baseAddress! + i * k * n, ldb: transposeB ? k : n,
                 beta: 0, c: pc.baseAddress! + i * m * n, ldc: n)
        }
    }}}
    return c
}

/// Fully connected layer: `x · weightᵀ + bias` over the last axis (PyTorch's `F.linear`).
/// - Parameters:
///   - input: (…, inFeatures).
///   - weight: (outFeatures, inFeatures).
///   - bias: (outFeatures), optional.
/// - Returns: (…, outFeatures).
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
    guard weight.rank == 2, input.rank >= 1, input.shape[input.rank - 1] == weight.shape[1] else {
        throw ConvKitError.shapeMismatch(
            op: "linear", message: "input \(input.shape) needs last size equal to weight \(weight.shape)'s second size")
    }
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    if let bias, bias.shape != [outF] {
        throw ConvKitError.shapeMismatch(op: "linear", message: "bias must have shape [\(outF)], got \(bias.shape)")
    }
    let rows = input.count / max(inF, 1)
    var out = batchedProduct(input.scalars, weight.scalars, batch: 1, m: rows, n: outF, k: inF,
                             transposeA: false, transposeB: true)
    if let bias {
        for r in 0..<rows { for j in 0..<outF { out[r * outF + j] += bias.scalars[j] } }
    }
    let outShape = Array(input.shape.dropLast()) + [outF]
    let inputs = [input, weight] + (bias.map { [$0] } ?? [])
    return Tensor.result(shape: outShape, scalars: out, op: "linear", inputs: inputs) { g in
        let dx = input.requiresGrad ? batchedProduct(g.scalars, weight.scalars, batch: 1, m: rows, n: inF, k: outF,
                                                     transposeA: false, transposeB: false) : nil
        let dw = weight.requiresGrad ? batchedProduct(g.scalars, input.scalars, batch: 1, m: outF, n: inF, k: rows,
                                                      transposeA: true, transposeB: false) : nil
        var grads: [Tensor?] = [dx.map { Tensor(uncheckedShape: input.shape, scalars: $0) },
                                dw.map { Tensor(uncheckedShape: weight.shape, scalars: $0) }]
        if let bias {
            var db = [Float](repeating: 0, count: outF)
            for r in 0..<rows { for j in 0..<outF { db[j] += g.scalars[r * outF + j] } }
            grads.append(Tensor(uncheckedShape: bias.shape, scalars: db))
        }
        return grads
    }
}
