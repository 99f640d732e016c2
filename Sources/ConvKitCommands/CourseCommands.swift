import ArgumentParser
import ConvKit
import Foundation

struct Conv1D: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv1d", abstract: "1-D convolution of a signal, optionally explained step by step.",
        discussion: "Example: convkit conv1d --signal 1,2,3,4,5 --kernel 1,0,-1 --explain")
    @Option(help: "The signal, e.g. 1,2,3,4,5.") var signal: String
    @Option(help: "The kernel, e.g. 1,0,-1.") var kernel: String
    @OptionGroup var geometry: GeometryOptions
    @Flag(help: "Print each window, the products and the sum.") var explain = false
    @Flag(help: "True convolution (kernel flipped) instead of cross-correlation.") var flip = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let x = Tensor(try floats(signal, "--signal")), k = Tensor(try floats(kernel, "--kernel"))
        try emitTrace(input: x, kernel: k, geometry: geometry, flip: flip, explain: explain, output: output)
    }
}

/// conv1d and conv2d: the library's trace, printed (with every step when `explain`) or as JSON.
func emitTrace(input: Tensor, kernel: Tensor, geometry: GeometryOptions, flip: Bool, explain: Bool, output: OutputOptions) throws {
    let g = try geometry.resolved()
    let trace = try traceConvolution(channels: [input], kernels: [kernel], stride: g.stride, padding: g.padding, dilation: g.dilation,
                                     paddingMode: g.mode, flip: flip)
    try output.emit(trace) {
        (explain ? trace.steps[0].map(\.explanation).joined(separator: "\n") + "\n" : "") + rowsText(trace.rows)
    }
}

struct Conv2D: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv2d", abstract: "2-D convolution of a small matrix, optionally explained position by position.",
        discussion: """
            Example (the course's 5×5 animation):
              convkit conv2d --input "1,2,0,1,2; 0,1,2,1,0; 2,0,1,0,1; 1,2,0,2,1; 0,1,2,1,0" --kernel sobel-x --explain
            """)
    @Option(help: "The input matrix: rows separated by ';', values by ','.") var input: String
    @Option(help: "A kernel name (sobel-x, laplacian, …) or a matrix.") var kernel: String
    @OptionGroup var geometry: GeometryOptions
    @Flag(help: "Print 'Position (i, j): (a×b) + … = s' for every position.") var explain = false
    @Flag(help: "True convolution (kernel rotated 180°).") var flip = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let x = try Tensor(rows: try NamedKernel.parseMatrix(input, what: "input"))
        let k = try Tensor(rows: try NamedKernel.parse(kernel).matrix)
        try emitTrace(input: x, kernel: k, geometry: geometry, flip: flip, explain: explain, output: output)
    }
}

