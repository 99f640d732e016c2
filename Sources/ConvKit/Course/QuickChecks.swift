import Foundation

/// One of the course's quick checks (000–004), answered by the engine: the question with the
/// learner's numbers in it, the answer, and the arithmetic (or the experiment) worked through.
/// The lab ends each page with the checks of its section (`QuickCheck.checks(forPage:)`).
public struct QuickCheck: Sendable, Encodable {
    /// A number the learner can change.
    public struct Input: Sendable, Encodable {
        public let name: String, label: String, value: Int, minimum: Int, maximum: Int
    }

    public let id: String
    /// Where the course asks it, e.g. "000, Quick Check".
    public let source: String
    public let question: String
    public let inputs: [Input]
    public let answer: String
    /// The working, one line each.
    public let steps: [String]

    /// The check `id` answered for `values` (by input name; missing inputs take the course's
    /// own numbers).
    /// - Throws: `ConvKitError.invalidArgument` for an unknown id or input name, or a value
    ///   outside its input's range; `ConvKitError` from the engine for impossible settings.
    public static func answered(_ id: String, values: [String: Int] = [:]) throws -> QuickCheck {
        guard let definition = definitions.first(where: { $0.id == id }) else {
            throw ConvKitError.invalidArgument(op: "quickCheck", argument: "id", message: "must be one of \(definitions.map(\.id).joined(separator: ", "))")
        }
        if let unknown = values.keys.sorted().first(where: { key in !definition.inputs.contains { $0.name == key } }) {
            throw ConvKitError.invalidArgument(op: "quickCheck \(id)", argument: unknown,
                                               message: "is not an input; the inputs are \(definition.inputs.map(\.name).joined(separator: ", "))")
        }
        var chosen: [String: Int] = [:]
        let inputs = try definition.inputs.map { i in
            let v = values[i.name] ?? i.value
            try Limits.check(v, in: i.minimum...i.maximum, op: "quickCheck \(id)", argument: i.name)
            chosen[i.name] = v
            return Input(name: i.name, label: i.label, value: v, minimum: i.minimum, maximum: i.maximum)
        }
        let (question, answer, steps) = try definition.answer(chosen)
        return QuickCheck(id: id, source: definition.source, question: question, inputs: inputs, answer: answer, steps: steps)
    }

    /// The checks that end a lab page (playground, stepper, conv1d, receptive-field,
    /// connectivity, params, digits, photo), with the course's numbers; none for other names.
    public static func checks(forPage page: String) throws -> [QuickCheck] {
        try definitions.filter { $0.page == page }.map { try answered($0.id) }
    }

    /// Every check's id, in course order.
    public static var ids: [String] { definitions.map(\.id) }
}

// MARK: - The checks

private struct Definition: Sendable {
    let id: String, page: String, source: String
    let inputs: [QuickCheck.Input]
    let answer: @Sendable ([String: Int]) throws -> (question: String, answer: String, steps: [String])
}

private func input(_ name: String, _ label: String, _ value: Int, _ range: ClosedRange<Int>) -> QuickCheck.Input {
    QuickCheck.Input(name: name, label: label, value: value, minimum: range.lowerBound, maximum: range.upperBound)
}

private func n(_ v: Int) -> String { groupedDigits(v) }

/// The product of image sides and channels, overflow-checked.
private func pixels(_ values: Int..., what: String = "inputs") throws -> Int {
    try values.dropFirst().reduce(values[0]) { try Limits.product($0, $1, op: "quickCheck", what: what) }
}

private let side = 1...100_000, channels = 1...10_000, units = 1...1_000_000, kernel = 1...31

