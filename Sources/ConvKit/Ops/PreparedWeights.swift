import _ConvKitKernels
import Synchronization

/// A convolution layer's weights as its forward path reads them (packed panels, Winograd's
/// transformed filters: `ConvolutionKernel.prepareWeight`), kept between calls that record no
/// gradient, so a warmed model in inference does not rearrange the same weights on every call.
///
/// An entry holds the weight tensor's `version` when it was made and is rebuilt once the weights
/// change (`fuseForInference`, loading a state, an optimizer step). At most two entries, one per
/// path (a layer may take one path at batch 1 and another at batch 16), the older one replaced:
/// at most two copies of the layer's weights, none while the layer is being trained. Safe to
/// share between threads calling the same model.
final class PreparedWeights: Sendable {
    private struct Entry {
        let algorithm: ConvolutionPlan.Algorithm, version: UInt64, values: [Float]
    }
    private static let capacity = 2
    private let entries = Mutex<[Entry]>([])

    /// `weight` rearranged for `g`'s forward path, made now if no entry matches its current
    /// version; `nil` where that path reads the weights as they are.
    func values(_ g: ConvGeometry, weight: Tensor) -> [Float]? {
        guard let layout = ConvolutionKernel.preparedWeightLayout(g) else { return nil }
        let version = weight.version
        if let hit = entries.withLock({ $0.first { $0.algorithm == layout.algorithm && $0.version == version } }) {
            return hit.values
        }
        let values = weight.scalars.withUnsafeBufferPointer { w in
            [Float](unsafeUninitializedCapacity: layout.count) { buffer, count in
                ConvolutionKernel.prepareWeight(g, weight: w.baseAddress!, into: buffer.baseAddress!)
                count = layout.count
            }
        }
        entries.withLock { entries in
            entries.removeAll { $0.algorithm == layout.algorithm }
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append(Entry(algorithm: layout.algorithm, version: version, values: values))
        }
        return values
    }

    /// Drops every entry: a call that records gradients (training) frees them, since the next
    /// optimizer step would make them stale anyway.
    func removeAll() { entries.withLock { if !$0.isEmpty { $0.removeAll() } } }
}