struct OutSize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outsize", abstract: "Output size of a convolution or pooling layer, with the formula filled in.",
        discussion: "Example: convkit outsize --input 28 --kernel 3 --padding 1 --stride 1   (prints 28)")
    @Option(help: "Input size (n, or h,w).") var input: String
    @Option(help: "Kernel size (k, or h,w).") var kernel: String
    @Option(help: "Padding per side, or 'same' / 'valid'.") var padding = "0"
    @Option(help: "Stride.") var stride = "1"
    @Option(help: "Dilation.") var dilation = "1"
    @OptionGroup var output: OutputOptions

    func run() throws {
        let lines = try outputSizeLines(
            input: try PerAxis(parsing: input, argument: "--input").values, kernel: try PerAxis(parsing: kernel, argument: "--kernel").values,
            stride: try PerAxis(parsing: stride, argument: "--stride"), padding: try Padding(parsing: padding, argument: "--padding"),
            dilation: try PerAxis(parsing: dilation, argument: "--dilation"))
        var text: [String] = ["out = floor((n + 2p − d(k − 1) − 1) / s) + 1"]
        for l in lines {
            text.append(l.text)
            if l.dilation > 1 { text.append("effective kernel extent 1 + d(k − 1) = \(l.effectiveKernel)") }
        }
        text.append("output size: " + lines.map { String($0.output) }.joined(separator: "×"))
        try output.emit(lines) { text.joined(separator: "\n") }
    }
}

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params", abstract: "Parameters of a fully connected layer versus a convolution (the course's tables).",
        discussion: """
            Without options: the course's table (MNIST, CIFAR, ImageNet, HD into 1,000 hidden units vs a 3×3 conv with 64 filters).
            Example: convkit params --input 224x224x3 --hidden 1000 --kernel 3 --filters 64
            """)
    @Option(help: "Image size HxWxC (e.g. 224x224x3).") var input: String?
    @Option(parsing: .unconditional, help: "Hidden units of the fully connected layer.") var hidden = 1000
    @Option(parsing: .unconditional, help: "Kernel size of the convolution.") var kernel = 3
    @Option(parsing: .unconditional, help: "Number of convolution filters.") var filters = 64
    @Flag(help: "Count weights only (the course sometimes leaves biases out).") var noBias = false
    @Option(help: "Parameters of one conv layer: IN,OUT,K (e.g. 17,64,3 for the course's Conv1d).") var conv: String?
    @Option(parsing: .unconditional, help: "Rank of --conv (1 for Conv1d, 2 for Conv2d, 3 for Conv3d).") var rank = 1
    @OptionGroup var output: OutputOptions

    func run() throws {
        if let conv {
            let v = try PerAxis(parsing: conv, argument: "--conv").values
            guard v.count == 3 else { throw ValidationError("--conv needs IN,OUT,K, e.g. 17,64,3") }
            let count = try ParameterCount.Convolution(inChannels: v[0], outChannels: v[1], kernelSize: v[2], rank: rank, bias: !noBias)
            try output.emit(count) { count.formula }
            return
        }
        let rows: [ParameterCount.Comparison]
        if let input {
            let v = try PerAxis(parsing: input, argument: "--input").values
            guard v.count == 3 || v.count == 2 else { throw ValidationError("--input must be HxWxC, e.g. 224x224x3") }
            let c = v.count == 3 ? v[2] : 1
            rows = [try ParameterCount.Comparison(name: "\(v[0]) × \(v[1]) × \(c)", height: v[0], width: v[1], channels: c,
                                                  hidden: hidden, kernel: kernel, filters: filters, bias: !noBias)]
        } else {
            rows = try ParameterCount.courseTable(hidden: hidden, kernel: kernel, filters: filters, bias: !noBias)
        }
        try output.emit(rows) {
            table([["Image", "Inputs", "FC → \(groupedDigits(hidden))", "Conv \(kernel)×\(kernel)×C×\(filters)", "Ratio"]] + rows.map { r in
                [r.name, groupedDigits(r.inputs), groupedDigits(r.fullyConnected), groupedDigits(r.convolution),
                 r.ratio < 1e15 ? groupedDigits(Int(r.ratio.rounded())) + "×" : String(format: "%.3g×", r.ratio)]
            })
        }
    }
}

struct ReceptiveField: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf", abstract: "Receptive field layer by layer: size, jump and start.",
        discussion: """
            Examples: convkit rf --layers c3,c3,c3        (3 → 5 → 7)
                      convkit rf resnet18                 (from the model's layers)
            Layer codes: cK conv K×K, pK pool; add sS stride, dD dilation, pP padding (c7s2p3).
            """)
    @Argument(help: "A zoo model (see `convkit models`).") var model: String?
    @Option(help: "Layers, e.g. c3,c3,p2,c3s2.") var layers: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        if let spec = layers {
            let steps = try receptiveFieldGrowth(try WindowLayer.parseList(spec))
            try output.emit(steps) {
                table([["Layer", "k", "s", "d", "p", "RF size", "jump", "start"]] + steps.enumerated().map { i, s in
                    ["\(i + 1) \(s.layer.name)", "\(s.layer.kernel)", "\(s.layer.stride)", "\(s.layer.dilation)", "\(s.layer.padding)",
                     "\(s.size)", "\(s.jump)", number(Float(s.start))]
                })
            }
        } else if let model {
            let entry = try Zoo.entry(model)
            let summary = try entry.build().summary(inputShape: [1] + entry.inputShape)
            let rows = summary.rows.filter { !$0.isContainer }
            try output.emit(rows) {
                table([["Layer", "Type", "RF size", "jump"]] + rows.map { r in
                    [r.name, r.type, r.receptiveField.map { "\($0.size[0])" } ?? "global", r.receptiveField.map { "\($0.jump[0])" } ?? "-"]
                })
            }
        } else {
            throw ValidationError("give a model name or --layers, e.g. convkit rf --layers c3,c3,c3")
        }
    }
}

