import ConvKit
import Foundation
import Testing

/// PyTorch oracle fixtures written by `scripts/generate_fixtures.py`: one safetensors file
/// per op family, its cases listed as JSON in `__metadata__["cases"]`, case i's tensors
/// stored as "i.input", "i.output", "i.grad_input", …
struct Fixture {
    let file: SafeTensors
    let cases: [JSONValue]

    init(_ name: String) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
        file = try SafeTensors(contentsOf: dir.appendingPathComponent(name + ".safetensors").path)
        cases = try JSONValue.parse(Array((file.metadata["cases"] ?? "[]").utf8)).arrayValue ?? []
    }

    /// Case `i`'s tensor `key`, or nil when the case has none.
    func tensor(_ i: Int, _ key: String, requiresGrad: Bool = false) throws -> Tensor? {
        guard file.names.contains("\(i).\(key)") else { return nil }
        let t = try file.tensor("\(i).\(key)")
        t.requiresGrad = requiresGrad
        return t
    }

    /// Case `i`'s tensor `key`, which must exist.
    func required(_ i: Int, _ key: String, requiresGrad: Bool = false) throws -> Tensor {
        try #require(try tensor(i, key, requiresGrad: requiresGrad), "case \(i) has no \(key)")
    }

    func integers(_ i: Int, _ key: String) throws -> [Int] {
        try file.tensor("\(i).\(key)").scalars.map { Int($0) }
    }
}

extension JSONValue {
    var ints: [Int] { arrayValue?.compactMap(\.intValue) ?? [] }
    var bool: Bool { self == .bool(true) }
    var double: Double? { if case let .number(d) = self { return d }; return nil }
}

/// Tolerances for comparing ConvKit (float32) with PyTorch references (computed in float64):
/// |actual − expected| ≤ atol + rtol·|expected| elementwise.
let oracleTolerance = (rtol: Float(1e-4), atol: Float(1e-5))

/// Records an issue unless `actual` matches `expected` in shape and within tolerance.
func expectClose(
    _ actual: Tensor?, _ expected: Tensor?, rtol: Float = oracleTolerance.rtol, atol: Float = oracleTolerance.atol,
    _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let actual, let expected else {
        Issue.record("\(what()): missing tensor (actual \(actual == nil ? "nil" : "present"), expected \(expected == nil ? "nil" : "present"))",
                     sourceLocation: sourceLocation)
        return
    }
    guard actual.shape == expected.shape else {
        Issue.record("\(what()): shape \(actual.shape), expected \(expected.shape)", sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, excess: Float)? = nil
    for i in 0..<actual.count {
        let a = actual.scalars[i], e = expected.scalars[i]
        let excess = Swift.abs(a - e) - (atol + rtol * Swift.abs(e))
        if excess > 0 || a.isNaN != e.isNaN, excess > (worst?.excess ?? -.infinity) || a.isNaN {
            worst = (i, a.isNaN ? .infinity : excess)
        }
    }
    if let worst {
        let message = "\(what()): element \(worst.index) is \(actual.scalars[worst.index]), expected "
            + "\(expected.scalars[worst.index]) (rtol \(rtol), atol \(atol))"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

/// Records an issue unless `body` throws a `ConvKitError` whose message contains `fragment`.
func expectError(
    containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any
) {
    do {
        _ = try body()
        Issue.record("expected an error containing \"\(fragment)\", but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ConvKitError {
        if !error.description.contains(fragment) {
            Issue.record("error \"\(error)\" does not contain \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a ConvKitError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The URL of a file in `Tests/ConvKitTests/Fixtures`.
func fixtureURL(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
}

/// A tensor of standard normal values drawn from `SeededGenerator(seed:)`: the same values on every run.
func seededTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false) throws -> Tensor {
    var rng = SeededGenerator(seed: seed)
    let x = try Tensor.randomNormal(shape, using: &rng)
    x.requiresGrad = requiresGrad
    return x
}