private let definitions: [Definition] = [
    Definition(id: "fc-weights", page: "connectivity", source: "000, Quick Check",
               inputs: [input("h", "height", 32, side), input("w", "width", 32, side), input("c", "channels", 3, channels), input("units", "hidden units", 512, units)]) { v in
        let inputs = try pixels(v["h"]!, v["w"]!, v["c"]!)
        let weights = try ParameterCount.fullyConnected(inputs: inputs, outputs: v["units"]!, bias: false)
        return ("A fully-connected layer maps a \(v["h"]!)×\(v["w"]!)×\(v["c"]!) input to \(n(v["units"]!)) hidden units. How many weights (excluding bias) does it have?",
                "\(n(weights)) weights",
                ["inputs = \(v["h"]!) × \(v["w"]!) × \(v["c"]!) = \(n(inputs))", "each unit has one weight per input: \(n(inputs)) × \(n(v["units"]!)) = \(n(weights))"])
    },
    Definition(id: "parameter-sharing", page: "connectivity", source: "001, Quick Check",
               inputs: [input("size", "image side", 4, 2...1000), input("k", "kernel", 3, kernel)]) { v in
        let (s, k) = (v["size"]!, v["k"]!)
        let fc = try ParameterCount.fullyConnected(inputs: s * s, outputs: s * s, bias: false)
        return ("Which property of images does parameter sharing exploit?",
                "translation invariance of image statistics: an edge looks the same wherever it is, so one \(k)×\(k) kernel serves every position",
                ["a fully-connected map from \(s)×\(s) to \(s)×\(s) pixels has \(n(s * s)) × \(n(s * s)) = \(n(fc)) weights, each used once",
                 "a \(k)×\(k) convolution stores \(k * k) weights and reuses them at all \(n(s * s)) positions (\(n(fc / Swift.max(k * k, 1)))× fewer)"])
    },
    Definition(id: "output-length", page: "conv1d", source: "000, Quick Check",
               inputs: [input("n", "signal length", 10, 1...Int(Int32.max)), input("k", "kernel length", 4, 1...Int(Int32.max)),
                        input("s", "stride", 1, 1...Int(Int32.max)), input("p", "padding", 0, 0...Int(Int32.max))]) { v in
        let line = try outputSizeLines(input: [v["n"]!], kernel: [v["k"]!], stride: PerAxis(v["s"]!), padding: Padding(integerLiteral: v["p"]!))[0]
        return ("A signal of length \(n(v["n"]!)) is convolved with a kernel of length \(n(v["k"]!)) (stride \(n(v["s"]!)), padding \(n(v["p"]!))). What is the output length?",
                "\(n(line.output))", ["out = floor((n + 2p − d(k − 1) − 1) / s) + 1", line.text])
    },
    Definition(id: "output-size-2d", page: "stepper", source: "000, 2-D convolution; 002, output size",
               inputs: [input("n", "input side", 5, 1...Int(Int32.max)), input("k", "kernel", 3, 1...Int(Int32.max)),
                        input("s", "stride", 1, 1...Int(Int32.max)), input("p", "padding", 0, 0...Int(Int32.max)), input("d", "dilation", 1, 1...Int(Int32.max))]) { v in
        let line = try outputSizeLines(input: [v["n"]!], kernel: [v["k"]!], stride: PerAxis(v["s"]!), padding: Padding(integerLiteral: v["p"]!), dilation: PerAxis(v["d"]!))[0]
        return ("A \(v["n"]!)×\(v["n"]!) input and a \(v["k"]!)×\(v["k"]!) kernel (stride \(v["s"]!), padding \(v["p"]!), dilation \(v["d"]!)): how large is the output?",
                "\(n(line.output))×\(n(line.output))",
                ["out = floor((n + 2p − d(k − 1) − 1) / s) + 1, per axis", line.text, "the kernel's effective extent is 1 + d(k − 1) = \(n(1 + v["d"]! * (v["k"]! - 1)))"])
    },
    Definition(id: "receptive-field", page: "receptive-field", source: "001, Quick Check",
               inputs: [input("layers", "layers", 3, 1...100), input("k", "kernel", 3, kernel), input("s", "stride", 1, 1...4)]) { v in
        let steps = try receptiveFieldGrowth(Array(repeating: WindowLayer(kernel: v["k"]!, stride: v["s"]!), count: v["layers"]!))
        let size = steps.last?.size ?? 1
        return ("After \(v["layers"]!) layers of \(v["k"]!)×\(v["k"]!) convolutions (no padding, stride \(v["s"]!)), what is the receptive field size?",
                "\(n(size))×\(n(size))",
                ["r ← r + (k − 1)·j, j ← j·s, starting from r = 1, j = 1"] + steps.enumerated().map { "after layer \($0.offset + 1): r = \(n($0.element.size)), j = \(n($0.element.jump))" })
    },
    Definition(id: "fc-parameters", page: "params", source: "001, Quick Check",
               inputs: [input("h", "height", 512, side), input("w", "width", 512, side), input("c", "channels", 3, channels), input("units", "outputs", 1000, units)]) { v in
        let inputs = try pixels(v["h"]!, v["w"]!, v["c"]!)
        let total = try ParameterCount.fullyConnected(inputs: inputs, outputs: v["units"]!)
        return ("A \(v["h"]!)×\(v["w"]!) image with \(v["c"]!) channels is fed into a fully connected layer with \(n(v["units"]!)) output neurons. How many parameters are in this layer (including biases)?",
                "\(n(total)) parameters",
                ["inputs = \(v["h"]!) × \(v["w"]!) × \(v["c"]!) = \(n(inputs))", "weights + biases = \(n(inputs)) × \(n(v["units"]!)) + \(n(v["units"]!)) = \(n(total))"])
    },
    Definition(id: "fc-versus-conv", page: "params", source: "001, Exercises, conceptual question 1",
               inputs: [input("side", "image side", 64, side), input("c", "channels", 3, channels), input("features", "FC features", 512, units),
                        input("k", "conv kernel", 5, kernel), input("filters", "conv channels", 64, units)]) { v in
        let inputs = try pixels(v["side"]!, v["side"]!, v["c"]!)
        let fc = try ParameterCount.fullyConnected(inputs: inputs, outputs: v["features"]!)
        let conv = try ParameterCount.Convolution(inChannels: v["c"]!, outChannels: v["filters"]!, kernel: [v["k"]!, v["k"]!])
        return ("A fully connected first layer takes a \(v["side"]!)×\(v["side"]!)×\(v["c"]!) image to \(n(v["features"]!)) features; a convolution has \(n(v["filters"]!)) channels of \(v["k"]!)×\(v["k"]!). How many parameters each?",
                "FC \(n(fc)), conv \(n(conv.total)): \(ratioText(fc, conv.total)) fewer",
                ["FC: (\(v["side"]!)×\(v["side"]!)×\(v["c"]!)) × \(n(v["features"]!)) + \(n(v["features"]!)) = \(n(fc))", "conv: \(conv.formula)"])
    },
    Definition(id: "conv-parameters", page: "params", source: "004, Before You Go 2",
               inputs: [input("h", "height H", 64, side), input("w", "width W", 64, side), input("cin", "C_in", 3, channels),
                        input("cout", "C_out", 32, units), input("k", "kernel k", 3, kernel)]) { v in
        let conv = try ParameterCount.Convolution(inChannels: v["cin"]!, outChannels: v["cout"]!, kernel: [v["k"]!, v["k"]!])
        return ("A conv layer takes input of shape (\(v["h"]!), \(v["w"]!), \(v["cin"]!)) and has \(n(v["cout"]!)) filters each of size \(v["k"]!)×\(v["k"]!). How many learnable parameters does it have (including biases)?",
                "\(n(conv.total)) = (k·k·C_in + 1)·C_out",
                [conv.formula, "H and W do not appear: the same filters slide over an image of any size"])
    },
    Definition(id: "fc-or-conv", page: "params", source: "004, Before You Go 4",
               inputs: [input("fcIn", "FC inputs", 1000, units), input("fcOut", "FC outputs", 512, units), input("cin", "conv C_in", 32, channels),
                        input("cout", "conv C_out", 64, channels), input("k", "kernel", 3, kernel), input("side", "image side", 64, side)]) { v in
        let fc = try ParameterCount.fullyConnected(inputs: v["fcIn"]!, outputs: v["fcOut"]!)
        let conv = try ParameterCount.Convolution(inChannels: v["cin"]!, outChannels: v["cout"]!, kernel: [v["k"]!, v["k"]!])
        let mapIn = try pixels(v["side"]!, v["side"]!, v["cin"]!), mapOut = try pixels(v["side"]!, v["side"]!, v["cout"]!)
        let dense = try ParameterCount.fullyConnected(inputs: mapIn, outputs: mapOut)
        return ("A fully connected layer with \(n(v["fcIn"]!)) inputs and \(n(v["fcOut"]!)) outputs has how many parameters? A conv layer with \(v["cin"]!) input channels, \(v["cout"]!) output channels and \(v["k"]!)×\(v["k"]!) kernels? Which would you use on a \(v["side"]!)×\(v["side"]!) image?",
                "FC \(n(fc)), conv \(n(conv.total)); the convolution, which keeps the image's layout and needs \(ratioText(dense, conv.total)) fewer parameters than an FC map of the same feature maps",
                ["FC: \(n(v["fcIn"]!)) × \(n(v["fcOut"]!)) + \(n(v["fcOut"]!)) = \(n(fc))", "conv: \(conv.formula)",
                 "an FC layer from the \(v["side"]!)×\(v["side"]!)×\(v["cin"]!) maps to \(v["side"]!)×\(v["side"]!)×\(v["cout"]!) would need \(n(mapIn)) × \(n(mapOut)) + \(n(mapOut)) = \(n(dense))"])
    },
    Definition(id: "which-filter", page: "playground", source: "004, Before You Go 1",
               inputs: [input("vertical", "line: 0 horizontal, 1 vertical", 0, 0...1)]) { v in
        let size = 9, vertical = v["vertical"]! == 1
        let picture = (0..<(size * size)).map { i in Float((vertical ? i % size : i / size) == size / 2 ? 1 : 0) }
        let x = try Tensor(shape: [1, 1, size, size], scalars: picture)
        let filters: [(String, NamedKernel)] = [("horizontal edges (sobel-y)", .sobelY), ("vertical edges (sobel-x)", .sobelX)]
        let responses = try filters.map { name, k -> (String, Float) in
            let w = try Tensor(shape: [1, 1, 3, 3], scalars: try k.matrix().flatMap { $0 })
            return (name, try conv2d(x, weight: w).scalars.map(Swift.abs).max() ?? 0)
        }
        let best = responses.max { $0.1 < $1.1 }!, other = responses.first { $0.0 != best.0 }!.1
        return ("Draw a single \(vertical ? "vertical" : "horizontal") line in the middle. Which filter responds most strongly? Is there any response in the \"wrong\" filter?",
                "the \(best.0) filter; the other responds \(other == 0 ? "not at all" : "only \(number(other))")",
                ["a \(size)×\(size) picture with one \(vertical ? "vertical" : "horizontal") line of 1s, each filter applied without padding"]
                    + responses.map { "\($0.0): largest |response| \(number($0.1))" })
    },
    Definition(id: "pooling-invariance", page: "digits", source: "004, Before You Go 3",
               inputs: [input("row", "feature row", 0, 0...3), input("col", "feature column", 0, 0...3), input("shift", "shift right", 1, 0...3)]) { v in
        let (r, c, s) = (v["row"]!, v["col"]!, v["shift"]!)
        func pooled(_ col: Int) throws -> [Float] {
            var map = [Float](repeating: 0, count: 16)
            if col < 4 { map[r * 4 + col] = 1 }
            return try maxPool2d(try Tensor(shape: [1, 1, 4, 4], scalars: map), kernelSize: 2).scalars
        }
        let (before, after) = (try pooled(c), try pooled(c + s))
        func rows(_ p: [Float]) -> String { "[[\(p[0...1].map { number($0) }.joined(separator: ", "))], [\(p[2...3].map { number($0) }.joined(separator: ", "))]]" }
        return ("Why does max pooling give some translation invariance? A feature at (\(r), \(c)) of a 4×4 map moves \(s) pixel\(s == 1 ? "" : "s") right: does the 2×2 max-pooled output change?",
                before == after ? "no: the feature stays inside the same 2×2 window, whose maximum is unchanged"
                    : "yes: the feature \(c + s > 3 ? "leaves the map" : "crosses into the next 2×2 window") — pooling is invariant only to shifts within a window",
                ["pooled before: \(rows(before))", "pooled after the shift to (\(r), \(c + s)): \(rows(after))"])
    },
    Definition(id: "equivariance", page: "digits", source: "001, Exercises, conceptual question 3",
               inputs: [input("shift", "shift (pixels)", 5, 0...13)]) { v in
        let report = try equivarianceReport(size: 32, shift: v["shift"]!)
        return ("Explain the difference between translation equivariance and translation invariance. Which does convolution provide, and how do we achieve the other?",
                "convolution is equivariant (shift in, same shift out); pooling adds local invariance",
                ["a 32×32 image shifted \(v["shift"]!) pixels: max |conv(shift(x)) − shift(conv(x))| = \(number(report.circularDifference)) with circular padding",
                 "with zero padding it differs only at the borders: \(number(report.zeroPaddingDifference)) overall, \(number(report.zeroPaddingInteriorDifference)) away from them",
                 "2×2 max pooling after a 1-pixel shift: \(Int((report.poolingUnchangedFraction * 100).rounded())) % of the pooled values do not change at all"])
    },
    Definition(id: "rotation", page: "photo", source: "004, Before You Go 5",
               inputs: [input("turns", "quarter turns of the edge", 1, 0...3)]) { v in
        // A vertical step edge, turned by quarter turns, seen by the vertical-edge filter.
        let size = 8, turns = v["turns"]!
        func edge(_ turns: Int) -> [Float] {
            (0..<(size * size)).map { i in
                let (y, x) = (i / size, i % size)
                return [x >= size / 2, y >= size / 2, x < size / 2, y < size / 2][turns] ? 1 : 0
            }
        }
        let w = try Tensor(shape: [1, 1, 3, 3], scalars: try NamedKernel.sobelX.matrix().flatMap { $0 })
        func response(_ p: [Float]) throws -> Float { try conv2d(try Tensor(shape: [1, 1, size, size], scalars: p), weight: w).scalars.map(Swift.abs).max() ?? 0 }
        let (upright, turned) = (try response(edge(0)), try response(edge(turns)))
        return ("CNNs are translation-invariant but not rotation-invariant by default. Why? What architectural change would give some rotation invariance?",
                "a filter is tied to one orientation: turned \(turns * 90)°, the edge gives \(number(turned)) instead of \(number(upright)). Weight sharing covers shifts only; rotation-augmented training or rotation-equivariant (group) convolutions add rotations",
                ["the vertical-edge filter (sobel-x) on an 8×8 step edge: largest |response| \(number(upright))",
                 "the same edge turned \(turns * 90)°: \(number(turned))"])
    },
]

private func ratioText(_ a: Int, _ b: Int) -> String {
    b > 0 ? "\(n(Int((Double(a) / Double(b)).rounded())))×" : "∞×"
}
