import ConvKit
import Foundation
import Hummingbird

/// `/api/convolve`, `/api/steps`, `/api/transposed`: a drawing filtered by kernels, and a
/// convolution written out step by step (the playground, the stepper, the 1-D page).
struct ConvolutionController: Sendable {
    let limit: Int

    struct ConvolveRequest: Decodable, Sendable {
        var input: [[Float]]
        var kernels: [KernelRequest]
        var stride: Int?, padding: GeometryRequest.PaddingValue?, dilation: Int?, mode: String?
        var geometry: GeometryRequest { GeometryRequest(stride: stride, padding: padding, dilation: dilation, mode: mode) }
    }

    /// One kernel's response to the drawing (name and matrix echo what was applied).
    struct KernelOutput: Encodable { var name: String; var kernel: [[Float]]; var output: [[Float]] }

    struct StepsRequest: Decodable, Sendable {
        /// One grid, or one per channel (summed, as a multi-channel filter).
        var input: [[Float]]?
        var channels: [[[Float]]]?
        var signal: [Float]?
        var kernel: KernelRequest?
        var kernels: [[[Float]]]?
        var kernel1d: [Float]?
        /// A 1-D kernel as typed ("1,0,-1"), parsed by the library.
        var kernelText: String?
        var stride: Int?, padding: GeometryRequest.PaddingValue?, dilation: Int?, mode: String?
        var flip: Bool?
        var geometry: GeometryRequest { GeometryRequest(stride: stride, padding: padding, dilation: dilation, mode: mode) }
    }

    func addRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.post("convolve") { request, _ in await json(request, limit: limit, convolve) }
        api.post("steps") { request, _ in await json(request, limit: limit, steps) }
        api.post("transposed") { request, _ in await json(request, limit: limit, transposed) }
    }

    @Sendable func convolve(_ body: ConvolveRequest) throws -> [KernelOutput] {
        let grid = try checkGrid(body.input, name: "input", maxSide: 128)
        guard (1...8).contains(body.kernels.count) else { throw LabError(status: .badRequest, message: "send 1 to 8 kernels") }
        let g = try body.geometry.resolved()
        let image = try Image(width: grid.shape[1], height: grid.shape[0], channels: 1, pixels: grid.scalars)
        return try body.kernels.map { k in
            let (name, matrix) = try k.resolved()
            let out = if let named = NamedKernel(rawValue: name), k.matrix == nil {
                try ImageFilter.apply(named, sigma: k.sigma ?? 1, to: image, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
            } else {
                try ImageFilter.apply(matrix, to: image, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
            }
            return KernelOutput(name: name, kernel: matrix, output: rows(try out.squeezed(axis: 0)))
        }
    }

    @Sendable func steps(_ body: StepsRequest) throws -> TracedConvolution {
        let g = try body.geometry.resolved()
        var inputs: [Tensor] = [], kernels: [Tensor] = []
        if let signal = body.signal {
            guard (1...1024).contains(signal.count), signal.allSatisfy(\.isFinite) else {
                throw LabError(status: .badRequest, message: "signal must hold 1 to 1,024 finite numbers")
            }
            let k = try body.kernelText.map { text -> [Float] in
                let matrix = try NamedKernel.parseMatrix(text, what: "kernel")
                guard matrix.count == 1 else { throw LabError(status: .badRequest, message: "a 1-D kernel is one row of numbers like 1,0,-1") }
                return matrix[0]
            } ?? body.kernel1d ?? [1, 0, -1]
            guard (1...31).contains(k.count), k.allSatisfy(\.isFinite) else { throw LabError(status: .badRequest, message: "the kernel must hold 1 to 31 numbers") }
            (inputs, kernels) = ([Tensor(signal)], [Tensor(k)])
        } else {
            let grids = body.channels ?? body.input.map { [$0] } ?? []
            guard (1...4).contains(grids.count) else { throw LabError(status: .badRequest, message: "send input (a grid) or 1 to 4 channels") }
            inputs = try grids.map { try checkGrid($0, name: "input", maxSide: 32) }
            if let ks = body.kernels {
                guard ks.count == grids.count else { throw LabError(status: .badRequest, message: "send one kernel per channel (\(grids.count))") }
                kernels = try ks.map { try checkGrid($0, name: "kernel", maxSide: 9) }
            } else {
                let k = try Tensor(rows: try (body.kernel ?? KernelRequest(name: "sobel-x")).resolved().matrix)
                kernels = Array(repeating: k, count: grids.count)
            }
        }
        return try traceConvolution(channels: inputs, kernels: kernels, stride: g.stride, padding: g.padding, dilation: g.dilation,
                                    paddingMode: g.mode, flip: body.flip ?? false)
    }

    @Sendable func transposed(_ body: StepsRequest) throws -> TracedTransposedConvolution {
        let x = try checkGrid(body.input ?? [], name: "input", maxSide: 16)
        let k = try Tensor(rows: try (body.kernel ?? KernelRequest(name: "sobel-x")).resolved().matrix)
        guard k.shape.allSatisfy({ $0 <= 9 }) else { throw LabError(status: .badRequest, message: "the kernel may be at most 9×9 here") }
        let g = try body.geometry.resolved(maxStride: 4, maxPadding: 4)
        return try transposedConvolutionSteps(input: x, kernel: k, stride: g.stride, padding: g.padding, dilation: g.dilation)
    }
}

/// A 2-D tensor's rows.
func rows(_ t: Tensor) -> [[Float]] {
    let w = t.shape.last ?? 1
    return stride(from: 0, to: t.count, by: Swift.max(w, 1)).map { Array(t.scalars[$0..<($0 + w)]) }
}
