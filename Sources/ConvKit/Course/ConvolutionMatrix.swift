/// A 2-D convolution written as a matrix (exercise 3 of 001): row o holds the kernel's
/// weights at the columns of the input pixels that output o sees, zeros elsewhere — sparse,
/// with every row sharing the same k·k values.
/// - Parameters:
///   - height, width: the input size; the matrix has (H_out·W_out) rows and H·W columns.
///   - kernel: (kH, kW).
/// - Returns: (H_out·W_out, H·W), so that matrix · flattened input = flattened `conv2d` output.
public func convolutionMatrix(height: Int, width: Int, kernel: Tensor, stride: Int = 1, padding: Int = 0) throws -> Tensor {
    guard kernel.rank == 2 else {
        throw ConvKitError.shapeMismatch(op: "convolutionMatrix", message: "kernel must be (kH, kW), got \(kernel.shape)")
    }
    let (kH, kW) = (kernel.shape[0], kernel.shape[1])
    let g = try convolutionGeometry(inputShape: [1, 1, height, width], weightShape: [1, 1, kH, kW], biasShape: nil, rank: 2,
                                    stride: PerAxis(stride), padding: Padding.symmetric(padding), dilation: 1, groups: 1,
                                    paddingMode: .zeros, op: "convolutionMatrix")
    let (outH, outW) = (g.outputSize[0], g.outputSize[1])
    guard height > 0, width > 0 else {
        throw ConvKitError.invalidArgument(op: "convolutionMatrix", argument: "input", message: "must be at least 1×1, got \(height)×\(width)")
    }
    let (rows, o1) = outH.multipliedReportingOverflow(by: outW)
    let (columns, o2) = height.multipliedReportingOverflow(by: width)
    let (entries, o3) = rows.multipliedReportingOverflow(by: columns)
    guard !o1, !o2, !o3, entries <= Limits.maxMatrixEntries else {
        throw ConvKitError.invalidArgument(
            op: "convolutionMatrix", argument: "input",
            message: "\(height)×\(width) with a \(outH)×\(outW) output gives a matrix of more than \(groupedDigits(Limits.maxMatrixEntries)) entries; at most \(groupedDigits(Limits.maxMatrixEntries)) entries are written out (e.g. 64×64)")
    }
    var m = [Float](repeating: 0, count: outH * outW * height * width)
    for oy in 0..<outH {
        for ox in 0..<outW {
            let row = oy * outW + ox
            for ky in 0..<kH {
                for kx in 0..<kW {
                    let (y, x) = (oy * stride + ky - padding, ox * stride + kx - padding)
                    guard y >= 0, y < height, x >= 0, x < width else { continue }
                    m[row * height * width + y * width + x] = kernel.scalars[ky * kW + kx]
                }
            }
        }
    }
    return try Tensor(shape: [outH * outW, height * width], scalars: m)
}

/// Checks `convolutionMatrix` on a random input: max |matrix · x − conv2d(x)| (0 up to rounding).
public func convolutionMatrixCheck(_ matrix: Tensor, height: Int, width: Int, kernel: Tensor, stride: Int = 1, padding: Int = 0,
                                   seed: UInt64 = 0) throws -> Float {
    var g = SeededGenerator(seed: seed)
    let x = try Tensor.randomNormal([height, width], using: &g)
    let viaMatrix = try matmul(matrix, try x.reshaped(to: [height * width, 1]))
    let viaConv = try conv2d(try x.reshaped(to: [1, 1, height, width]), weight: try kernel.reshaped(to: [1, 1] + kernel.shape),
                             stride: PerAxis(stride), padding: Padding.symmetric(padding))
    return zip(viaMatrix.scalars, viaConv.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
}

/// A kernel whose taps are numbered 1, 2, …, kH·kW row-major, so that a printed convolution
/// matrix shows which weight each entry shares.
/// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ kH, kW and kH·kW ≤ 4,096.
public func numberedKernel(height: Int, width: Int) throws -> Tensor {
    try Limits.check(height, in: 1...4096, op: "numberedKernel", argument: "height")
    try Limits.check(width, in: 1...4096, op: "numberedKernel", argument: "width")
    try Limits.check(height * width, in: 1...4096, op: "numberedKernel", argument: "taps")
    return try Tensor(shape: [height, width], scalars: (1...(height * width)).map(Float.init))
}