struct Matrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix", abstract: "A convolution as a sparse matrix with shared entries (exercise 3 of 001).",
        discussion: "Example: convkit matrix --input 6x6 --kernel 3x3   (a 16 × 36 matrix, 9 shared values per row)")
    @Option(help: "Input size HxW.") var input = "6x6"
    @Option(help: "Kernel size KxK, or a kernel name/matrix.") var kernel = "3x3"
    @Option(parsing: .unconditional, help: "Stride.") var stride = 1
    @Option(parsing: .unconditional, help: "Padding.") var padding = 0
    @OptionGroup var output: OutputOptions

    func run() throws {
        let size = try PerAxis(parsing: input, argument: "--input").values
        guard size.count == 2 || size.count == 1 else { throw ValidationError("--input must be HxW") }
        let (h, w) = (size[0], size.count == 2 ? size[1] : size[0])
        let k: Tensor
        if let dims = try? PerAxis(parsing: kernel, argument: "--kernel").values, dims.count <= 2 {
            k = try numberedKernel(height: dims[0], width: dims.count == 2 ? dims[1] : dims[0])  // distinct values show the sharing
        } else {
            k = try Tensor(rows: try NamedKernel.parse(kernel).matrix)
        }
        let m = try convolutionMatrix(height: h, width: w, kernel: k, stride: stride, padding: padding)
        let difference = try convolutionMatrixCheck(m, height: h, width: w, kernel: k, stride: stride, padding: padding)
        let nonZero = m.scalars.filter { $0 != 0 }.count
        struct Result: Encodable { let shape: [Int], nonZero: Int, maxDifference: Float }
        try output.emit(Result(shape: m.shape, nonZero: nonZero, maxDifference: difference)) {
            let legend = k.scalars.enumerated().map { "\(Character(UnicodeScalar(97 + $0.offset % 26)!))=\(number($0.element))" }.joined(separator: " ")
            let rows = (0..<m.shape[0]).map { r in
                (0..<m.shape[1]).map { c -> String in
                    let v = m.scalars[r * m.shape[1] + c]
                    guard v != 0, let i = k.scalars.firstIndex(of: v) else { return "·" }
                    return String(Character(UnicodeScalar(97 + i % 26)!))
                }.joined()
            }
            return "convolution matrix \(m.shape[0]) × \(m.shape[1]) (rows: outputs, columns: input pixels), kernel \(legend)\n"
                + rows.joined(separator: "\n")
                + "\nnon-zero entries: \(nonZero) of \(m.count) (\(k.count) per row, all rows share the same \(k.count) values)"
                + "\nmax |matrix × x − conv2d(x)| = \(String(format: "%.2e", difference))"
        }
    }
}

struct Equivariance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equivariance", abstract: "Shift-then-convolve versus convolve-then-shift (exercise 2 of 001), and pooling.",
        discussion: "Example: convkit equivariance --shift 5")
    @Option(parsing: .unconditional, help: "Shift in pixels.") var shift = 5
    @Option(parsing: .unconditional, help: "Image side.") var size = 32
    @OptionGroup var output: OutputOptions

    func run() throws {
        let r = try equivarianceReport(size: size, shift: shift)
        try output.emit(r) {
            """
            shift by \(r.shift) pixels, 3×3 convolution on a \(size)×\(size) image:
              circular padding: max |conv(shift(x)) − shift(conv(x))| = \(String(format: "%.2e", r.circularDifference))  (equivariant)
              zero padding:     max difference = \(String(format: "%.4f", r.zeroPaddingDifference)) at the borders, \(String(format: "%.2e", r.zeroPaddingInteriorDifference)) away from them
            2×2 max pooling, input shifted by 1 pixel:
              \(String(format: "%.1f", r.poolingUnchangedFraction * 100)) % of pooled values unchanged (local invariance), max change \(String(format: "%.4f", r.poolingDifference))
            """
        }
    }
}

struct Correlation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correlation", abstract: "Adjacent versus distant pixel correlation on a photo (001's locality snippet).",
        discussion: "Example: convkit correlation camera   (a bundled photo, or a PNG or JPEG path)")
    @Argument(help: "A PNG or JPEG file, a bundled photo (camera, chelsea) or checkerboard.") var image = "camera"
    @OptionGroup var output: OutputOptions

    func run() throws {
        let r = try pixelCorrelations(try Image.named(image) ?? Image(contentsOf: image))
        try output.emit(r) {
            String(format: "Adjacent pixel correlation: %.4f\nDistant pixel correlation: %.4f", r.adjacent, r.distant)
        }
    }
}

