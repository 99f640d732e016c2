import ConvKit
import Testing

/// Pooling and padding against PyTorch (Fixtures/pool.safetensors, pad.safetensors).
@Suite struct PoolingOracleTests {
    @Test func poolingMatchesPyTorch() throws {
        let fx = try Fixture("pool")
        #expect(fx.cases.count >= 15)
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let x = try fx.required(i, "input", requiresGrad: true)
            let rank = c["rank"]!.intValue!
            let label = "case \(i) \(c.serialized)"
            let y: Tensor
            switch c["op"]!.stringValue! {
            case "max":
                let f = rank == 1 ? maxPool1dWithIndices : maxPool2dWithIndices
                let (out, indices) = try f(x, PerAxis(c["kernel"]!.ints), PerAxis(c["stride"]!.ints),
                                           PerAxis(c["padding"]!.ints), PerAxis(c["dilation"]!.ints), c["ceil_mode"]!.bool)
                #expect(indices == (try fx.integers(i, "indices")), "\(label) indices")
                y = out
            case "avg":
                let k = PerAxis(c["kernel"]!.ints), s = PerAxis(c["stride"]!.ints), p = PerAxis(c["padding"]!.ints)
                let ceil = c["ceil_mode"]!.bool, include = c["count_include_pad"]!.bool
                if rank == 1 {
                    y = try avgPool1d(x, kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: include)
                } else {
                    y = try avgPool2d(x, kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: include,
                                      divisorOverride: c["divisor_override"]?.intValue)
                }
            default:
                let size = PerAxis(c["output_size"]!.ints)
                y = rank == 1 ? try adaptiveAvgPool1d(x, outputSize: size) : try adaptiveAvgPool2d(x, outputSize: size)
            }
            expectClose(y, try fx.required(i, "output"), "\(label) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
        }
    }

    @Test func padMatchesPyTorch() throws {
        let fx = try Fixture("pad")
        #expect(fx.cases.count == 12)
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let x = try fx.required(i, "input", requiresGrad: true)
            let y = try pad(x, before: c["before"]!.ints, after: c["after"]!.ints,
                            mode: PaddingMode(rawValue: c["mode"]!.stringValue!)!, value: Float(c["value"]!.double!))
            expectClose(y, try fx.required(i, "output"), "case \(i) \(c.serialized) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "case \(i) \(c.serialized) grad input")
        }
    }

    @Test func globalPoolingReducesEachPlane() throws {
        let x = try Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, -1, -5, 0, -2])
        #expect(try globalAvgPool(x).scalars == [2.5, -2])
        #expect(try globalAvgPool(x).shape == [1, 2, 1, 1])
        #expect(try globalMaxPool(x).scalars == [4, 0])
        #expect(try globalMaxPool(x).shape == [1, 2, 1, 1])
    }
}
