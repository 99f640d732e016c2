// Shape legend used throughout the kernels:
//   N = batch, C = input channels, K = output channels, G = groups,
//   spatial sizes are per axis, rank r in 1...3 (L for 1-D, H×W for 2-D, D×H×W for 3-D).
// Tensors are contiguous: input (N, C, spatial...), weight (K, C/G, kernel...),
// output (N, K, out...).

/// How values outside the input are produced when a window hangs over its edge.
public enum PaddingMode: String, Sendable, CaseIterable, Codable {
    /// Zeros (or a constant) outside the input.
    case zeros
    /// Mirror without repeating the edge: `[a b c] -> b a | a b c | c b`… as `torch.nn.functional.pad(mode="reflect")`.
    case reflect
    /// Repeat the edge value.
    case replicate
    /// Wrap around.
    case circular

    /// Maps a possibly out-of-range index `i` of an axis of length `n` to a source index,
    /// or `nil` when the value comes from the constant.
    ///
    /// This one function is the whole difference between the padding modes: convolution,
    /// pooling and `pad` all read through it (forward) and scatter through it (backward).
    @inlinable
    public func sourceIndex(_ i: Int, length n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .zeros:
            return nil
        case .replicate:
            return i < 0 ? 0 : n - 1
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - j
        case .circular:
            var j = i % n
            if j < 0 { j += n }
            return j
        }
    }
}

/// One description of a sliding-window operation (convolution, transposed convolution,
/// pooling, padding) of spatial rank 1, 2 or 3.
///
/// Every kernel in this module takes a `ConvGeometry` instead of rank-specific arguments;
/// ranks below 3 are lifted to 3 internally by prepending axes of size 1.
public struct ConvGeometry: Sendable, Hashable, CustomStringConvertible {
    /// Batch size N.
    public var batch: Int
    /// Input channels C.
    public var inChannels: Int
    /// Output channels K (for pooling: equal to `inChannels`).
    public var outChannels: Int
    /// Groups G; `inChannels` and `outChannels` are divisible by it. Pooling uses G = C.
    public var groups: Int
    /// Spatial input size per axis.
    public var inputSize: [Int]
    /// Kernel (window) size per axis.
    public var kernelSize: [Int]
    /// Stride per axis.
    public var stride: [Int]
    /// Dilation per axis.
    public var dilation: [Int]
    /// Padding before the first element, per axis.
    public var padBefore: [Int]
    /// Padding after the last element, per axis.
    public var padAfter: [Int]
    /// Spatial output size per axis.
    public var outputSize: [Int]
    /// How padded positions are filled.
    public var paddingMode: PaddingMode
    /// How the products may be computed (`.automatic`: `ConvolutionAlgorithm.global` decides).
    public var algorithm: ConvolutionAlgorithm

    /// Creates a geometry; `outputSize` defaults to the floor formula
    /// `floor((n + before + after - d(k-1) - 1) / s) + 1` per axis.
    ///
    /// The initializer does not validate: callers (the tensor ops) check arguments and
    /// produce typed errors before building a geometry. `isValid` states the invariants.
    public init(
        batch: Int, inChannels: Int, outChannels: Int, groups: Int = 1,
        inputSize: [Int], kernelSize: [Int], stride: [Int], dilation: [Int],
        padBefore: [Int], padAfter: [Int], outputSize: [Int]? = nil,
        paddingMode: PaddingMode = .zeros, algorithm: ConvolutionAlgorithm = .automatic
    ) {
        self.algorithm = algorithm
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        self.inputSize = inputSize
        self.kernelSize = kernelSize
        self.stride = stride
        self.dilation = dilation
        self.padBefore = padBefore
        self.padAfter = padAfter
        self.paddingMode = paddingMode
        self.outputSize = outputSize ?? (0..<inputSize.count).map { a in
            ConvGeometry.outputLength(
                input: inputSize[a], kernel: kernelSize[a], stride: stride[a],
                dilation: dilation[a], padBefore: padBefore[a], padAfter: padAfter[a])
        }
    }

    /// Spatial rank r.
    public var rank: Int { inputSize.count }

    /// Output length of one axis:
    /// `floor((n + before + after - d(k-1) - 1) / s) + 1`, or with `ceilMode` the ceiling,
    /// dropping a last window that would start inside the right padding (PyTorch's pooling rule).
    public static func outputLength(
        input n: Int, kernel k: Int, stride s: Int, dilation d: Int,
        padBefore: Int, padAfter: Int, ceilMode: Bool = false
    ) -> Int {
        let span = n + padBefore + padAfter - d * (k - 1) - 1
        if span < 0 { return 0 }
        if !ceilMode { return span / s + 1 }
        var out = (span + s - 1) / s + 1
        if (out - 1) * s >= n + padBefore { out -= 1 }
        return out
    }

