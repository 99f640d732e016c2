/// An in-memory labelled image dataset: `count` float32 samples of `sampleShape`
/// (C, H, W), stored contiguously, and one class index per sample.
public struct ImageDataset: Sendable {
    /// (C, H, W) of one sample.
    public let sampleShape: [Int]
    /// All samples, row-major, `count · C·H·W` values.
    public private(set) var pixels: [Float]
    /// One class index per sample, in 0..<`classNames.count`.
    public let labels: [Int]
    /// The name of each class ("0"…"9" for MNIST).
    public let classNames: [String]

    /// - Throws: `ConvKitError.shapeMismatch` when the sizes disagree, or
    ///   `ConvKitError.invalidArgument` for a label outside the classes.
    public init(sampleShape: [Int], pixels: [Float], labels: [Int], classNames: [String]) throws {
        let size = sampleShape.reduce(1, *)
        guard sampleShape.count == 3, size > 0, pixels.count == size * labels.count else {
            throw ConvKitError.shapeMismatch(
                op: "ImageDataset", message: "expected \(labels.count) samples of shape (C, H, W) \(sampleShape), got \(pixels.count) values")
        }
        if let bad = labels.first(where: { !(0..<classNames.count).contains($0) }) {
            throw ConvKitError.invalidArgument(
                op: "ImageDataset", argument: "labels", message: "must be in 0..<\(classNames.count), got \(bad)")
        }
        (self.sampleShape, self.pixels, self.labels, self.classNames) = (sampleShape, pixels, labels, classNames)
    }

    /// The number of samples.
    public var count: Int { labels.count }
    /// The number of classes.
    public var classCount: Int { classNames.count }
    var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Sample `i` as a (C, H, W) tensor.
    public func image(_ i: Int) -> Tensor {
        Tensor(uncheckedShape: sampleShape, scalars: Array(pixels[(i * sampleSize)..<((i + 1) * sampleSize)]))
    }

    /// The samples at `indices` as an (N, C, H, W) batch with their labels.
    public func batch(_ indices: some Collection<Int>) -> (images: Tensor, labels: [Int]) {
        var values = [Float]()
        values.reserveCapacity(indices.count * sampleSize)
        for i in indices { values.append(contentsOf: pixels[(i * sampleSize)..<((i + 1) * sampleSize)]) }
        return (Tensor(uncheckedShape: [indices.count] + sampleShape, scalars: values), indices.map { labels[$0] })
    }

    /// Splits off a held-out part: each class's samples are shuffled with `seed` and the last
    /// ⌈fraction · count⌉ of them (at least one, when the class has two or more) go to the
    /// second set, so both keep every class (stratified, as scikit-learn's `stratify=`).
    /// - Throws: `ConvKitError.invalidArgument` unless 0 < `fraction` < 1, or when a set would be empty.
    public func split(holdOut fraction: Float, seed: UInt64 = 0) throws -> (kept: ImageDataset, heldOut: ImageDataset) {
        guard fraction.isFinite, fraction > 0, fraction < 1 else {
            throw ConvKitError.invalidArgument(op: "split", argument: "holdOut", message: "must be a fraction between 0 and 1, got \(fraction)")
        }
        var generator = SeededGenerator(seed: seed)
        var kept: [Int] = [], heldOut: [Int] = []
        for c in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == c }
            members.shuffle(using: &generator)
            let n = members.count < 2 ? 0 : Swift.max(1, Int((Float(members.count) * fraction).rounded(.up)))
            heldOut += members.suffix(n)
            kept += members.prefix(members.count - n)
        }
        guard !kept.isEmpty, !heldOut.isEmpty else {
            throw ConvKitError.invalidArgument(op: "split", argument: "holdOut", message: "\(fraction) of \(count) samples leaves one side empty")
        }
        func subset(_ indices: [Int]) throws -> ImageDataset {
            let sorted = indices.sorted()
            return try ImageDataset(sampleShape: sampleShape, pixels: batch(sorted).images.scalars, labels: sorted.map { labels[$0] }, classNames: classNames)
        }
        return (try subset(kept), try subset(heldOut))
    }

    /// The first `n` samples (all when `n` exceeds the count).
    /// - Throws: `ConvKitError.invalidArgument` for `n` below 1 (an empty dataset trains and
    ///   evaluates nothing).
    public func prefix(_ n: Int) throws -> ImageDataset {
        try Limits.check(n, in: 1...Int.max, op: "limit", argument: "sample count")
        let k = Swift.min(n, count)
        return try! ImageDataset(sampleShape: sampleShape, pixels: Array(pixels[0..<(k * sampleSize)]),
                                 labels: Array(labels[0..<k]), classNames: classNames)
    }

    /// One image (C, H, W) normalised as `normalized(mean:std:)` does for a dataset.
    public static func normalize(_ image: Tensor, mean: [Float], std: [Float]) throws -> Tensor {
        guard image.rank == 3 else {
            throw ConvKitError.shapeMismatch(op: "normalize", message: "expected one image (C, H, W), got \(image.shape)")
        }
        return try ImageDataset(sampleShape: image.shape, pixels: image.scalars, labels: [0], classNames: [""])
            .normalized(mean: mean, std: std).image(0)
    }

    /// The dataset with each channel c mapped to (x − mean[c]) / std[c], as
    /// `torchvision.transforms.Normalize` (e.g. MNIST's mean 0.1307, std 0.3081).
    /// - Throws: `ConvKitError.invalidArgument` unless there is one positive std per channel (or one for all).
    public func normalized(mean: [Float], std: [Float]) throws -> ImageDataset {
        let c = sampleShape[0]
        guard [1, c].contains(mean.count), mean.count == std.count, std.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidArgument(
                op: "normalized", argument: "mean/std", message: "need 1 or \(c) values each and std > 0, got \(mean), \(std)")
        }
        var copy = self
        let plane = sampleSize / c
        copy.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<(count * c) {
                let ch = mean.count == 1 ? 0 : i % c
                let (m, s) = (mean[ch], std[ch])
                for j in (i * plane)..<((i + 1) * plane) { p[j] = (p[j] - m) / s }
            }
        }
        return copy
    }
}

