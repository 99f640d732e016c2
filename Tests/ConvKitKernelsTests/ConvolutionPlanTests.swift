import Foundation
import Testing
import _ConvKitKernels

/// The plan names which implementation runs each direction (chosen once, printed by
/// `ConvKitBenchmarks --breakdown`); these are the choices the kernels' own tests exercise.
@Suite struct ConvolutionPlanTests {
    static func geometry(n: Int = 2, c: Int, k: Int, size: Int, kernel: Int = 3, stride: Int = 1, pad: Int = 1, groups: Int = 1) -> ConvGeometry {
        ConvGeometry(batch: n, inChannels: c, outChannels: k, groups: groups, inputSize: [size, size], kernelSize: [kernel, kernel],
                     stride: [stride, stride], dilation: [1, 1], padBefore: [pad, pad], padAfter: [pad, pad])
    }

    /// The CPU's level as the kernels see it (CI also runs these suites with CONVKIT_KERNELS=avx2 and =portable).
    static let level: String = ProcessInfo.processInfo.environment["CONVKIT_KERNELS"] ?? "best"

    @Test func narrowLinesAndDepthwiseLayers() {
        let dw = ConvolutionPlan(Self.geometry(c: 32, k: 32, size: 56, groups: 32))
        #expect(dw.forward == .depthwise && dw.inputGradient == .depthwise && dw.weightGradient == .depthwise && dw.workspace == 0)
        // 7-wide lines: gathered tiles forward and for the weight gradient where the CPU has them.
        let narrow: ConvolutionPlan.Algorithm = Self.level == "portable" ? .pointwise : .gathered
        let pw = ConvolutionPlan(Self.geometry(c: 64, k: 128, size: 7, kernel: 1, pad: 0))
        #expect(pw.forward == narrow && pw.inputGradient == .pointwise && pw.weightGradient == narrow, "\(pw)")
        let strided = ConvolutionPlan(Self.geometry(c: 16, k: 16, size: 14, stride: 2))
        let stridedNarrow: ConvolutionPlan.Algorithm = Self.level == "portable" ? .im2colGEMM : .gathered
        #expect(strided.forward == stridedNarrow && strided.weightGradient == stridedNarrow, "\(strided)")
        #expect(strided.inputGradient == .im2colGEMM, "\(strided)")
        // Too few output channels for a panel of 32 (AVX-512) lanes: im2col + GEMM.
        let few = ConvolutionPlan(Self.geometry(c: 16, k: 7, size: 14, stride: 2))
        #expect(few.forward == .im2colGEMM, "\(few)")
    }

    @Test func courseCNNLayers() {
        // conv2 of the course CNN: 28-wide lines, stride 1, zero padding, 32 input channels.
        let conv2 = ConvolutionPlan(Self.geometry(n: 64, c: 32, k: 32, size: 28))
        if Self.level == "portable" {
            #expect(conv2.forward == .im2colGEMM && conv2.weightGradient == .im2colGEMM, "\(conv2)")
            #expect(conv2.inputGradient == .flipped && conv2.flippedForward == .im2colGEMM, "\(conv2)")
        } else {
            #expect(conv2.forward == .winograd && conv2.weightGradient == .winograd, "\(conv2)")
            #expect(conv2.inputGradient == .flipped && conv2.flippedForward == .winograd, "\(conv2)")
            // Winograd's forward pools each tile row as it stores it: the 2 × 2 max pool after conv2
            // is no pass of its own, and the convolution's output is never kept.
            #expect(ConvolutionKernel.poolsAsItStores(Self.geometry(n: 64, c: 32, k: 32, size: 28)))
            #expect(ConvolutionKernel.pooledOutputCount(Self.geometry(n: 64, c: 32, k: 32, size: 28)) == 0)
        }
        // conv1 has one input channel: its input gradient is not worth flipping (fewer than 8 channels).
        let conv1 = ConvolutionPlan(Self.geometry(n: 64, c: 1, k: 32, size: 28))
        #expect(conv1.inputGradient == .im2colGEMM, "\(conv1)")
        #expect(conv2.workspace == ConvolutionKernel.workspaceCount(Self.geometry(n: 64, c: 32, k: 32, size: 28)))
        #expect(conv2.description.hasPrefix("forward "))
    }
}

/// Plans are kept per geometry (`ConvolutionPlan.cached`): the kept plan is the one computed
/// afresh, for every algorithm choice of the same shapes (the key carries it), and asking again
/// returns the same.
@Suite struct ConvolutionPlanCacheTests {
    @Test func keptPlansAreThePlansComputedAfresh() {
        let shapes = [(64, 32, 32, 28, 3, 1, 1, 1), (1, 32, 64, 14, 3, 1, 1, 1), (2, 32, 32, 56, 3, 1, 1, 32),
                      (2, 64, 128, 7, 1, 1, 0, 1), (2, 16, 16, 14, 3, 2, 1, 1), (1, 256, 256, 14, 3, 1, 1, 1)]
        for (n, c, k, size, kernel, stride, pad, groups) in shapes {
            for algorithm in [ConvolutionAlgorithm.automatic, .direct, .winograd] {
                var g = ConvolutionPlanTests.geometry(n: n, c: c, k: k, size: size, kernel: kernel, stride: stride, pad: pad, groups: groups)
                g.algorithm = algorithm
                let fresh = ConvolutionPlan(g)
                #expect(ConvolutionPlan.cached(g) == fresh, "\(g) \(algorithm)")
                #expect(ConvolutionPlan.cached(g) == fresh, "\(g) \(algorithm), asked again")
                #expect(ConvolutionKernel.workspaceCount(g) == fresh.workspace)
            }
        }
        // The same shapes with another algorithm asked for: another entry, not the first one's plan.
        var g = ConvolutionPlanTests.geometry(n: 64, c: 32, k: 32, size: 28)
        g.algorithm = .winograd
        let winograd = ConvolutionPlan.cached(g)
        g.algorithm = .direct
        if ConvolutionPlanTests.level != "portable" { #expect(winograd.forward == .winograd && ConvolutionPlan.cached(g).forward == .direct) }
    }
}
