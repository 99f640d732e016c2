import Synchronization

/// Values computed once per convolution geometry and kept: the plan of each direction
/// (`ConvolutionPlan.cached`), the forward path (`ConvolutionPlan.forwardAlgorithm`) and where
/// the direct tiles read (`DirectPlan.cached`).
///
/// Each was computed again on every call, from per-axis arrays built and freed each time: in a
/// profile of the course CNN's first convolution at batch 1 (10 µs a call), the plan, its
/// workspace sizes and the direct path's offsets took 25–30 % of the samples, more than the
/// tiles. A model's layers have a few dozen geometries; the cache holds up to `capacity` and
/// starts afresh when full. Keys carry the algorithm resolved through `ConvolutionAlgorithm.global`,
/// so changing the global choice picks other entries, never stale ones. Safe from several threads.
final class PlanCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[ConvGeometry: Value]>([:])
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    /// The value for `g` (its algorithm resolved), computed by `make` on the first call. `make`
    /// runs outside the lock, so it may itself look up other geometries.
    func value(for g: ConvGeometry, _ make: (ConvGeometry) -> Value) -> Value {
        var key = g
        key.algorithm = g.algorithm.resolved
        if let known = entries.withLock({ $0[key] }) { return known }
        let value = make(key)
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = value
        }
        return value
    }
}
