import ConvKit
import Foundation
import Testing

/// PyTorch checkpoints read without Python (`TorchCheckpoint`, `WeightsFile`), against files
/// torch itself wrote (scripts/generate_checkpoint_fixtures.py) and the values it recorded.
@Suite struct CheckpointReaderTests {
    static let folder = fixtureURL("checkpoints")

    struct Expected: Decodable {
        let name: String, dtype: String, shape: [Int], values: [Double]
    }

    static let expected: [String: [Expected]] = {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("expected.json").path) else { return [:] }
        return (try? JSONDecoder().decode([String: [Expected]].self, from: data)) ?? [:]
    }()

    /// Every tensor of every file: name, order, dtype, shape and values as torch saved them
    /// (both containers; wrapped, DataParallel, F16, BF16; shared storages, views, every dtype).
    @Test(arguments: expected.keys.sorted())
    func readsWhatTorchSaved(file: String) throws {
        let weights = try WeightsFile.read(contentsOf: Self.folder.appendingPathComponent(file).path)
        let want = try #require(Self.expected[file])
        #expect(weights.names == want.map(\.name), "\(file)")
        for e in want {
            let entry = try weights.entry(e.name)
            #expect(entry.dtype.rawValue == e.dtype && entry.shape == e.shape, "\(file) \(e.name): \(entry.dtype) \(entry.shape)")
            let got: [Double] = entry.dtype.isFloatingPoint ? try weights.tensor(e.name).scalars.map(Double.init)
                : try weights.integers(e.name).map(Double.init)
            #expect(got == e.values, "\(file) \(e.name): \(got.prefix(6)) vs \(e.values.prefix(6))")
        }
    }

    /// A ConvKit model loads a torch checkpoint the way it loads safetensors, whatever the extension.
    @Test func modulesLoadCheckpointsByContent() throws {
        let model = try Sequential {
            try Conv2d(3, 4, kernelSize: 3); try BatchNorm2d(4); ReLU(); Flatten(); try Linear(64, 5)
        }
        for file in ["small_zip.pth", "small_legacy.pth", "small_wrapped.pt", "small_dataparallel.pth", "small_fp16.pth"] {
            try model.load(contentsOf: Self.folder.appendingPathComponent(file).path)
            let want = try #require(Self.expected[file]?.first { $0.name == "4.weight" })
            #expect(model.namedState().first { $0.name == "4.weight" }?.entry.tensor.scalars.map(Double.init) == want.values, "\(file)")
        }
        // The same bytes under a .safetensors name: content decides.
        let renamed = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: renamed) }
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("small_legacy.pth"), to: renamed)
        try model.load(contentsOf: renamed.path)
    }

    /// Hostile files: a clear error naming the problem, and nothing executed.
    @Test(arguments: [
        ("os_system.pth", "refused global 'posix.system'"), ("posix_system.pth", "refused global 'posix.system'"),
        ("eval.pth", "refused global '__builtin__.eval'"), ("model_object.pth", "refused global 'torch.nn.modules.linear.Linear'"),
        ("unknown_opcode.pth", "opcode 0xff"), ("inst_opcode.pth", "opcode INST"),
        ("short_storage.pth", "holds 16 bytes, its id declares 16 × 4"), ("truncated.pth", "no end-of-central-directory"),
        ("truncated_legacy.pth", "the file ends first"), ("zip_bomb.pth", "cannot hold the 4294967280 declared"),
    ])
    func hostileFilesAreRefused(file: String, message: String) throws {
        let marker = "/tmp/convkit-pickle-executed"
        try? FileManager.default.removeItem(atPath: marker)
        do {
            _ = try WeightsFile.read(contentsOf: Self.folder.appendingPathComponent(file).path)
            Issue.record("\(file) was read")
        } catch let error as ConvKitError {
            #expect("\(error)".contains(message), "\(file): \(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "\(file) ran its command")
    }

    /// Hand-made pickles: memoised containers are shared, a million nested lists neither
    /// overflow the stack nor leak, and a declared length past the end is refused before allocating.
    @Test func unpicklerEdges() throws {
        // {"a": [1, 2], "b": <the same list>} with the list appended after memoising it.
        let shared: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x8C, 0x01, 0x61, 0x5D, 0x71, 0x01, 0x28, 0x4B, 0x01, 0x4B, 0x02,
                               0x65, 0x8C, 0x01, 0x62, 0x68, 0x01, 0x75, 0x2E]
        var u = Unpickler(bytes: shared, source: "shared") { _ in .none }
        let lengths = try u.load { value -> [Int] in
            guard case let .dict(d) = value, case let .list(a)? = d["a"], case let .list(b)? = d["b"] else { return [] }
            return [a.items.count, b.items.count, a === b ? 1 : 0]
        }
        #expect(lengths == [2, 2, 1])

        let depth = 1_000_000
        let nested = [0x80, 0x02] + [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        var deep = Unpickler(bytes: nested, source: "nested") { _ in .none }
        #expect(try deep.load { if case .list = $0 { true } else { false } })

        let huge: [UInt8] = [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E]  // BINUNICODE of 2^31 − 1 bytes
        var h = Unpickler(bytes: huge, source: "huge") { _ in .none }
        #expect(throws: ConvKitError.self) { try h.load { _ in 0 } }
    }

    static let zoo = fixtureURL("generated/checkpoints")
    static let zooNames = ["resnet18", "mobilenet_v2", "efficientnet_b0", "densenet121", "googlenet", "convnext_tiny", "alexnet", "vit_b_16"]
    static let hasZoo = FileManager.default.fileExists(atPath: zoo.appendingPathComponent("resnet18.pth").path)

    /// torchvision's models saved by torch (zip, legacy, wrapped with `module.` keys, F16) give
    /// PyTorch's logits in ConvKit's zoo.
    @Test(.enabled(if: hasZoo, "run scripts/generate_checkpoint_fixtures.py --zoo Tests/ConvKitTests/Fixtures/generated/checkpoints (CI does)"),
          arguments: zooNames)
    func zooCheckpointsGivePyTorchsLogits(name: String) throws {
        let files = ["\(name).pth", "\(name)_legacy.pth", "\(name)_wrapped.pth", name == "resnet18" ? "resnet18_fp16.pth" : nil]
            .compactMap { $0 }.filter { FileManager.default.fileExists(atPath: Self.zoo.appendingPathComponent($0).path) }
        #expect(files.count >= (name == "alexnet" || name == "vit_b_16" ? 1 : 2))
        for file in files {
            let (_, model, _) = try Zoo.load(weights: Self.zoo.appendingPathComponent(file).path, model: name)
            let io = try SafeTensors(contentsOf: Self.zoo.appendingPathComponent(file.hasSuffix("_fp16.pth") ? "resnet18_fp16_io.safetensors"
                                                                                   : "\(name)_io.safetensors").path)
            let logits = try withGradientsDisabled { try model(io.tensor("input")) }
            let want = try io.tensor("logits")
            #expect(logits.shape == want.shape)
            let scale = want.scalars.map(abs).max() ?? 1
            let worst = zip(logits.scalars, want.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * Swift.max(scale, 1), "\(file): max difference \(worst) (logits up to \(scale))")
        }
    }
}