struct Filter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter", abstract: "Apply a kernel to a photo and write the result as PNG (or raw safetensors).",
        discussion: """
            Kernels: \(NamedKernel.allCases.map(\.rawValue).joined(separator: ", ")), or a matrix "1,0,-1; 2,0,-2; 1,0,-1".
            σ for gaussian and blob: 0.1…10. The output's extension chooses the format: .png (display-scaled) or .safetensors (raw values).
            Example: convkit filter camera --kernel sobel -o edges.png
            """)
    @Argument(help: "A PNG or JPEG file, a bundled photo (camera, chelsea) or checkerboard.") var image: String
    @Option(help: "Kernel name or matrix.") var kernel: String
    @Option(parsing: .unconditional, help: "σ for gaussian and blob (0.1…10).") var sigma: Float = 1
    @OptionGroup var geometry: GeometryOptions
    @Flag(help: "Convert to gray first.") var gray = false
    @Flag(help: "Keep raw values (needs an output ending in .safetensors).") var raw = false
    @Option(name: .shortAndLong, help: "Output file: NAME.png or NAME.safetensors.") var output: String

    func run() throws {
        let format = try FilterOutput(path: output, raw: raw)
        let g = try geometry.resolved()
        var picture = try Image.named(image) ?? Image(contentsOf: image)
        picture = gray ? picture.grayscale : picture.withoutAlpha
        let result: Tensor, matrix: [[Float]]
        if let named = NamedKernel(rawValue: kernel.lowercased()) {
            matrix = try named.matrix(sigma: sigma)
            result = try ImageFilter.apply(named, sigma: sigma, to: picture, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
        } else {
            matrix = try NamedKernel.parse(kernel).matrix
            result = try ImageFilter.apply(matrix, to: picture, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
        }
        var mapping = "raw values"
        switch format {
        case .safetensors: try SafeTensors.write([("output", .tensor(result))], to: output)
        case .png:
            let display = try ImageFilter.display(result, kernel: matrix)
            try PNG.write(display.image, to: output)
            mapping = display.mapping
        }
        print("\(output): \(result.shape[2])×\(result.shape[1]), \(result.shape[0]) channel\(result.shape[0] == 1 ? "" : "s"); \(mapping)")
    }
}

/// What `filter` writes, from the output's extension (checked before any work).
enum FilterOutput {
    case png, safetensors

    init(path: String, raw: Bool) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        switch (ext, raw) {
        case ("safetensors", _): self = .safetensors
        case ("png", false): self = .png
        case ("png", true): throw ValidationError("--raw writes safetensors; name the output NAME.safetensors, not '\(path)'")
        default: throw ValidationError("-o must end in .png or .safetensors, got '\(path)'")
        }
    }
}

struct Pool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Max, average or global-average pooling of a small matrix.",
        discussion: "Example (004): convkit pool --input \"1,3,2,0; 4,2,1,3; 0,1,4,2; 3,2,1,0\" --kernel 2")
    @Option(help: "The input matrix: rows separated by ';'.") var input: String
    @Option(parsing: .unconditional, help: "Window size.") var kernel = 2
    @Option(parsing: .unconditional, help: "Stride (default: the window size).") var stride: Int?
    @Option(help: "max, avg or global-avg.") var mode = "max"
    @OptionGroup var output: OutputOptions

    func run() throws {
        let x = try Tensor(rows: try NamedKernel.parseMatrix(input, what: "input")).unsqueezed(axis: 0)
        let y: Tensor
        switch mode {
        case "max": y = try maxPool2d(x, kernelSize: PerAxis(kernel), stride: stride.map { PerAxis($0) })
        case "avg": y = try avgPool2d(x, kernelSize: PerAxis(kernel), stride: stride.map { PerAxis($0) })
        case "global-avg": y = try globalAvgPool(try x.unsqueezed(axis: 0)).reshaped(to: [1, 1, 1])
        default: throw ValidationError("--mode must be max, avg or global-avg, got '\(mode.prefix(40))'")
        }
        let result = try y.squeezed(axis: 0)
        struct Result: Encodable { let shape: [Int], output: [Float] }
        try output.emit(Result(shape: result.shape, output: result.scalars)) { result.rowsText }
    }
}
