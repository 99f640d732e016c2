// LeNet-5: LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document
// recognition", Proc. IEEE 1998, and the common modern variant.

/// LeCun's squashing function 1.7159 · tanh(2x/3) (appendix A of the paper).
public final class ScaledTanh: Module {
    public init() {}
    public func callAsFunction(_ input: Tensor) throws -> Tensor { (input * (2.0 / 3.0)).tanh() * 1.7159 }
}

/// A convolution in which output map i sees only the input maps `table[i]` (LeNet-5's C3).
/// Children "0", "1", … are one `Conv2d(table[i].count → 1)` per output map.
public final class ConnectionTableConv2d: Module {
    public let table: [[Int]]
    public let maps: [Conv2d]

    public init(table: [[Int]], kernelSize: Int, using g: inout SeededGenerator) throws {
        self.table = table
        maps = try table.map { try Conv2d($0.count, 1, kernelSize: PerAxis(kernelSize), using: &g) }
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let outputs = try zip(table, maps).map { inputs, conv in
            let selected = try Tensor.concatenate(inputs.map { try input.slice(axis: 1, $0..<($0 + 1)) }, axis: 1)
            return try conv.forward(selected)
        }
        return try Tensor.concatenate(outputs, axis: 1)
    }

    public var children: [(name: String, module: any Module)] { maps.enumerated().map { (String($0.offset), $0.element) } }
}

/// LeNet-5's output layer: one Euclidean radial-basis unit per class, y_i = −Σ_j (x_j − c_ij)²
/// (negated so that larger means more likely). The centres are fixed ±1 codes — LeCun drew
/// them as 7×12 bitmaps; here they are seeded random — and are a buffer, not trainable.
public final class EuclideanRBF: Module {
    public let centers: Tensor

    public init(_ inFeatures: Int, _ classes: Int, using g: inout SeededGenerator) {
        let codes = (0..<(inFeatures * classes)).map { _ in g.next() & 1 == 0 ? Float(-1) : 1 }
        centers = Tensor(uncheckedShape: [classes, inFeatures], scalars: codes)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        // −‖x − c‖² = 2·x·cᵀ − ‖x‖² − ‖c‖²
        let cross = try matmul(input, try centers.transposed()) * 2
        let inputNorm = try input.squared().sum(axes: [1], keepingDims: true)
        let centerNorm = try centers.squared().sum(axes: [1]).unsqueezed(axis: 0)
        return try (cross - inputNorm) - centerNorm
    }

    public var localState: [StateEntry] { [StateEntry("centers", centers, kind: .buffer)] }
}

extension Zoo {
    /// The connection table of C3 (Table I of the paper): output map → input maps.
    public static let leNetC3Table: [[Int]] = [
        [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
        [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
        [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5],
    ]

    /// LeNet-5 as published in 1998, for 32×32 input: C1 conv 6@5×5 → S2 subsampling
    /// (2×2 average × trainable coefficient + bias per map) → C3 16@5×5 with the partial
    /// connection table → S4 → C5 120@5×5 → F6 84 → Euclidean RBF output, with LeCun's
    /// scaled tanh. Trainable parameters: 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000,
    /// as LeCun counted them (the RBF centres are fixed).
    public static func leNet5Classic(classes: Int = 10, inputChannels: Int = 1, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        func subsampling(_ c: Int) throws -> Sequential {
            Sequential(named: [("pool", AvgPool2d(kernelSize: 2)),
                               ("scale", try Conv2d(c, c, kernelSize: 1, groups: c, using: &g))])
        }
        return Sequential(named: [
            ("c1", try Conv2d(inputChannels, 6, kernelSize: 5, using: &g)), ("act1", ScaledTanh()),
            ("s2", try subsampling(6)), ("act2", ScaledTanh()),
            ("c3", try ConnectionTableConv2d(table: leNetC3Table, kernelSize: 5, using: &g)), ("act3", ScaledTanh()),
            ("s4", try subsampling(16)), ("act4", ScaledTanh()),
            ("c5", try Conv2d(16, 120, kernelSize: 5, using: &g)), ("act5", ScaledTanh()),
            ("flatten", Flatten()),
            ("f6", try Linear(120, 84, using: &g)), ("act6", ScaledTanh()),
            ("output", EuclideanRBF(84, classes, using: &g)),
        ], name: "LeNet-5 (1998)")
    }

    /// The LeNet-5 most tutorials use today, for 28×28 input: Conv(1→6,5,p2)-ReLU-MaxPool2-
    /// Conv(6→16,5)-ReLU-MaxPool2-Flatten-Linear(400→120)-ReLU-Linear(120→84)-ReLU-
    /// Linear(84→10); 61,706 parameters.
    public static func leNet5(classes: Int = 10, inputChannels: Int = 1, seed: UInt64 = 0) throws -> Sequential {
        var g = SeededGenerator(seed: seed)
        let model = Sequential([
            try Conv2d(inputChannels, 6, kernelSize: 5, padding: 2, using: &g), ReLU(), MaxPool2d(kernelSize: 2),
            try Conv2d(6, 16, kernelSize: 5, using: &g), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(),
            try Linear(400, 120, using: &g), ReLU(),
            try Linear(120, 84, using: &g), ReLU(),
            try Linear(84, classes, using: &g),
        ])
        model.name = "LeNet-5"
        return model
    }
}
