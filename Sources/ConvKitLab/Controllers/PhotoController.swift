import ConvKit
import Foundation
import Hummingbird

/// `/api/photo/…`: a photo (bundled or uploaded PNG/JPEG) through a real ImageNet network:
/// what it sees after preprocessing, its top 5, its first-layer filters and any layer's maps.
struct PhotoController: Sendable {
    let limit: Int, maxUploadBytes: Int
    let photos: PhotoLab

    struct AnalyzeRequest: Decodable, Sendable {
        /// A bundled photo (`chelsea`, `camera`), or `image`: a PNG or JPEG file, base64.
        var sample: String?
        var image: String?
        var model: String
        var weights: String?
        var layer: String?
        /// An explanation method (gradcam, saliency, smoothgrad, occlusion), and the class to explain (default: the top one).
        var explain: String?
        var target: Int?
    }

    /// Pictures go out as PNG data URLs (the page's CSP allows `img-src data:`).
    struct AnalyzeResponse: Encodable {
        var prepared: String, top: [ClassProbability], filters: String?, layers: [String], layer: String?, featureMaps: String?
        /// The heat map over the prepared photo, and what it explains, when asked.
        var heatmap: String?, explained: String?
    }

    func addRoutes(to api: RouterGroup<BasicRequestContext>) {
        let (photos, maxUploadBytes) = (photos, maxUploadBytes)
        // A base64 photo of up to 12 MB fits in a 16 MB request.
        let photoLimit = Swift.max(limit, 16 << 20)
        api.get("photo/models") { _, _ in await answer { photos.models() } }

        api.post("photo/analyze") { request, _ in
            await json(request, limit: photoLimit) { (body: AnalyzeRequest) -> AnalyzeResponse in
                let image: ImageBytes
                if let sample = body.sample {
                    guard let which = Image.Sample(rawValue: sample) else {
                        throw LabError(status: .badRequest, message: "sample must be one of \(Image.Sample.allCases.map(\.rawValue))")
                    }
                    image = ImageBytes(try Image.sample(which))
                } else if let text = body.image {
                    guard let data = Data(base64Encoded: text) else { throw LabError(status: .badRequest, message: "image must be base64") }
                    let bytes = [UInt8](data)
                    image = JPEG.isJPEG(bytes) ? try JPEG.decodeSamples(bytes, source: "uploaded photo", applyingOrientation: true)
                        : ImageBytes(try Image(bytes: bytes, source: "uploaded photo"))
                } else {
                    throw LabError(status: .badRequest, message: "give a sample or an image")
                }
                let method = try body.explain.map(explanationMethod)
                let classifier = try photos.classifier(model: body.model, weights: body.weights ?? "IMAGENET1K_V1")
                // One photo at a time through a model (an explanation changes its parameters' flags while it runs).
                let (a, explanation) = try photos.run {
                    let a = try classifier.analyze(image, layer: body.layer)
                    return (a, try method.map { try classifier.model.explain(try classifier.preprocessing.tensor(image), method: $0, target: body.target) })
                }
                let explained = explanation.map { e in
                    "\(e.caption(className: e.target < classifier.classNames.count ? classifier.classNames[e.target] : nil)): \(e.method.scaleNote)"
                }
                return AnalyzeResponse(prepared: try pngDataURL(a.prepared.image), top: a.top, filters: try a.filters.map(pngDataURL), layers: a.layers,
                                       layer: a.layer, featureMaps: try a.featureMaps.map(pngDataURL),
                                       heatmap: try explanation.map { try pngDataURL(try $0.overlay(on: a.prepared.image)) }, explained: explained)
            }
        }

        api.post("photo/weights") { request, _ in
            await answer { () -> [String: String] in
                let model = request.uri.queryParameters["model"].map(String.init) ?? "resnet18"
                try photos.upload(try await uploadedBytes(request, limit: maxUploadBytes), model: model)
                return ["model": model, "weights": "uploaded", "status": "loaded"]
            }
        }
    }
}
