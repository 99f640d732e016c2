import ConvKit
import Foundation
import Testing

/// The zoo against the numbers the issue gives and the state_dict layout torchvision
/// writes (keys and shapes exported by scripts/export_torchvision_keys.py).
@Suite struct ZooTests {
    static let torchvision: [String: JSONValue] = {
        let bytes = (try? Data(contentsOf: fixtureURL("torchvision_state_keys.json"))) ?? Data()
        guard case let .object(pairs)? = try? JSONValue.parse(bytes) else { return [:] }
        return Dictionary(uniqueKeysWithValues: pairs)
    }()

    static let expectedParameters: [String: Int] = [
        "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg16": 138_357_544, "vgg19": 143_667_240,
        "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160, "resnet152": 60_192_808, "mobilenet_v2": 3_504_872,
        "efficientnet_b0": 5_288_548, "densenet121": 7_978_856, "googlenet": 6_624_904, "convnext_tiny": 28_589_128,
        "vit_b_16": 86_567_656, "vit_b_32": 88_224_232, "vit_l_16": 304_326_632,
        "course-cnn": 430_890, "lenet5-classic": 60_000, "lenet5": 61_706, "scratch-cnn": 4_450,
    ]

    @Test(arguments: Zoo.entries.map(\.name))
    func parameterCountAndNativeForwardPass(name: String) throws {
        let entry = try Zoo.entry(name)
        let model = try entry.build()
        if let expected = Self.expectedParameters[name] {
            #expect(model.parameterCount == expected, "\(name)")
        }
        model.eval()
        var rng = SeededGenerator(seed: 3)
        let x = try Tensor.randomNormal([1] + entry.inputShape, using: &rng)
        let y = try withGradientsDisabled { try model(x) }
        #expect(y.shape == [1, entry.classes], "\(name)")
        #expect(y.scalars.allSatisfy { $0.isFinite }, "\(name)")
    }

    @Test(arguments: ["alexnet", "vgg11", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2",
                      "efficientnet_b0", "densenet121", "googlenet", "convnext_tiny", "vit_b_16", "vit_b_32", "vit_l_16"])
    func stateNamesAndShapesMatchTorchvision(name: String) throws {
        let reference = try #require(Self.torchvision[name], "fixture has \(name)")
        guard case let .object(fields) = reference, let state = fields.first(where: { $0.0 == "state" })?.1.arrayValue else {
            Issue.record("malformed fixture for \(name)")
            return
        }
        let expected = state.compactMap { pair -> String? in
            guard let p = pair.arrayValue, let key = p.first?.stringValue else { return nil }
            return "\(key) \(p[1].ints)"
        }
        let model = try Zoo.entry(name).build()
        let actual = model.namedState().map { "\($0.name) \($0.entry.tensor.shape)" }
        #expect(actual.count == expected.count, "\(name): \(actual.count) state entries, torchvision has \(expected.count)")
        for (a, e) in zip(actual, expected) where a != e {
            Issue.record("\(name): first difference: ConvKit '\(a)', torchvision '\(e)'")
            break
        }
    }

    @Test func classesAndInputChannelsAreConfigurable() throws {
        let model = try Zoo.resNet(depth: 18, classes: 7, inputChannels: 1)
        model.eval()
        let y = try withGradientsDisabled { try model(try Tensor.zeros([2, 1, 64, 64])) }
        #expect(y.shape == [2, 7])
    }

    @Test func unknownModelNamesTheKnownOnes() {
        expectError(containing: "resnet18") { _ = try Zoo.entry("resnet19") }
    }
}
