import ConvKit
import Foundation
import Hummingbird

/// `/api/digit/…`: the digit lab's model: predict with feature maps, first-layer filters,
/// training in the server with events, and uploaded weights.
struct DigitController: Sendable {
    let limit: Int, maxUploadBytes: Int
    let digits: DigitLab

    struct PredictRequest: Decodable, Sendable { var pixels: [Float]; var features: Bool? }
    struct FeatureJSON: Encodable { var name: String; var shape: [Int]; var maps: [[[Float]]]? }
    struct PredictResponse: Encodable { var probabilities: [Float]; var prediction: Int; var layers: [FeatureJSON] }
    struct ExplainRequest: Decodable, Sendable { var pixels: [Float]; var method: String?; var target: Int? }
    /// The overlay goes out as a 28 × 28 PNG data URL (the page enlarges it without smoothing).
    struct ExplainResponse: Encodable { var method: String; var target: Int; var probability: Float; var overlay: String; var caption: String }
    struct TrainRequest: Decodable, Sendable { var epochs: Int?; var learningRate: Float?; var limit: Int? }

    func addRoutes(to api: RouterGroup<BasicRequestContext>) {
        let (limit, digits, maxUploadBytes) = (limit, digits, maxUploadBytes)
        api.post("digit/predict") { request, _ in
            await json(request, limit: limit) { (body: PredictRequest) -> PredictResponse in
                try checkDrawing(body.pixels)
                let (p, layers) = try digits.predict(body.pixels)
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                return PredictResponse(probabilities: p, prediction: best, layers: layers.map { name, t in
                    let maps: [[[Float]]]? = (body.features ?? false) && t.rank == 4
                        ? (0..<t.shape[1]).map { c in
                            let plane = t.shape[2] * t.shape[3]
                            let values = Array(t.scalars[(c * plane)..<((c + 1) * plane)]).map { ($0 * 1000).rounded() / 1000 }
                            return stride(from: 0, to: plane, by: t.shape[3]).map { Array(values[$0..<($0 + t.shape[3])]) }
                        } : nil
                    return FeatureJSON(name: name, shape: Array(t.shape.dropFirst()), maps: maps)
                })
            }
        }

        api.post("digit/explain") { request, _ in
            await json(request, limit: limit) { (body: ExplainRequest) -> ExplainResponse in
                try checkDrawing(body.pixels)
                let method = try explanationMethod(body.method ?? "gradcam")
                let (e, overlay) = try digits.explain(body.pixels, method: method, target: body.target)
                return ExplainResponse(method: e.method.summary, target: e.target, probability: e.probabilities[e.target],
                                       overlay: try pngDataURL(overlay), caption: "\(e.caption()): \(e.method.scaleNote)")
            }
        }

        api.get("digit/filters") { _, _ in await answer { digits.filters() } }

        api.get("digit/status") { _, _ in
            await answer { () -> [String: String] in
                let s = digits.status()
                return ["model": s.model, "training": String(s.training), "events": String(s.events)]
            }
        }

        api.post("digit/train") { request, _ in
            await json(request, limit: limit) { (body: TrainRequest) -> [String: String] in
                let epochs = body.epochs ?? 1, rate = body.learningRate ?? 1e-3
                guard (1...20).contains(epochs), rate > 0, rate <= 1, (body.limit ?? 64) >= 64 else {
                    throw LabError(status: .badRequest, message: "epochs must be in 1…20, learningRate in (0, 1], limit at least 64")
                }
                try digits.startTraining(epochs: epochs, learningRate: rate, limit: body.limit)
                return ["status": "started"]
            }
        }

        api.post("digit/stop") { _, _ in await answer { ["stopping": digits.stopTraining()] } }

        api.get("digit/events") { request, _ -> Response in
            let start = request.uri.queryParameters["from"].flatMap { Int(String($0)) } ?? 0
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: .init { writer in
                var next = start
                let encoder = JSONEncoder()
                while true {
                    let (events, finished, _) = digits.events(from: next)
                    for event in events {
                        let data = try encoder.encode(event)
                        try await writer.write(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                    }
                    next += events.count
                    if finished && events.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(150))
                }
                try await writer.finish(nil)
            })
        }

        api.post("digit/weights") { request, _ in
            await answer { () -> [String: String] in
                let model = request.uri.queryParameters["model"].map(String.init) ?? "course-cnn"
                try digits.load(weights: try await uploadedBytes(request, limit: maxUploadBytes), model: model)
                return ["model": model, "status": "loaded"]
            }
        }
    }
}

/// A drawing is 784 finite numbers (28 × 28, row-major) in [0, 1] (a little outside is tolerated).
private func checkDrawing(_ pixels: [Float]) throws {
    guard pixels.count == 784, pixels.allSatisfy({ $0.isFinite && $0 >= -1 && $0 <= 2 }) else {
        throw LabError(status: .badRequest, message: "pixels must be 784 numbers (28×28, row-major) in [0, 1]")
    }
}

/// An explanation method by its CLI name, with its default settings.
func explanationMethod(_ name: String) throws -> ExplanationMethod {
    guard let method = ExplanationMethod.named[name] else {
        throw LabError(status: .badRequest, message: "method must be one of \(ExplanationMethod.named.keys.sorted().joined(separator: ", "))")
    }
    return method
}

/// A picture as a PNG data URL (the pages' CSP allows `img-src data:`).
func pngDataURL(_ picture: Image) throws -> String { "data:image/png;base64," + Data(try PNG.encode(picture)).base64EncodedString() }
