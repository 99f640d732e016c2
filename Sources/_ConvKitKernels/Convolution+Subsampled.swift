import _ConvKitMicroKernels

/// A 1 × 1 convolution with a stride above 1 (ResNet's downsampling shortcuts) reads only every
/// s-th input position: it is the stride-1 convolution of the input subsampled to those
/// positions. The forward pass copies them out (a quarter of the input at stride 2) and runs the
/// pointwise paths on the copy, whose lines the tiles read contiguously. The tiles reading every
/// second column in place took, for ResNet-50's shortcuts at batch 1, 0.79 / 0.70 / 0.75 ms
/// (256 → 512 at 56², 512 → 1024 at 28², 1024 → 2048 at 14²); subsampled first, 0.60 / 0.68 /
/// 0.70 ms; at batch 16, 1024 → 2048 10.9 → 8.5 ms, 256 → 512 at 28² 3.0 → 2.5 ms, the others equal
/// (2026-12-04).
extension ConvolutionKernel {
    /// The stride-1 geometry on the subsampled input for a 1 × 1, unpadded convolution with a
    /// stride above 1 (not depthwise), else nil.
    static func subsampledGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard g.kernelVolume == 1, g.stride.contains(where: { $0 > 1 }), g.padBefore.allSatisfy({ $0 == 0 }),
              g.padAfter.allSatisfy({ $0 == 0 }), g.batch > 0, g.outputPlane > 0, !DepthwiseKernel.applies(g) else { return nil }
        let ones = [Int](repeating: 1, count: g.rank), zeros = [Int](repeating: 0, count: g.rank)
        return ConvGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, groups: g.groups,
                            inputSize: g.outputSize, kernelSize: g.kernelSize, stride: ones, dilation: g.dilation,
                            padBefore: zeros, padAfter: zeros, algorithm: g.algorithm)
    }

    /// Writes the input positions a 1 × 1 convolution `g` reads, (N, C, output size...), to `subsampled`.
    static func subsample(_ g: ConvGeometry, input: UnsafePointer<Float>, into subsampled: UnsafeMutablePointer<Float>) {
        let (x, y, level) = (SharedPointer(input), SharedPointer(subsampled), Int32(MicroKernel.level))
        let (lineWidth, step) = (g.outputSize.last!, g.stride.last!), lines = g.outputPlane / g.outputSize.last!
        Parallel.forEachChunk(g.batch * g.inChannels, workers: Parallel.memoryPassWorkers(g.batch * g.inChannels * g.outputPlane)) { planes, _ in
            for plane in planes {
                let src = x.base + plane * g.inputPlane, dst = y.base + plane * g.outputPlane
                for line in 0..<lines {
                    // Output line `line` at outer positions o (row-major) reads input line o · stride.
                    var offset = 0, rest = line, axisStride = g.inputSize.last!
                    for axis in stride(from: g.rank - 2, through: 0, by: -1) {
                        let (q, r) = rest.quotientAndRemainder(dividingBy: g.outputSize[axis])
                        offset += r * g.stride[axis] * axisStride
                        axisStride *= g.inputSize[axis]
                        rest = q
                    }
                    ck_gather_every(level, src + offset, step, dst + line * lineWidth, lineWidth)
                }
            }
        }
    }
}
