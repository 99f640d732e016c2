import ConvKit
import Testing

/// The course's hand-worked examples (../shared/course/000_…, 003_…, 004_…) reproduced exactly.
@Suite struct CourseExampleTests {
    /// 000/003: [1, 2, 3, 4, 5] ⋆ [1, 0, −1] = [−2, −2, −2].
    @Test func conv1dByHand() throws {
        let signal = try Tensor([1, 2, 3, 4, 5]).reshaped(to: [1, 1, 5])
        let kernel = try Tensor([1, 0, -1]).reshaped(to: [1, 1, 3])
        #expect(try conv1d(signal, weight: kernel).scalars == [-2, -2, -2])
        // The true convolution flips the kernel: [1,2,3]·[-1,0,1] = +2 at every position.
        #expect(try trueConv1d(signal, weight: kernel).scalars == [2, 2, 2])
    }

    static let animationInput: [Float] = [
        1, 2, 0, 1, 2,
        0, 1, 2, 1, 0,
        2, 0, 1, 0, 1,
        1, 2, 0, 2, 1,
        0, 1, 2, 1, 0,
    ]
    static let sobelX: [Float] = [-1, 0, 1, -2, 0, 2, -1, 0, 1]

    /// 000/003's convolution animation: the 5×5 input with Sobel-x gives
    /// [[2, −1, −2], [−1, 0, −1], [−1, 0, 0]]; position (0, 0) is 2.
    @Test func sobelAnimation() throws {
        let x = try Tensor(shape: [1, 1, 5, 5], scalars: Self.animationInput)
        let w = try Tensor(shape: [1, 1, 3, 3], scalars: Self.sobelX)
        let y = try conv2d(x, weight: w)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.scalars == [2, -1, -2, -1, 0, -1, -1, 0, 0])
    }

    /// 004: the 3×3 vertical-edge kernel on the 5×5 image gives −3 with its centre at (1, 1).
    @Test func verticalEdgeWorkedExample() throws {
        let image: [Float] = [2, 1, 3, 0, 1, 0, 2, 1, 3, 2, 1, 0, 2, 1, 0, 3, 1, 0, 2, 1, 2, 3, 1, 0, 2]
        let kernel: [Float] = [1, 0, -1, 1, 0, -1, 1, 0, -1]
        let y = try conv2d(try Tensor(shape: [5, 5], scalars: image).reshaped(to: [1, 5, 5]),
                           weight: try Tensor(shape: [1, 1, 3, 3], scalars: kernel))
        #expect(y.shape == [1, 3, 3])  // unbatched in, unbatched out
        #expect(y.scalars[0] == -3)
    }

    /// 004: 2×2 max pooling with stride 2 on the 4×4 map gives [[4, 3], [3, 4]].
    @Test func maxPoolWorkedExample() throws {
        let x = try Tensor(shape: [1, 1, 4, 4], scalars: [1, 3, 2, 0, 4, 2, 1, 3, 0, 1, 4, 2, 3, 2, 1, 0])
        let y = try maxPool2d(x, kernelSize: 2)
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [4, 3, 3, 4])
    }

    /// 002/004: floor((n + 2p − d(k−1) − 1)/s) + 1 on the course's cases.
    @Test func outputSizeFormula() throws {
        func out(_ n: Int, k: Int, p: Int, s: Int, d: Int = 1) -> Int {
            ConvGeometry.outputLength(input: n, kernel: k, stride: s, dilation: d, padBefore: p, padAfter: p)
        }
        #expect(out(28, k: 3, p: 1, s: 1) == 28)
        #expect(out(8, k: 3, p: 1, s: 1) == 8)
        #expect(out(10, k: 4, p: 0, s: 1) == 7)
        #expect(out(5, k: 3, p: 0, s: 1) == 3)
        #expect(out(7, k: 3, p: 0, s: 2) == 3)
        #expect(out(7, k: 3, p: 0, s: 1, d: 2) == 3)  // effective extent 1 + d(k−1) = 5
        // The same numbers come out of a real convolution.
        let x = try Tensor.zeros([1, 1, 28, 28])
        #expect(try conv2d(x, weight: try Tensor.zeros([4, 1, 3, 3]), padding: 1).shape == [1, 4, 28, 28])
        #expect(try conv2d(x, weight: try Tensor.zeros([4, 1, 3, 3]), padding: .same).shape == [1, 4, 28, 28])
    }

    /// 000: a 3×3×3 → 64 convolution has 1,792 parameters; Conv1d(17, 64, k=3) has 3,328.
    @Test func parameterCounts() throws {
        let g2 = ConvGeometry(batch: 1, inChannels: 3, outChannels: 64, inputSize: [224, 224], kernelSize: [3, 3],
                              stride: [1, 1], dilation: [1, 1], padBefore: [1, 1], padAfter: [1, 1])
        #expect(g2.weightCount + g2.outChannels == 1_792)
        let g1 = ConvGeometry(batch: 1, inChannels: 17, outChannels: 64, inputSize: [50], kernelSize: [3],
                              stride: [1], dilation: [1], padBefore: [1], padAfter: [1])
        #expect(g1.weightCount + g1.outChannels == 3_328)
    }

    /// A multi-channel step sums the channels' window sums, as conv2d with a (1, C, k, k) weight.
    @Test func multiChannelStepsSumLikeConv2d() throws {
        var rng = SeededGenerator(seed: 21)
        let channels = try (0..<3).map { _ in try Tensor.randomNormal([5, 6], using: &rng) }
        let kernels = try (0..<3).map { _ in try Tensor.randomNormal([3, 3], using: &rng) }
        let (perChannel, sums) = try convolutionSteps(channels: channels, kernels: kernels, stride: 2, padding: 1)
        #expect(perChannel.count == 3 && perChannel[0].count == sums.count)
        let x = try Tensor.concatenate(try channels.map { try $0.reshaped(to: [1, 1, 5, 6]) }, axis: 1)
        let w = try Tensor.concatenate(try kernels.map { try $0.reshaped(to: [1, 1, 3, 3]) }, axis: 1)
        let y = try conv2d(x, weight: w, stride: 2, padding: 1)
        expectClose(try Tensor(shape: [sums.count], scalars: sums), try y.reshaped(to: [sums.count]), "multi-channel sums")
        expectError(containing: "one kernel per channel") { try convolutionSteps(channels: channels, kernels: Array(kernels.prefix(2))) }
    }

    @Test func movingAverageSmoothsTrailingWindows() {
        #expect(movingAverage([2, 4, 6, 8], window: 2) == [2, 3, 5, 7])
        #expect(movingAverage([1, 2, 3], window: 10) == [1, 1.5, 2])
        #expect(movingAverage([], window: 3).isEmpty)
    }
}
