/// Loss, accuracy and confusion matrix of a model on a dataset.
public struct Evaluation: Sendable, Equatable {
    /// Mean cross-entropy over the samples.
    public let loss: Float
    /// `confusion[t][p]`: samples of true class t predicted as p.
    public let confusion: [[Int]]

    /// The number of samples.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    /// The fraction predicted correctly.
    public var accuracy: Float {
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        return count == 0 ? 0 : Float(correct) / Float(count)
    }
    /// Per class, the fraction of its samples predicted correctly (NaN for an absent class).
    public var perClassAccuracy: [Float] {
        confusion.indices.map { t in
            let n = confusion[t].reduce(0, +)
            return n == 0 ? .nan : Float(confusion[t][t]) / Float(n)
        }
    }

    /// The confusion matrix as aligned text, rows = true class, columns = predicted.
    public func confusionTable(classNames: [String]? = nil) -> String {
        let names = classNames ?? confusion.indices.map(String.init)
        let width = Swift.max(confusion.flatMap { $0 }.map { String($0).count }.max() ?? 1, names.map(\.count).max() ?? 1) + 1
        func pad(_ s: String) -> String { String(repeating: " ", count: Swift.max(width - s.count, 0)) + s }
        var lines = [pad("") + " │" + names.map(pad).joined() + "   ← predicted"]
        lines.append(String(repeating: "─", count: width + 1) + "┼" + String(repeating: "─", count: width * names.count))
        for (t, row) in confusion.enumerated() {
            lines.append(pad(names[t]) + " │" + row.map { pad(String($0)) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

/// Accumulates predictions into an `Evaluation`.
struct EvaluationAccumulator {
    var lossSum: Double = 0
    var confusion: [[Int]]

    init(classes: Int) { confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes) }

    mutating func add(logits: Tensor, labels: [Int], meanLoss: Float) throws {
        lossSum += Double(meanLoss) * Double(labels.count)
        for (t, p) in zip(labels, try logits.argmax(axis: 1)) where t < confusion.count && p < confusion.count {
            confusion[t][p] += 1
        }
    }

    /// Sums the loss and confusion matrix over the ranks of `group` (in place, on every rank).
    mutating func sum(over group: any ProcessGroup) throws {
        var flat = [lossSum] + confusion.flatMap { $0.map(Double.init) }
        try group.allReduceSum(&flat)
        lossSum = flat[0]
        let c = confusion.count
        confusion = (0..<c).map { t in (0..<c).map { Int(flat[1 + t * c + $0]) } }
    }

    var evaluation: Evaluation {
        let n = confusion.reduce(0) { $0 + $1.reduce(0, +) }
        return Evaluation(loss: n == 0 ? 0 : Float(lossSum / Double(n)), confusion: confusion)
    }
}

/// The trailing moving average of `values` over `window` entries (fewer at the start), for
/// smoothing a per-batch loss curve.
public func movingAverage(_ values: [Float], window: Int) -> [Float] {
    let w = Swift.max(window, 1)
    var result: [Float] = [], sum: Float = 0
    result.reserveCapacity(values.count)
    for (i, v) in values.enumerated() {
        sum += v
        if i >= w { sum -= values[i - w] }
        result.append(sum / Float(Swift.min(i + 1, w)))
    }
    return result
}

extension Evaluation: Encodable {
    enum CodingKeys: String, CodingKey { case accuracy, loss, count, perClassAccuracy, confusion }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(loss, forKey: .loss)
        try c.encode(count, forKey: .count)
        try c.encode(perClassAccuracy.map { $0.isNaN ? nil : $0 }, forKey: .perClassAccuracy)
        try c.encode(confusion, forKey: .confusion)
    }
}

/// One class of a prediction: its index, name and probability.
public struct ClassProbability: Sendable, Equatable, Encodable {
    public let index: Int
    public let name: String
    public let probability: Float
}

/// The `top` most probable classes, most probable first.
/// - Parameters:
///   - probabilities: one per class (a softmax output).
///   - names: class names (indices are used where a name is missing).
///   - top: 1 or more; more than the class count gives every class.
/// - Throws: `ConvKitError.invalidArgument` for `top` below 1.
public func rankedClasses(_ probabilities: [Float], names: [String] = [], top: Int) throws -> [ClassProbability] {
    try Limits.check(top, in: 1...Int.max, op: "predict", argument: "top")
    let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
    return order.prefix(top).map { ClassProbability(index: $0, name: $0 < names.count ? names[$0] : "\($0)", probability: probabilities[$0]) }
}