    /// Whether the invariants the kernels rely on hold.
    public var isValid: Bool {
        let r = rank
        guard (1...3).contains(r), [kernelSize, stride, dilation, padBefore, padAfter, outputSize]
            .allSatisfy({ $0.count == r }) else { return false }
        guard batch >= 0, inChannels > 0, outChannels > 0, groups > 0,
              inChannels % groups == 0, outChannels % groups == 0 else { return false }
        return (0..<r).allSatisfy { a in
            inputSize[a] >= 0 && kernelSize[a] > 0 && stride[a] > 0 && dilation[a] > 0
                && outputSize[a] >= 0
        }
    }

    /// Input channels per group, C/G.
    public var inChannelsPerGroup: Int { inChannels / groups }
    /// Output channels per group, K/G.
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Number of input spatial positions, prod(inputSize).
    public var inputPlane: Int { inputSize.reduce(1, *) }
    /// Number of output spatial positions, prod(outputSize).
    public var outputPlane: Int { outputSize.reduce(1, *) }
    /// Number of kernel taps, prod(kernelSize).
    public var kernelVolume: Int { kernelSize.reduce(1, *) }
    /// Element count of the input tensor (N, C, in...).
    public var inputCount: Int { batch * inChannels * inputPlane }
    /// Element count of the output tensor (N, K, out...).
    public var outputCount: Int { batch * outChannels * outputPlane }
    /// Element count of the weight tensor (K, C/G, kernel...).
    public var weightCount: Int { outChannels * inChannelsPerGroup * kernelVolume }
    /// Rows of the im2col matrix of one group: (C/G) · prod(kernel).
    public var columnRows: Int { inChannelsPerGroup * kernelVolume }

    public var description: String {
        "ConvGeometry(N \(batch), C \(inChannels) -> K \(outChannels), groups \(groups), "
            + "in \(inputSize), kernel \(kernelSize), stride \(stride), dilation \(dilation), "
            + "pad \(padBefore)/\(padAfter) \(paddingMode.rawValue), out \(outputSize))"
    }

    /// A per-axis value lifted to three axes (leading axes get `fill`).
    @inlinable
    func lifted(_ values: [Int], fill: Int) -> [Int] {
        Array(repeating: fill, count: 3 - values.count) + values
    }
}

/// Where each kernel tap of each output position reads from, along one axis.
///
/// `index[k * outputLength + o]` is the source index for tap `k` at output `o`, or a
/// negative marker: `padded` when the position lies in the padding (the constant, or for
/// pooling a counted pad cell), `outside` when it lies beyond the padding (ceil-mode overhang).
struct AxisTable {
    static let padded = -1
    static let outside = -2

    let outputLength: Int
    let kernel: Int
    let index: [Int]

    init(input n: Int, output: Int, kernel k: Int, stride s: Int, dilation d: Int,
         padBefore: Int, padAfter: Int, mode: PaddingMode) {
        outputLength = output
        kernel = k
        var index = [Int](repeating: AxisTable.outside, count: k * output)
        for t in 0..<k {
            for o in 0..<output {
                let i = o * s - padBefore + t * d
                if i >= -padBefore && i < n + padAfter {
                    index[t * output + o] = mode.sourceIndex(i, length: n) ?? AxisTable.padded
                } else if i >= 0 && i < n {
                    // Negative padding (transposed convolution's output padding) can put a
                    // real position past `padAfter`; it still reads the input.
                    index[t * output + o] = i
                }
            }
        }
        self.index = index
    }

    /// The three lifted tables of a geometry (leading unit axes for ranks below 3).
    static func tables(for g: ConvGeometry) -> [AxisTable] {
        let n = g.lifted(g.inputSize, fill: 1)
        let o = g.lifted(g.outputSize, fill: 1)
        let k = g.lifted(g.kernelSize, fill: 1)
        let s = g.lifted(g.stride, fill: 1)
        let d = g.lifted(g.dilation, fill: 1)
        let pb = g.lifted(g.padBefore, fill: 0)
        let pa = g.lifted(g.padAfter, fill: 0)
        return (0..<3).map { a in
            AxisTable(input: n[a], output: o[a], kernel: k[a], stride: s[a], dilation: d[a],
                      padBefore: pb[a], padAfter: pa[a], mode: g.paddingMode)
        }
    }
}
