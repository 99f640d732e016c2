import ConvKit
import Testing

/// conv1d/conv2d and their transposes against PyTorch (Fixtures/conv*.safetensors).
@Suite struct ConvolutionOracleTests {
    static func padding(_ v: JSONValue) -> Padding {
        switch v.stringValue {
        case "same": return .same
        case "valid": return .valid
        default: return .explicit(before: v["before"]!.ints, after: v["after"]!.ints)
        }
    }

    /// Runs forward and backward for case i and compares everything PyTorch recorded.
    static func check(_ fx: Fixture, _ i: Int, transposed: Bool) throws {
        let c = fx.cases[i]
        let x = try fx.required(i, "input", requiresGrad: true)
        let w = try fx.required(i, "weight", requiresGrad: true)
        let b = try fx.tensor(i, "bias", requiresGrad: true)
        let rank = c["rank"]!.intValue!
        let stride = PerAxis(c["stride"]!.ints), dilation = PerAxis(c["dilation"]!.ints)
        let groups = c["groups"]!.intValue!
        let y: Tensor
        if transposed {
            let f = rank == 1 ? convTranspose1d : convTranspose2d
            y = try f(x, w, b, stride, PerAxis(c["padding"]!.ints), PerAxis(c["output_padding"]!.ints), groups, dilation)
        } else {
            let mode = PaddingMode(rawValue: c["mode"]!.stringValue!)!
            let f = rank == 1 ? conv1d : conv2d
            y = try f(x, w, b, stride, padding(c["padding"]!), dilation, groups, mode, .automatic)
        }
        let label = "case \(i) \(c.serialized)"
        expectClose(y, try fx.required(i, "output"), "\(label) output")
        try y.backward(gradient: try fx.required(i, "grad_output"))
        expectClose(x.grad, try fx.required(i, "grad_input"), "\(label) grad input")
        expectClose(w.grad, try fx.required(i, "grad_weight"), "\(label) grad weight")
        if let b { expectClose(b.grad, try fx.required(i, "grad_bias"), "\(label) grad bias") }
    }

    @Test func convolutionMatchesPyTorch() throws {
        let fx = try Fixture("conv")
        #expect(fx.cases.count >= 50)
        for i in fx.cases.indices { try Self.check(fx, i, transposed: false) }
    }

    @Test func transposedConvolutionMatchesPyTorch() throws {
        let fx = try Fixture("conv_transpose")
        #expect(fx.cases.count >= 20)
        for i in fx.cases.indices { try Self.check(fx, i, transposed: true) }
    }
}
