import _ConvKitKernels
/// A float32 tensor: a shape and contiguous row-major scalars (NCHW for images,
/// NCL for sequences), with an optional place on the autograd tape.
///
/// Tensors have reference semantics, like PyTorch's: operations return new tensors and
/// record how they were made when any input `requiresGrad`; `backward()` then fills
/// `grad` on the leaves. Use `withGradientsDisabled` (inference mode) to record nothing.
public final class Tensor {
    /// Sizes of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public internal(set) var scalars: [Float] { didSet { version &+= 1 } }
    /// How many times `scalars` has been changed (assigned, loaded, stepped by an optimizer,
    /// written through `withUnsafeMutableScalars`): what keeps a layer's prepared weights
    /// (`PreparedWeights`) from outliving the weights they were made from.
    private(set) var version: UInt64 = 0
    /// Whether gradients flow to this tensor. Set it on leaves (parameters, inputs).
    public var requiresGrad: Bool
    /// The accumulated gradient, filled by `backward()` on leaves (and on tensors that
    /// called `retainGrad()`); `nil` until then and after `zeroGrad()`.
    public internal(set) var grad: Tensor?
    /// Whether `backward()` keeps this non-leaf tensor's gradient in `grad`.
    public private(set) var retainsGrad = false
    /// How this tensor was computed, when it was recorded on the tape.
    private(set) var node: GradNode?
    /// Bounds every element is known to lie in (NaN aside), set by a convolution that clamped
    /// its output (`Convolution.fusedActivation`): `relu()` and `relu6()` of such a tensor
    /// return it as it is instead of making a copy.
    var knownRange: ClosedRange<Float>?

    /// Creates a tensor from a shape and row-major scalars.
    /// - Throws: `ConvKitError.shapeMismatch` when the counts differ or a size is negative.
    public convenience init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) throws {
        let count = try Limits.elementCount(shape, op: "Tensor")
        guard count == scalars.count else {
            throw ConvKitError.shapeMismatch(
                op: "Tensor", message: "shape \(shape) holds \(count) scalars but \(scalars.count) were given")
        }
        self.init(uncheckedShape: shape, scalars: scalars, requiresGrad: requiresGrad)
    }

    /// A 1-D tensor of the given scalars.
    public convenience init(_ scalars: [Float], requiresGrad: Bool = false) {
        self.init(uncheckedShape: [scalars.count], scalars: scalars, requiresGrad: requiresGrad)
    }

    /// A 0-D (scalar) tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(uncheckedShape: [], scalars: [scalar], requiresGrad: requiresGrad)
    }

    /// A 2-D tensor from rows of equal length.
    /// - Throws: `ConvKitError.shapeMismatch` for ragged rows.
    public convenience init(rows: [[Float]], requiresGrad: Bool = false) throws {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else {
            throw ConvKitError.shapeMismatch(
                op: "Tensor(rows:)", message: "rows must all have \(width) elements, got \(rows.map(\.count))")
        }
        self.init(uncheckedShape: [rows.count, width], scalars: rows.flatMap { $0 },
                  requiresGrad: requiresGrad)
    }

    init(uncheckedShape shape: [Int], scalars: [Float], requiresGrad: Bool = false, node: GradNode? = nil) {
        self.shape = shape
        self.scalars = scalars
        self.requiresGrad = requiresGrad || node != nil
        self.node = node
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { scalars.count }
    /// Whether this tensor was created by the user rather than recorded by an op.
    public var isLeaf: Bool { node == nil }
    /// The name of the recorded op that produced this tensor, as PyTorch's `grad_fn` names it
    /// (`"relu"`, `"Conv2d"`, `"Conv2d+maxPool2d"` for a convolution pooled as it stores); nil
    /// for leaves and for results computed without recording.
    public var gradFunction: String? { node?.name }

    /// The value of a one-element tensor.
    /// - Throws: `ConvKitError.shapeMismatch` when the tensor holds more or fewer than one element.
    public func item() throws -> Float {
        guard scalars.count == 1 else {
            throw ConvKitError.shapeMismatch(
                op: "item", message: "expected a tensor with one element, got shape \(shape)")
        }
        return scalars[0]
    }

    /// Asks `backward()` to keep this tensor's gradient in `grad` although it is not a leaf.
    public func retainGrad() { retainsGrad = true }

    /// Forgets the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// A tensor with the same values that is cut off from the tape.
    public func detached() -> Tensor { Tensor(uncheckedShape: shape, scalars: scalars) }

    /// Overwrites the values in place (for optimizers and loaders); the shape stays.
    /// - Throws: `ConvKitError.shapeMismatch` when the count differs.
    public func assign(_ newScalars: [Float]) throws {
        guard newScalars.count == scalars.count else {
            throw ConvKitError.shapeMismatch(
                op: "assign", message: "tensor of shape \(shape) holds \(scalars.count) scalars, got \(newScalars.count)")
        }
        scalars = newScalars
    }

    /// Gives mutable access to the scalars in place (for optimizers and kernels).
    public func withUnsafeMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Releases a long chain of recorded ops iteratively: left to ARC, freeing a graph
    /// thousands of ops deep would recurse tensor → node → tensor and overflow the stack.
    /// Large scalars that nothing else holds go to `FreshStorage` for the next result of their size.
    deinit {
        FreshStorage.keep(&scalars)
        guard var pending = node.map({ [$0] }) else { return }
        node = nil
        while !pending.isEmpty {
            var n = pending.removeLast()
            guard isKnownUniquelyReferenced(&n) else { continue }
            n.backward = nil  // drops the closure's references to the inputs
            var inputs = n.inputs
            n.inputs = []
            for i in inputs.indices where isKnownUniquelyReferenced(&inputs[i]) {
                if let inner = inputs[i].node {
                    pending.append(inner)
                    inputs[i].node = nil
                }
            }
        }
    }

    /// Adds `g` into `grad` (gradients accumulate across `backward()` calls, as in PyTorch).
    func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            var sum = existing.scalars
            for i in sum.indices { sum[i] += g.scalars[i] }
            grad = Tensor(uncheckedShape: shape, scalars: sum)
        } else {
            grad = Tensor(uncheckedShape: shape, scalars: g.scalars)
        }
    }
}
