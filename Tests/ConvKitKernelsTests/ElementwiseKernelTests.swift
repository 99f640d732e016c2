import Foundation
import Testing
import _ConvKitKernels
import _ConvKitTestSupport

/// ReLU and the bias gradient split large tensors across cores; both must equal one plain
/// loop over the whole buffer, including NaN, ±0 and ±∞ and chunk boundaries (odd counts).
@Suite struct ElementwiseKernelTests {
    static func values(_ count: Int) -> [Float] {
        let special: [Float] = [.nan, 0, -0.0, .infinity, -.infinity, 1e-38, -1e-38]
        return TestRandom.values(count, seed: 31).enumerated().map { i, v in i % 997 < special.count ? special[i % 997] : v }
    }

    /// SiLU's vector exponential against x / (1 + e^−x) in Double: within 4e-7 relative (or
    /// 1e-36 absolute: e^v saturates near ±88) over −100…100 in steps across every exponent, PyTorch's NaN for −∞ and
    /// NaN, chunk boundaries (odd counts split across cores), and the local derivative.
    @Test(arguments: [1, 1_000, 300_001])
    func siluMatchesTheFormula(count: Int) {
        var x = Self.values(count).enumerated().map { i, v in i % 3 == 0 ? v * 100 : i % 3 == 1 ? v * 9 : v }
        if count > 20 { x.replaceSubrange(8..<14, with: [88.5, -88.5, 87.5, -87.5, 1e-30, -104]) }
        var y = [Float](repeating: 7, count: count), d = [Float](repeating: 7, count: count)
        y.withUnsafeMutableBufferPointer { py in d.withUnsafeMutableBufferPointer { pd in
            SiLUKernel.forward(input: x, output: py.baseAddress!, derivative: pd.baseAddress!, count: count)
        }}
        var wrong: [String] = []
        for i in 0..<count {
            let v = Double(x[i]), s = 1 / (1 + Foundation.exp(-v))
            let (expected, slope) = (v / (1 + Foundation.exp(-v)), s * (1 + v * (1 - s)))
            func close(_ got: Float, _ want: Double) -> Bool {
                want.isNaN ? got.isNaN : want.isInfinite ? Double(got) == want : abs(Double(got) - want) <= 4e-7 * abs(want) + 1e-36
            }
            if !close(y[i], expected) || (!slope.isNaN && !close(d[i], slope) && abs(Double(d[i]) - slope) > 1e-6) {
                wrong.append("x \(x[i]): y \(y[i]) (\(expected)), derivative \(d[i]) (\(slope))")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong: \(wrong.prefix(4))")
    }

    @Test(arguments: [1, 1_000, 300_001])
    func reluMatchesAPlainLoop(count: Int) {
        let x = Self.values(count), dy = TestRandom.values(count, seed: 32)
        var y = [Float](repeating: 7, count: count), dx = [Float](repeating: 7, count: count)
        ReLUKernel.forward(input: x, output: &y, count: count)
        ReLUKernel.backward(output: y, gradOutput: dy, gradInput: &dx, count: count)
        var wrong = 0
        for i in 0..<count {
            let expected: Float = x[i].isNaN ? .nan : x[i] < 0 ? 0 : x[i]  // −0 stays −0, as torch.relu
            let sameForward = expected.isNaN ? y[i].isNaN : y[i].bitPattern == expected.bitPattern
            let sameBackward = dx[i] == (y[i] > 0 ? dy[i] : 0)
            if !sameForward || !sameBackward { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of \(count) elements differ")
    }

    /// ReLU6 and hardtanh's kernel against min(max(x, lower), upper) element by element, with
    /// NaN, ±∞, values exactly at the bounds and infinite bounds; the gradient passes strictly
    /// inside the bounds only (0 at them, as PyTorch), judged from the input.
    @Test(arguments: [(1, Float(0), Float(6)), (1_000, -1, 1), (300_001, 0, 6), (2_001, -.infinity, 2), (999, 0, .infinity)])
    func clampMatchesAPlainLoop(count: Int, lower: Float, upper: Float) {
        var x = Self.values(count).enumerated().map { i, v in i % 2 == 0 ? v * 10 : v }
        for (i, v) in [lower, upper, 6, -1, 1].enumerated() where i + 10 < count { x[i + 10] = v }
        let dy = TestRandom.values(count, seed: 34)
        var y = [Float](repeating: 7, count: count), dx = [Float](repeating: 7, count: count)
        ClampKernel.forward(input: x, output: &y, lower: lower, upper: upper, count: count)
        ClampKernel.backward(output: y, gradOutput: dy, gradInput: &dx, lower: lower, upper: upper, count: count)
        var wrong: [String] = []
        for i in 0..<count {
            let expected: Float = x[i].isNaN ? .nan : Swift.min(Swift.max(x[i], lower), upper)
            let sameForward = expected.isNaN ? y[i].isNaN : y[i] == expected
            let sameBackward = dx[i] == (x[i] > lower && x[i] < upper ? dy[i] : 0)
            if !sameForward || !sameBackward { wrong.append("x \(x[i]): y \(y[i]), dx \(dx[i])") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(count) elements differ: \(wrong.prefix(4))")
    }

    @Test(arguments: [(1, 1, 1), (3, 50, 2_001), (2, 7, 30_000)])
    func biasGradientSumsEachChannel(size: (Int, Int, Int)) {
        let (batch, channels, plane) = size
        let dy = TestRandom.values(batch * channels * plane, seed: 33)
        var db = [Float](repeating: .nan, count: channels)
        ConvolutionKernel.biasGradient(batch: batch, channels: channels, plane: plane, gradOutput: dy, gradBias: &db)
        for k in 0..<channels {
            var s = 0.0
            for n in 0..<batch { for p in 0..<plane { s += Double(dy[(n * channels + k) * plane + p]) } }
            #expect(Swift.abs(Double(db[k]) - s) <= 1e-4 * Double(batch * plane).squareRoot() + 1e-5, "channel \(k)")
        }
    }
}
