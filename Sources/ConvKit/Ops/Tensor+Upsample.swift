// Upsampling of (N, C, H, W) maps, as `F.interpolate` / `nn.Upsample`: nearest neighbour, or
// bilinear with or without `align_corners`. Each output position reads at most two inputs
// per axis with fixed weights; the backward pass scatters the gradient with the same weights.

/// How `upsample` fills new positions.
public enum UpsampleMode: String, Sendable, CaseIterable {
    /// The input at ⌊dst · scale⌋ (PyTorch's "nearest").
    case nearest
    /// Linear in each axis between the two nearest inputs.
    case bilinear
}

/// One axis of an interpolation: for each output index, two input indices and the weight
/// of the second (the first gets 1 − weight).
struct InterpolationAxis {
    var first: [Int], second: [Int], weight: [Float]

    /// PyTorch's source positions: with `alignCorners` the corners of input and output
    /// coincide (scale (in − 1)/(out − 1)); otherwise pixel centres do (scale in/out, or
    /// 1/scaleFactor when one was given), clamped at 0.
    init(input n: Int, output m: Int, mode: UpsampleMode, alignCorners: Bool, scaleFactor: Double?) {
        let scale = alignCorners ? (m > 1 ? Double(n - 1) / Double(m - 1) : 0) : (scaleFactor.map { 1 / $0 } ?? Double(n) / Double(m))
        (first, second, weight) = ([], [], [])
        for dst in 0..<m {
            if mode == .nearest {
                let src = Swift.min(Int((Double(dst) * scale).rounded(.down)), n - 1)
                first.append(src); second.append(src); weight.append(0)
                continue
            }
            let src = alignCorners ? Double(dst) * scale : Swift.max((Double(dst) + 0.5) * scale - 0.5, 0)
            let i0 = Swift.min(Int(src.rounded(.down)), n - 1)
            first.append(i0)
            second.append(Swift.min(i0 + 1, n - 1))
            weight.append(Float(src - Double(i0)))
        }
    }
}

/// Upsamples (N, C, H, W) to `size` (H_out, W_out) or by `scaleFactor` (output ⌊n·f⌋), as
/// `F.interpolate(mode: "nearest" | "bilinear", align_corners:)`.
/// - Throws: `ConvKitError` when both or neither of size and scaleFactor are given, for a
///   non-positive or non-finite factor, an empty output, or `alignCorners` with nearest.
public func upsample(_ input: Tensor, size: [Int]? = nil, scaleFactor: Double? = nil, mode: UpsampleMode = .nearest,
                     alignCorners: Bool = false) throws -> Tensor {
    let op = "upsample"
    guard input.rank == 4 else { throw ConvKitError.shapeMismatch(op: op, message: "input must be (N, C, H, W), got \(input.shape)") }
    guard (size == nil) != (scaleFactor == nil) else {
        throw ConvKitError.invalidArgument(op: op, argument: "size/scaleFactor", message: "give exactly one of size and scaleFactor")
    }
    if alignCorners, mode == .nearest {
        throw ConvKitError.invalidArgument(op: op, argument: "alignCorners", message: "only applies to bilinear (as in PyTorch)")
    }
    let (h, w) = (input.shape[2], input.shape[3])
    var out: [Int]
    if let size {
        guard size.count == 2 || size.count == 1 else {
            throw ConvKitError.invalidArgument(op: op, argument: "size", message: "must be (H, W) or one value, got \(size)")
        }
        out = size.count == 1 ? [size[0], size[0]] : size
    } else {
        let f = scaleFactor!
        guard f.isFinite, f > 0 else { throw ConvKitError.invalidArgument(op: op, argument: "scaleFactor", message: "must be positive and finite, got \(f)") }
        out = [Double(h) * f, Double(w) * f].map { $0 < Double(Limits.maxAxisValue) ? Int($0.rounded(.down)) : Limits.maxAxisValue }
    }
    guard out.allSatisfy({ $0 > 0 }), h > 0, w > 0 else {
        throw ConvKitError.invalidArgument(op: op, argument: "size", message: "input and output sizes must be positive, got \(input.shape) → \(out)")
    }
    let planes = input.shape[0] * input.shape[1]
    try Limits.elementCount([planes, out[0], out[1]], op: op, what: "output")
    let ay = InterpolationAxis(input: h, output: out[0], mode: mode, alignCorners: alignCorners, scaleFactor: scaleFactor)
    let ax = InterpolationAxis(input: w, output: out[1], mode: mode, alignCorners: alignCorners, scaleFactor: scaleFactor)
    let (oh, ow) = (out[0], out[1])
    let x = input.scalars
    var y = [Float](repeating: 0, count: planes * oh * ow)
    for p in 0..<planes {
        let src = p * h * w, dst = p * oh * ow
        for i in 0..<oh {
            let (r0, r1, wy) = (src + ay.first[i] * w, src + ay.second[i] * w, ay.weight[i])
            for j in 0..<ow {
                let (c0, c1, wx) = (ax.first[j], ax.second[j], ax.weight[j])
                let top = x[r0 + c0] * (1 - wx) + x[r0 + c1] * wx, bottom = x[r1 + c0] * (1 - wx) + x[r1 + c1] * wx
                y[dst + i * ow + j] = top * (1 - wy) + bottom * wy
            }
        }
    }
    return Tensor.result(shape: [input.shape[0], input.shape[1], oh, ow], scalars: y, op: op, inputs: [input]) { g in
        var dx = [Float](repeating: 0, count: x.count)
        for p in 0..<planes {
            let src = p * h * w, dst = p * oh * ow
            for i in 0..<oh {
                let (r0, r1, wy) = (src + ay.first[i] * w, src + ay.second[i] * w, ay.weight[i])
                for j in 0..<ow {
                    let (c0, c1, wx) = (ax.first[j], ax.second[j], ax.weight[j])
                    let d = g.scalars[dst + i * ow + j]
                    dx[r0 + c0] += d * (1 - wy) * (1 - wx)
                    dx[r0 + c1] += d * (1 - wy) * wx
                    dx[r1 + c0] += d * wy * (1 - wx)
                    dx[r1 + c1] += d * wy * wx
                }
            }
        }
        return [Tensor(uncheckedShape: input.shape, scalars: dx)]
    }
}
