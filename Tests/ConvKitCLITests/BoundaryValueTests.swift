import Foundation
import Testing

/// Issue 16's table, row by row: numbers out of range give one line on stderr and a non-zero
/// exit — never a signal, a hang or a huge allocation (each run is under a 2 GiB address-space
/// limit and a time limit, see `CLI.runLimited`).
@Suite struct BoundaryValueTests {
    /// (arguments, a fragment of the one-line error).
    static let rows: [([String], String)] = [
        (["train", "lenet5", "--batch-size", "0"], "batchSize must be at least 1, got 0"),
        (["filter", "camera", "--kernel", "sobel", "--padding", "99999999999", "-o", "o.png"], "padding must be at most 2^31 − 1"),
        (["filter", "camera", "--kernel", "gaussian", "--sigma=-1", "-o", "o.png"], "sigma must be a number in 0.1…10, got -1"),
        (["filter", "camera", "--kernel", "gaussian", "--sigma", "nan", "-o", "o.png"], "sigma must be a number in 0.1…10, got nan"),
        (["filter", "camera", "--kernel", "gaussian", "--sigma", "1e6", "-o", "o.png"], "sigma must be a number in 0.1…10"),
        (["filter", "camera", "--kernel", "blob", "--sigma", "1e308", "-o", "o.png"], "sigma must be a number in 0.1…10"),
        (["conv1d", "--signal", "1,2,3,4,5", "--kernel", "1,0,-1", "--padding", "99999999999"], "padding must be at most 2^31 − 1"),
        (["conv1d", "--signal", "1,2,3,4,5", "--kernel", "1,0,-1", "--padding", "2000000000"], "too many to write out step by step"),
        (["outsize", "--input", "99999999999", "--kernel", "3"], "input size must be in 0…2^31 − 1"),
        (["outsize", "--input", "9223372036854775807", "--kernel", "3", "--padding", "1"], "input size must be in 0…2^31 − 1"),
        (["outsize", "--input", "28", "--kernel", "3", "--padding", "9223372036854775807"], "padding must be at most 2^31 − 1"),
        (["outsize", "--input", "28", "--kernel", "3", "--dilation", "9223372036854775807"], "dilation must be at most 2^31 − 1"),
        (["params", "--input", "99999999x99999999x3"], "would overflow"),
        (["params", "--input", "28x28x1", "--filters", "0"], "filters must be in 1…"),
        (["params", "--input", "0x0x0"], "height must be in 1…"),
        (["params", "--conv", "17,64,3", "--rank", "-5"], "rank must be in 1…3"),
        (["rf", "--layers", Array(repeating: "c3s2", count: 100).joined(separator: ",")], "larger than"),
        (["matrix", "--input", "1000x1000", "--kernel", "3x3"], "at most 16,777,216 entries"),
        (["matrix", "--kernel", "0x3"], "height must be in 1…4,096"),
        (["matrix", "--padding", "2147483647"], "entries are written out"),  // found by the generated-input run (overflow)
        (["conv2d", "--input", "1,2,3,4,5", "--kernel", "1,0,-1", "--padding", "2147483647"], "too many to write out"),  // ditto
        (["summary", "vgg19", "--input", "3x20000x20000"], "the limit is"),
        (["summary", "resnet18", "--classes", "99999999999"], "classes must be in 1…1,000,000"),
        (["lab", "--port", "99999"], "port must be in 0…65,535"),
        (["train", "--epochs", "0"], "epochs must be in 1…1,000,000, got 0"),
        (["train", "--epochs", "-1"], "epochs must be in 1…1,000,000, got -1"),
        (["train", "--limit", "0"], "sample count must be in 1…"),
        (["eval", "--weights", "w.safetensors", "--limit", "0"], "w.safetensors: cannot read"),
        (["eval", "--weights", "/dev/null", "--limit", "0"], "/dev/null"),
        (["filter", "camera", "--kernel", "sobel", "--raw", "-o", "x.png"], "name the output NAME.safetensors"),
        (["equivariance", "--shift", "9223372036854775807"], "shift must be in 0…13"),
        (["equivariance", "--size", "100000000"], "size must be in 5…4,096"),
        (["conv2d", "--input", "1,2;3,4", "--kernel", "1", "--stride", "0"], "stride must be positive"),
        (["pool", "--input", "1,2;3,4", "--kernel", "-3"], "kernelSize must be positive"),
        (["visualize", "--maximize", "100000", "-o", "pics"], "maximize must be in 0…64"),
        (["train", "--output", "no/such/folder/w.safetensors", "--epochs", "1"], "does not exist"),
        // Found by the generated-input run: Foundation on Linux traps on ("." as NSString).deletingLastPathComponent.
        (["train", "-o", ".", "--epochs", "1"], "is a folder"),
        (["train", "-o", "", "--epochs", "1"], "the output path is empty"),
    ]

    @Test(arguments: rows.indices) func rowFailsCleanly(_ index: Int) throws {
        let (arguments, fragment) = Self.rows[index]
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.runLimited(arguments, in: dir)
        #expect(!r.signalled && !r.timedOut, "\(arguments): killed (signal \(r.status)) or timed out")
        #expect(r.status != 0, "\(arguments) should fail")
        #expect(r.stderr.contains(fragment), "\(arguments): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(arguments): expected one line, got:\n\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(arguments): \(r.stdout)")
        // A failed command leaves nothing behind (no partial PNG, no folder).
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.isEmpty ?? true, "\(arguments) left files")
    }

    /// Found by the generated-input run: a batch larger than the data overflowed `count + batchSize − 1`.
    @Test func hugeBatchSizeTrainsOnTheWholeData() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.runLimited(["train", "lenet5", "--batch-size", "9223372036854775807", "--limit", "64", "--epochs", "1"], in: dir)
        #expect(r.status == 0 && !r.signalled && r.stdout.contains("test accuracy"), "\(r.status): \(r.stderr)")
    }

    /// Silent nonsense before: now a clear answer or a clear error.
    @Test func formerlySilentCases() throws {
        let odd = try CLI.runLimited(["correlation", "checkerboard"])
        #expect(odd.status == 0 && odd.stdout.contains("Adjacent pixel correlation"), "\(odd.stderr)")
        let version = try CLI.runLimited(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
        let unknown = try CLI.runLimited(["frobnicate"])
        #expect(unknown.status != 0 && unknown.stderr.split(separator: "\n").count == 1 && !unknown.stderr.contains("Usage"),
                "status \(unknown.status): \(unknown.stderr)")
        let missing = try CLI.runLimited(["conv1d", "--signal", "1,2"])
        #expect(missing.status != 0 && missing.stderr.split(separator: "\n").count == 1, "status \(missing.status): \(missing.stderr)")
    }
}
