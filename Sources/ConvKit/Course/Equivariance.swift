/// What shifting an input does to a convolution and to pooling (exercise 2 of 001).
public struct EquivarianceReport: Sendable, Encodable {
    public let shift: Int
    /// max |conv(shift(x)) − shift(conv(x))| with circular padding (exact equivariance: 0).
    public let circularDifference: Float
    /// The same with zero padding, over all positions (the borders differ) and away from them.
    public let zeroPaddingDifference: Float, zeroPaddingInteriorDifference: Float
    /// max |pool(x shifted by 1) − pool(x)| for 2×2 max pooling — and the fraction of pooled
    /// values that do not change at all (local invariance).
    public let poolingDifference: Float, poolingUnchangedFraction: Float
}

/// Shifts a random image right by `shift` pixels and compares shift-then-convolve with
/// convolve-then-shift for a random 3×3 kernel; then shows max pooling's invariance to small shifts.
/// - Throws: `ConvKitError.invalidArgument` unless 5 ≤ `size` ≤ 4,096 and 0 ≤ `shift` ≤ (size − 5)/2.
public func equivarianceReport(size: Int = 32, shift: Int = 5, seed: UInt64 = 0) throws -> EquivarianceReport {
    try Limits.check(size, in: 5...4096, op: "equivariance", argument: "size")
    guard shift >= 0, shift <= (size - 5) / 2 else {
        throw ConvKitError.invalidArgument(op: "equivariance", argument: "shift", message: "must be in 0…\((size - 5) / 2) for a \(size)×\(size) image, got \(shift)")
    }
    var g = SeededGenerator(seed: seed)
    // A smooth image (box-blurred noise), so that pooling has something to be invariant to.
    let noise = try Tensor.randomNormal([1, 1, size, size], using: &g)
    let x = try conv2d(noise, weight: try Tensor.full([1, 1, 5, 5], value: 1 / 25), padding: 2, paddingMode: .circular)
    let w = try Tensor.randomNormal([1, 1, 3, 3], using: &g)
    func roll(_ t: Tensor, _ k: Int) throws -> Tensor {
        let n = t.shape[3], kk = ((k % n) + n) % n
        return kk == 0 ? t : try Tensor.concatenate([try t.slice(axis: 3, (n - kk)..<n), try t.slice(axis: 3, 0..<(n - kk))], axis: 3)
    }
    func maxDifference(_ a: Tensor, _ b: Tensor, columns: Range<Int>? = nil) -> Float {
        let n = a.shape[3]
        return zip(a.scalars, b.scalars).enumerated().reduce(0) { m, e in
            guard columns?.contains(e.offset % n) ?? true else { return m }
            return Swift.max(m, Swift.abs(e.element.0 - e.element.1))
        }
    }
    let circular = maxDifference(try conv2d(try roll(x, shift), weight: w, padding: 1, paddingMode: .circular),
                                 try roll(try conv2d(x, weight: w, padding: 1, paddingMode: .circular), shift))
    let zeroA = try conv2d(try roll(x, shift), weight: w, padding: 1), zeroB = try roll(try conv2d(x, weight: w, padding: 1), shift)
    let pooled = try maxPool2d(x, kernelSize: 2), pooledShifted = try maxPool2d(try roll(x, 1), kernelSize: 2)
    let unchanged = zip(pooled.scalars, pooledShifted.scalars).filter { $0 == $1 }.count
    return EquivarianceReport(
        shift: shift, circularDifference: circular, zeroPaddingDifference: maxDifference(zeroA, zeroB),
        zeroPaddingInteriorDifference: maxDifference(zeroA, zeroB, columns: (shift + 1)..<(size - 1)),
        poolingDifference: maxDifference(pooled, pooledShifted),
        poolingUnchangedFraction: Float(unchanged) / Float(pooled.count))
}
