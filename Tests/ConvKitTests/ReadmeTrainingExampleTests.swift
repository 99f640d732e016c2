import ConvKit
import Foundation
import Testing

/// The README's training example, verbatim (between the markers), so the README stays true.
@Suite struct ReadmeTrainingExampleTests {
    @Test func readmeTrainingExampleRuns() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-readme-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The README writes to the current folder; put the previous one back before the temporary
        // folder is removed (defers run last-in first-out), so other tests never see a removed cwd.
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        // README BEGIN
        DefaultGenerator.seed(0)
        let model = try Sequential {
            try Conv2d(1, 32, kernelSize: 3, padding: 1); ReLU()
            try Conv2d(32, 32, kernelSize: 3, padding: 1); ReLU()
            MaxPool2d(kernelSize: 2)
            try Conv2d(32, 64, kernelSize: 3, padding: 1); ReLU()
            MaxPool2d(kernelSize: 2)
            Flatten()
            try Linear(64 * 7 * 7, 128); ReLU()
            try Linear(128, 10)
        }
        let train = try MNIST.bundled(.train, normalized: true), test = try MNIST.bundled(.test, normalized: true)
        let optimizer = try Adam(parameters: model.parameters, learningRate: 1e-3)
        let trainer = try Trainer(model: model, optimizer: optimizer, batchSize: 64, seed: 0)
        try trainer.fit(train, epochs: 1, onEvent: ProgressBar.terminal())
        let result = try trainer.evaluate(test)
        print("test accuracy \(result.accuracy)")  // about 0.93 after one epoch
        try model.save(to: "course-cnn.safetensors")
        // README END
        #expect(model.parameterCount == 430_890)
        #expect(result.accuracy > 0.9, "one epoch on 4,000 digits reaches about 93 %")
        let saved = try SafeTensors(contentsOf: directory.appendingPathComponent("course-cnn.safetensors").path)
        #expect(saved.names == ["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias",
                                "9.weight", "9.bias", "11.weight", "11.bias"])
    }
}
