extension Module {
    /// Makes every batch norm of this model normalise with the statistics of the whole global
    /// batch of `group` while training (`torch.nn.SyncBatchNorm.convert_sync_batchnorm`); nil
    /// goes back to per-rank statistics. Evaluation is unchanged (running statistics).
    /// - Returns: how many batch-norm layers were set.
    @discardableResult
    public func synchronizeBatchNorm(over group: (any ProcessGroup)?) -> Int {
        let layers = namedModules().compactMap { $0.1 as? BatchNorm }
        for layer in layers { layer.synchronizationGroup = group }
        return layers.count
    }
}
