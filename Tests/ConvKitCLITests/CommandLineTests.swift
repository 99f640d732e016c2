import Foundation
import Testing

/// The `convkit` binary end to end: the model workflow and every kind of bad input.
@Suite struct CommandLineTests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/ConvKitTests/Fixtures")

    /// A one-line error on stderr naming the problem, a non-zero exit, nothing on stdout.
    func expectCleanFailure(_ arguments: [String], mentions fragment: String, in directory: URL? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(arguments, in: directory)
        #expect(r.status != 0, "\(arguments) should fail", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got:\n\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    /// CONVKIT_THREADS outside 1…64 is refused by every command, not silently ignored.
    @Test(arguments: ["0", "65", "-1", "abc", "1e308", ""])
    func threadSettingIsChecked(value: String) throws {
        let binary = try #require(CLI.binary).path
        let r = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", "CONVKIT_THREADS='\(value)' exec '\(binary)' models"], in: nil)
        #expect(r.process.terminationStatus != 0)
        #expect(r.stderr == "convkit: environment: CONVKIT_THREADS must be an integer in 1…64, got '\(value)'\n", "\(r.stderr)")
        let fine = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", "CONVKIT_THREADS=1 exec '\(binary)' outsize --input 8 --kernel 3"], in: nil)
        #expect(fine.process.terminationStatus == 0, "\(fine.stderr)")
    }

    /// CONVKIT_CONV_ALGORITHM other than automatic, direct or winograd is refused by every command.
    @Test(arguments: ["fast", "", "WINOGRAD"])
    func algorithmSettingIsChecked(value: String) throws {
        let binary = try #require(CLI.binary).path
        let r = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", "CONVKIT_CONV_ALGORITHM='\(value)' exec '\(binary)' models"], in: nil)
        #expect(r.process.terminationStatus != 0)
        #expect(r.stderr == "convkit: environment: CONVKIT_CONV_ALGORITHM must be one of automatic, direct, winograd, got '\(value)'\n", "\(r.stderr)")
        let fine = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", "CONVKIT_CONV_ALGORITHM=direct exec '\(binary)' outsize --input 8 --kernel 3"], in: nil)
        #expect(fine.process.terminationStatus == 0, "\(fine.stderr)")
    }

    @Test func badInputGivesOneLineErrors() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try expectCleanFailure(["conv2d", "--input", "1,2;3", "--kernel", "sobel-x"], mentions: "rows of different lengths")
        try expectCleanFailure(["conv2d", "--input", "1,2,3", "--kernel", "sobel-q"], mentions: "'sobel-q' is not a kernel name")
        try expectCleanFailure(["conv2d", "--input", "1,x,3", "--kernel", "sobel-x"], mentions: "'x' is not a finite number")
        try expectCleanFailure(["conv2d", "--input", "1,2; 3,4", "--kernel", "sobel-x"], mentions: "kernel larger than padded input")
        try expectCleanFailure(["outsize", "--input", "2", "--kernel", "5"], mentions: "kernel larger than padded input")
        try expectCleanFailure(["conv1d", "--signal", "1,2,3", "--kernel", "1,1", "--padding", "5", "--mode", "reflect"],
                               mentions: "must be smaller than the input size 3 for reflect mode")
        try expectCleanFailure(["summary", "resnet19"], mentions: "'resnet19' is not in the zoo")
        // Data-parallel options outside an MPI job, or that would do nothing.
        try expectCleanFailure(["train", "--distributed", "--epochs", "1"], mentions: "start it with an MPI launcher, e.g. mpirun -np 2")
        try expectCleanFailure(["train", "--sync-batchnorm"], mentions: "--sync-batchnorm needs --distributed")
        for value in ["0", "-1", "nan", "1e308", "inf"] {
            try expectCleanFailure(["train", "--distributed", "--bucket-mb", value], mentions: "bucketMegabytes must be in 0.001…4096")
        }
        try expectCleanFailure(["train", "--bucket-mb", "25"], mentions: "--bucket-mb needs --distributed")

        // Files that are not what they claim, truncated files: a clear error, no output file.
        let notPNG = dir.appendingPathComponent("photo.png")
        try Data("not an image".utf8).write(to: notPNG)
        try expectCleanFailure(["filter", notPNG.path, "--kernel", "sobel", "-o", "out.png"], mentions: "not a PNG or JPEG image", in: dir)
        let png = try Data(contentsOf: Self.fixtures.appendingPathComponent("png/c2_d8_plain.png"))
        try png.prefix(png.count - 30).write(to: dir.appendingPathComponent("cut.png"))
        try expectCleanFailure(["filter", "cut.png", "--kernel", "sobel", "-o", "out.png"], mentions: "truncated", in: dir)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.png").path))

        let weights = try Data(contentsOf: Self.fixtures.appendingPathComponent("course_cnn_weights.safetensors"))
        try weights.prefix(weights.count - 10).write(to: dir.appendingPathComponent("cut.safetensors"))
        try expectCleanFailure(["eval", "--weights", "cut.safetensors"], mentions: "cut.safetensors", in: dir)

        let idx = dir.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]).write(to: idx.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]).write(to: idx.appendingPathComponent("t10k-labels-idx1-ubyte"))
        try expectCleanFailure(["eval", "--weights", Self.fixtures.appendingPathComponent("course_cnn_weights.safetensors").path,
                                "--data-dir", idx.path], mentions: "IDX sizes [2, 28, 28] need 1568 data bytes")
    }

    /// Weights for another model: every missing and unexpected parameter is named, as PyTorch's strict load does.
    @Test func mismatchedWeightsAreNamed() throws {
        let weights = Self.fixtures.appendingPathComponent("course_cnn_weights.safetensors").path
        try expectCleanFailure(["eval", "lenet5", "--weights", weights],
                               mentions: "state does not fit LeNet-5: missing keys 3.weight, 3.bias, 7.weight, 7.bias")
        let r = try CLI.run(["eval", "lenet5", "--weights", weights])
        #expect(r.stderr.contains("unexpected keys 2.bias, 2.weight, 5.bias, 5.weight"))
        #expect(r.stderr.contains("size mismatch for 0.weight: [32, 1, 3, 3] in the file, [6, 1, 5, 5] in the model"))
        #expect(r.stderr.contains("size mismatch for 11.weight: [10, 128] in the file, [10, 84] in the model"))
        try expectCleanFailure(["eval", "tiny-vgg", "--weights", weights], mentions: "state does not fit")
    }

    /// PyTorch-saved weights evaluate here; ConvKit trains, saves, evaluates and predicts.
    @Test func trainEvaluatePredictVisualize() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let torch = try CLI.run(["eval", "--weights", Self.fixtures.appendingPathComponent("course_cnn_weights.safetensors").path,
                                 "--limit", "100", "--json"])
        #expect(torch.status == 0, "\(torch.stderr)")
        #expect(torch.stdout.contains("\"accuracy\":"))

        let train = try CLI.run(["train", "lenet5", "--epochs", "1", "--limit", "1000", "--checkpoint", "run.ckpt", "-o", "lenet.safetensors"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.hasPrefix("test accuracy "))
        let resumed = try CLI.run(["train", "lenet5", "--epochs", "2", "--limit", "1000", "--resume", "run.ckpt", "-o", "lenet2.safetensors"], in: dir)
        #expect(resumed.status == 0 && resumed.stdout.contains("after 2 epochs"), "\(resumed.stdout)\(resumed.stderr)")

        let eval = try CLI.run(["eval", "lenet5", "--weights", "lenet2.safetensors", "--limit", "200"], in: dir)
        #expect(eval.status == 0 && eval.stdout.contains("accuracy") && eval.stdout.contains("← predicted"), "\(eval.stderr)")

        // A test digit as a PNG file, predicted with the saved weights (normalisation travels with them).
        let digit = try CLI.run(["filter", "--kernel", "0,0,0; 0,1,0; 0,0,0", "--padding", "1", "--raw", "-o", "x.safetensors", "camera"], in: dir)
        #expect(digit.status == 0)
        let visual = try CLI.run(["visualize", "lenet5", "--weights", "lenet2.safetensors", "--maximize", "2", "-o", "pictures"], in: dir)
        #expect(visual.status == 0, "\(visual.stderr)")
        for name in ["filters.png", "features-0-0.png", "features-3-3.png", "maximize-3.png"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pictures/\(name)").path), "\(name)")
        }
        let predict = try CLI.run(["predict", "pictures/features-0-0.png", "--model", "lenet5", "--weights", "lenet2.safetensors", "--top", "3"], in: dir)
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 3, "\(predict.stdout)\(predict.stderr)")
    }

    @Test func helpHasExamplesAndJSONWorks() throws {
        let help = try CLI.run(["conv2d", "--help"])
        #expect(help.stdout.contains("Example") && help.stdout.contains("--explain"))
        let json = try CLI.run(["conv1d", "--signal", "1,2,3,4,5", "--kernel", "1,0,-1", "--json"])
        #expect(json.stdout.contains(#""output":[[-2,-2,-2]]"#) && json.stdout.contains(#""sums":[-2,-2,-2]"#), "\(json.stdout)")
    }

    /// Weights and checkpoints carry model, classes, data and normalisation (issue 16): `eval`,
    /// `predict` and `--resume` need no repeated flags, and a flag that contradicts them is an error.
    @Test func weightsAndCheckpointsCarryTheirRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try CLI.run(["train", "lenet5", "--classes", "3,5", "--limit", "200", "--epochs", "1", "--checkpoint", "run.ckpt",
                                 "-o", "w.safetensors"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let eval = try CLI.run(["eval", "--weights", "w.safetensors", "--limit", "50"], in: dir)
        #expect(eval.status == 0 && eval.stdout.contains("per class: 3 ") && eval.stdout.contains(", 5 "), "\(eval.stdout)\(eval.stderr)")
        _ = try CLI.run(["filter", "camera", "--kernel", "box", "-o", "photo.png"], in: dir)
        let predict = try CLI.run(["predict", "photo.png", "--weights", "w.safetensors", "--top", "5"], in: dir)
        let names = predict.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(predict.status == 0 && Set(names) == ["3", "5"], "two classes named as trained: \(predict.stdout)\(predict.stderr)")
        // The help's own example: resume with nothing but the checkpoint.
        let resumed = try CLI.run(["train", "--resume", "run.ckpt", "--epochs", "2"], in: dir)
        #expect(resumed.status == 0 && resumed.stdout.contains("after 2 epochs"), "\(resumed.stdout)\(resumed.stderr)")
        try expectCleanFailure(["train", "--resume", "run.ckpt", "--epochs", "3", "--lr", "0.5"], mentions: "--lr 0.5 conflicts with 0.001", in: dir)
        try expectCleanFailure(["train", "course-cnn", "--resume", "run.ckpt", "--epochs", "3"], mentions: "the model course-cnn conflicts with lenet5", in: dir)
        try expectCleanFailure(["eval", "course-cnn", "--weights", "w.safetensors"], mentions: "holds weights for 'lenet5'", in: dir)
        // A folder without train/ and test/ is never silently tested on its training images.
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("f/\(c)"), withIntermediateDirectories: true)
            for i in 0..<3 { _ = try CLI.run(["filter", "checkerboard", "--kernel", "box", "--stride", "2", "--padding", "1", "-o", "f/\(c)/\(i).png"], in: dir) }
        }
        try expectCleanFailure(["train", "lenet5", "--dataset", "folder", "--data-dir", "f"], mentions: "give --val-split", in: dir)
        try expectCleanFailure(["train", "tiny-vgg", "--dataset", "folder", "--data-dir", "f", "--val-split", "0.4"],
                               mentions: "the images are 3×32×32 (C×H×W) but tiny-vgg takes 3×64×64", in: dir)
        let split = try CLI.run(["train", "lenet5-classic", "--dataset", "folder", "--data-dir", "f", "--val-split", "0.4",
                                 "--epochs", "1"], in: dir)
        #expect(split.status == 0, "\(split.stderr)")
    }
}
