import ConvKit
import Foundation
import Testing

/// Weights saved by PyTorch (safetensors.torch.save_file(model.state_dict())) load into the
/// zoo as they are and give PyTorch's logits (scripts/generate_model_fixtures.py). With
/// CONVKIT_EXPORT_DIR set, ConvKit's own weights, input and logits are written there for
/// scripts/check_torch_interop.py to load into PyTorch with strict=True.
@Suite struct InteropTests {
    static let generated = fixtureURL("generated")
    static let hasResNetFixture = FileManager.default.fileExists(
        atPath: generated.appendingPathComponent("resnet18_weights.safetensors").path)

    @Test func courseCNNSavedByPyTorchGivesPyTorchLogits() throws {
        let model = try Zoo.courseCNN()
        try model.load(from: fixtureURL("course_cnn_weights.safetensors").path)
        let io = try SafeTensors(contentsOf: fixtureURL("course_cnn_io.safetensors").path)
        let logits = try withGradientsDisabled { try model(try io.tensor("input")) }
        expectClose(logits, try io.tensor("logits"), rtol: 1e-4, atol: 1e-5, "course CNN logits")
        try exportIfAsked(model, name: "course-cnn", input: try io.tensor("input"))
    }

    @Test(.enabled(if: hasResNetFixture, "run scripts/generate_model_fixtures.py --resnet18 Tests/ConvKitTests/Fixtures/generated (CI does)"))
    func resNet18SavedByPyTorchGivesPyTorchLogits() throws {
        let model = try Zoo.resNet(depth: 18)
        try model.load(from: Self.generated.appendingPathComponent("resnet18_weights.safetensors").path)
        #expect(model.namedState().first { $0.name == "bn1.num_batches_tracked" }?.entry.tensor.scalars == [17])
        model.eval()
        let io = try SafeTensors(contentsOf: Self.generated.appendingPathComponent("resnet18_io.safetensors").path)
        let logits = try withGradientsDisabled { try model(try io.tensor("input")) }
        expectClose(logits, try io.tensor("logits"), rtol: 1e-4, atol: 1e-4, "ResNet-18 logits")
        try exportIfAsked(model, name: "resnet18", input: try io.tensor("input"))
    }

    @Test func savedStateRoundTripsAndKeepsPyTorchDtypes() throws {
        let model = try Zoo.resNet(depth: 18, classes: 10, seed: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let file = try SafeTensors(contentsOf: path)
        #expect(file.metadata["format"] == "pt")
        #expect(try file.entry("bn1.num_batches_tracked").dtype == .i64)
        #expect(try file.entry("bn1.num_batches_tracked").shape == [])
        let copy = try Zoo.resNet(depth: 18, classes: 10, seed: 2)
        try copy.load(from: path)
        for (a, b) in zip(model.namedState(), copy.namedState()) { #expect(a.entry.tensor.scalars == b.entry.tensor.scalars, "\(a.name)") }
    }

    @Test func mismatchedStateIsRejectedWithoutChangingTheModel() throws {
        let model = try Zoo.courseCNN(seed: 5)
        let before = model.parameters.map(\.scalars)
        let weights = try SafeTensors(contentsOf: fixtureURL("course_cnn_weights.safetensors").path)
        let other = try Zoo.leNet5()
        expectError(containing: "missing keys") { try other.loadState(from: weights) }
        // Same names, one wrong shape: nothing is loaded.
        let wrong = try Zoo.courseCNN(classes: 9)
        expectError(containing: "size mismatch for 11.weight: [10, 128] in the file, [9, 128] in the model") {
            try wrong.loadState(from: weights)
        }
        let bytes = SafeTensors.serialize(model.stateDict().filter { $0.0 != "0.bias" })
        expectError(containing: "missing keys 0.bias") { try model.loadState(from: try SafeTensors(bytes: bytes)) }
        #expect(model.parameters.map(\.scalars) == before)
        try model.loadState(from: try SafeTensors(bytes: bytes), strict: false)
    }

    private func exportIfAsked(_ model: Sequential, name: String, input: Tensor) throws {
        guard let directory = ProcessInfo.processInfo.environment["CONVKIT_EXPORT_DIR"] else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Fresh ConvKit weights (not the ones just loaded), so PyTorch sees ConvKit's own file.
        let fresh = try Zoo.entry(name).build(seed: 99)
        fresh.eval()
        try fresh.save(to: "\(directory)/\(name)_convkit_weights.safetensors")
        let logits = try withGradientsDisabled { try fresh(input) }
        try SafeTensors.write([("input", .tensor(input)), ("logits", .tensor(logits))],
                              to: "\(directory)/\(name)_convkit_io.safetensors")
    }
}