/// Random data augmentation applied to each training batch: random crop after zero
/// padding (`RandomCrop(size, padding)`) and horizontal flip with probability 1/2.
public struct Augmentation: Sendable, Equatable {
    /// Zero padding on each side before cropping back to the original size; 0 disables.
    public var cropPadding: Int
    /// Whether to flip each image left-right with probability 1/2.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// Applies the augmentation to an (N, C, H, W) batch, drawing from `generator`.
    public func apply(to batch: Tensor, using generator: inout SeededGenerator) -> Tensor {
        guard cropPadding > 0 || horizontalFlip, batch.rank == 4 else { return batch }
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var out = [Float](repeating: 0, count: batch.count)
        let x = batch.scalars
        for s in 0..<n {
            let dy = cropPadding > 0 ? Int(generator.next() % UInt64(2 * cropPadding + 1)) - cropPadding : 0
            let dx = cropPadding > 0 ? Int(generator.next() % UInt64(2 * cropPadding + 1)) - cropPadding : 0
            let flip = horizontalFlip && generator.next() & 1 == 1
            for ch in 0..<c {
                let base = (s * c + ch) * h * w
                for i in 0..<h {
                    let si = i + dy
                    guard si >= 0 && si < h else { continue }
                    for j in 0..<w {
                        let sj = (flip ? w - 1 - j : j) + dx
                        if sj >= 0 && sj < w { out[base + i * w + j] = x[base + si * w + sj] }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: batch.shape, scalars: out)
    }
}

extension ImageDataset {
    /// Only the samples of `classes`, relabelled 0, 1, … in the given order (e.g. MNIST's
    /// digits 0 and 1 for the course's "from scratch" exercise).
    /// - Throws: `ConvKitError.invalidArgument` for a class that does not exist.
    public func selecting(classes: [Int]) throws -> ImageDataset {
        guard !classes.isEmpty, classes.allSatisfy({ (0..<classCount).contains($0) }), Set(classes).count == classes.count else {
            throw ConvKitError.invalidArgument(
                op: "selecting", argument: "classes", message: "must be distinct classes in 0..<\(classCount), got \(classes)")
        }
        let keep = labels.indices.filter { classes.contains(labels[$0]) }
        let (images, _) = batch(keep)
        return try ImageDataset(sampleShape: sampleShape, pixels: images.scalars,
                                labels: keep.map { classes.firstIndex(of: labels[$0])! }, classNames: classes.map { classNames[$0] })
    }

    /// Every image shrunk by an integer `factor` with average pooling (28×28 → 14×14 for factor 2).
    public func downsampled(by factor: Int) throws -> ImageDataset {
        guard factor >= 1, sampleShape[1] % factor == 0, sampleShape[2] % factor == 0 else {
            throw ConvKitError.invalidArgument(
                op: "downsampled", argument: "factor", message: "must divide the image size \(sampleShape[1])×\(sampleShape[2]), got \(factor)")
        }
        if factor == 1 { return self }
        let pooled = try withGradientsDisabled { try avgPool2d(batch(0..<count).images, kernelSize: PerAxis(factor)) }
        return try ImageDataset(sampleShape: Array(pooled.shape.dropFirst()), pixels: pooled.scalars, labels: labels, classNames: classNames)
    }
}
