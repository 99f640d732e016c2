import ConvKit
import ConvKitLab
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Testing

/// The photo lab's endpoints with weights in a temporary cache (a ConvKit-saved ResNet-18 under
/// torchvision's file name; the cache reads by content) and uploaded weights.
@Suite struct PhotoLabTests {
    static func home() throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-photo-\(UUID())")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("weights"), withIntermediateDirectories: true)
        let resnet = try Zoo.entry("resnet18").build(classes: 1000)
        try resnet.save(to: home.appendingPathComponent("weights/\(try PretrainedWeights.named("resnet18").fileName)").path)
        return home
    }

    @Test func analyzeUploadAndRefusals() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let app = try buildLabApplication(LabConfiguration(maxRequestBytes: 64 << 10, weightsHome: home))
        try await app.test(.router) { client in
            let (_, models) = try await LabAPITests.get(client, "/api/photo/models")
            let list = try #require(models.arrayValue)
            #expect(list.contains { $0["model"]?.stringValue == "resnet18" && $0["available"] == .bool(true) })
            #expect(list.contains { $0["model"]?.stringValue == "alexnet" && $0["command"]?.stringValue == "convkit download weights alexnet:IMAGENET1K_V1" })

            let (status, body) = try await LabAPITests.post(client, "/api/photo/analyze", #"{"sample": "chelsea", "model": "resnet18", "layer": "layer1.0.conv1"}"#)
            #expect(status == .ok, "\(body)")
            #expect(body["top"]?.arrayValue?.count == 5 && body["layer"]?.stringValue == "layer1.0.conv1")
            #expect(body["layers"]?.arrayValue?.contains(.string("layer4.1.bn2")) == true)
            #expect(body["prepared"]?.stringValue?.hasPrefix("data:image/png;base64,") == true)
            // The preprocessed photo is ResNet-18's 224 × 224 crop.
            let url = try #require(body["prepared"]?.stringValue)
            let png = try #require(Data(base64Encoded: String(url.dropFirst(22))))
            let prepared = try PNG.decode([UInt8](png))
            #expect(prepared.width == 224 && prepared.height == 224)

            // An uploaded photo (PNG here; JPEG goes through the same decoder call) works like a sample.
            let photo = Data(try PNG.encode(try Image.sample(.camera))).base64EncodedString()
            let (s2, b2) = try await LabAPITests.post(client, "/api/photo/analyze", #"{"image": "\#(photo)", "model": "resnet18"}"#)
            #expect(s2 == .ok && b2["layer"]?.stringValue == "conv1", "\(b2)")

            for (json, expected) in [
                (#"{"sample": "chelsea", "model": "alexnet"}"#, HTTPResponse.Status.notFound),
                (#"{"sample": "chelsea", "model": "resnet18", "layer": "nope"}"#, .unprocessableContent),
                (#"{"sample": "dog", "model": "resnet18"}"#, .badRequest),
                (#"{"image": "%%%", "model": "resnet18"}"#, .badRequest),
                (#"{"image": "aGVsbG8=", "model": "resnet18"}"#, .unprocessableContent),
                (#"{"model": "resnet18"}"#, .badRequest),
                (#"{"sample": "chelsea", "model": "lenet5", "weights": "uploaded"}"#, .notFound),
            ] {
                let (s, b) = try await LabAPITests.post(client, "/api/photo/analyze", json)
                #expect(s == expected && b["error"]?.stringValue != nil, "\(json): \(s) \(b)")
            }

            // Weights uploaded for another zoo model (a ConvKit-saved MobileNetV2 with 10 classes).
            let mobile = try Zoo.entry("mobilenet_v2").build(classes: 10)
            let file = home.appendingPathComponent("m.safetensors")
            try mobile.save(to: file.path)
            let upload = try await client.execute(uri: "/api/photo/weights?model=mobilenet_v2", method: .post,
                                                  body: ByteBuffer(bytes: [UInt8](try Data(contentsOf: file)))) { $0.status }
            #expect(upload == .ok)
            let (s3, b3) = try await LabAPITests.post(client, "/api/photo/analyze", #"{"sample": "chelsea", "model": "mobilenet_v2", "weights": "uploaded"}"#)
            #expect(s3 == .ok && b3["top"]?.arrayValue?.count == 5, "\(b3)")
            let lenet = try await client.execute(uri: "/api/photo/weights?model=lenet5", method: .post, body: ByteBuffer(bytes: [1, 2, 3])) { $0.status }
            #expect(lenet == .unprocessableContent)
        }
    }
}
