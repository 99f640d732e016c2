import ConvKit
import Foundation
import Testing

/// ImageNet preprocessing against torchvision on PIL images (scripts/generate_preprocessing_fixtures.py):
/// resize of the shorter side with Pillow's antialiased filters, then center crop, on 8-bit samples.
@Suite struct PreprocessingTests {
    struct Case: Decodable { let `case`: String, source: String, resize: Int, crop: Int, interpolation: String }

    static let folder = fixtureURL("preprocessing")
    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("cases.json").path) else { return [] }
        return (try? JSONDecoder().decode([Case].self, from: data)) ?? []
    }()

    @Test(arguments: cases.map(\.case))
    func matchesTorchvision(name: String) throws {
        let c = try #require(Self.cases.first { $0.case == name })
        let source = ImageBytes(try #require(try Image.named(String(c.source.dropLast(4)))))
        let p = ImagePreprocessing(resizeSize: c.resize, cropSize: c.crop, interpolation: try #require(ImageBytes.Filter(rawValue: c.interpolation)))
        let got = try p.prepared(source)
        let want = ImageBytes(try PNG.read(path: Self.folder.appendingPathComponent(name + ".png").path)).rgb
        #expect(got.width == want.width && got.height == want.height)
        let worst = zip(got.bytes, want.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 0
        // torchvision on PIL images is Pillow's resampling, which this follows to the bit; ≤ 1 is the requirement.
        #expect(worst <= 1, "\(name) (\(c.source), resize \(c.resize), crop \(c.crop), \(c.interpolation)): max difference \(worst)")
        if worst > 0 { print("\(name): max difference \(worst)") }
    }

    /// The published weights ConvKit knows: torchvision's file names and SHA-256 prefixes, 1,000 classes.
    @Test func publishedWeights() throws {
        let resnet18 = try PretrainedWeights.named("resnet18")
        #expect(resnet18.fileName == "resnet18-f37072fd.pth" && resnet18.sha256Prefix == "f37072fd")
        #expect(resnet18.preprocessing == ImagePreprocessing(resizeSize: 256, cropSize: 224))
        #expect(try PretrainedWeights.named("efficientnet_b0").interpolation == .bicubic)
        #expect(try PretrainedWeights.named("resnet50:IMAGENET1K_V2").resizeSize == 232)
        #expect(ImageNet.classNames.count == 1000 && ImageNet.classNames[281] == "tabby")
        #expect(throws: ConvKitError.self) { try PretrainedWeights.named("lenet5") }
        for w in PretrainedWeights.all {
            #expect(try Zoo.entry(w.model).classes == 1000, "\(w.id)")
        }
    }
}
