import ConvKit
import Testing

/// `Sequential` runs a ReLU followed by an unpadded max pooling as the pooling first and the
/// ReLU on the pooled map. Against the two modules called one by one (ReLU, then pooling):
/// outputs and input gradients equal bit for bit, on inputs made of small integers (ties within
/// windows, windows whose largest value is 0 or negative), infinities and NaNs; 1-D, 2-D and
/// 3-D pools, overlapping windows, ceil mode. Padded pools keep the written order, and so does
/// a traced call (`namedOutputs` sees the ReLU's full-size map).
@Suite struct ReLUPoolingOrderTests {
    static func input(_ shape: [Int], seed: UInt64, finite: Bool = false) throws -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let values: [Float] = (0..<shape.reduce(1, *)).map { _ in
            switch Int.random(in: finite ? 3..<50 : 0..<50, using: &rng) {
            case 0: return .nan
            case 1: return .infinity
            case 2: return -.infinity
            default: return Float(Int.random(in: -3...2, using: &rng))
            }
        }
        return try Tensor(shape: shape, scalars: values)
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5])
    func poolingFirstEqualsReLUFirst(_ configuration: Int) throws {
        let (pool, shape): (any Module, [Int]) = switch configuration {
        case 0: (MaxPool2d(kernelSize: 2), [2, 3, 8, 10])
        case 1: (MaxPool2d(kernelSize: 2), [1, 2, 7, 9])
        case 2: (MaxPool2d(kernelSize: 3, stride: 2, ceilMode: true), [2, 2, 9, 12])
        case 3: (MaxPool1d(kernelSize: 3, stride: 1), [2, 3, 17])
        case 4: (MaxPool3d(kernelSize: 2), [1, 2, 4, 6, 6])
        default: (MaxPool2d(kernelSize: 2, padding: 1), [2, 2, 6, 6])
        }
        // Finite upstream gradients: NaNs in them would hide where the gradient went.
        let upstream = try Self.input(try Sequential([ReLU(), pool])(try Self.input(shape, seed: 1)).shape, seed: 2, finite: true)
        func run(_ body: (Tensor) throws -> Tensor) throws -> (output: [Float], gradient: [Float]) {
            let x = try Self.input(shape, seed: 1)
            x.requiresGrad = true
            let y = try body(x)
            try y.backward(gradient: upstream)
            return (y.scalars, x.grad!.scalars)
        }
        let swapped = try run { try Sequential([ReLU(), pool])($0) }
        let written = try run { try pool.forward(try ReLU().forward($0)) }
        #expect(Self.sameBits(swapped.output, written.output), "configuration \(configuration): outputs")
        #expect(Self.sameBits(swapped.gradient, written.gradient), "configuration \(configuration): input gradients")
        #expect(written.gradient.contains(0) && written.gradient.contains { $0 != 0 }, "some windows pass gradients, some do not")
    }

    /// While a trace watches module calls, the ReLU runs first and its own output is the one seen.
    @Test func tracedCallsKeepTheWrittenOrder() throws {
        var g = SeededGenerator(seed: 4)
        let model = Sequential([try Conv2d(1, 4, kernelSize: 3, padding: 1, using: &g), ReLU(), MaxPool2d(kernelSize: 2)])
        let x = try Self.input([2, 1, 8, 8], seed: 3, finite: true)
        let outputs = try model.namedOutputs(x)
        #expect(outputs.map(\.path) == ["0", "1", "2", ""])
        #expect(outputs[1].output.shape == [2, 4, 8, 8] && outputs[2].output.shape == [2, 4, 4, 4])
        #expect(Self.sameBits(outputs[3].output.scalars, try model(x).scalars))
    }
}
