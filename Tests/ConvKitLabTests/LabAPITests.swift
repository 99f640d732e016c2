import ConvKit
import ConvKitLab
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Testing

/// Every endpoint of the lab through Hummingbird's router test client (no socket), with
/// good and bad input; the numbers are checked against the library computing them directly.
@Suite struct LabAPITests {
    static func app() throws -> some ApplicationProtocol { try buildLabApplication(LabConfiguration(maxRequestBytes: 64 << 10)) }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ json: String) async throws -> (HTTPResponse.Status, JSONValue) {
        try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json)) { r in
            (r.status, try JSONValue.parse(Array(r.body.readableBytesView)))
        }
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, JSONValue) {
        try await client.execute(uri: uri, method: .get) { r in (r.status, try JSONValue.parse(Array(r.body.readableBytesView))) }
    }

    @Test func convolveMatchesTheLibrary() async throws {
        try await Self.app().test(.router) { client in
            let (status, body) = try await Self.post(client, "/api/convolve", #"""
                {"input": [[0,0,0,0],[0,1,1,0],[0,1,1,0],[0,0,0,0]], "kernels": [{"name": "laplacian"}, {"matrix": [[1,0],[0,-1]]}], "padding": 1}
                """#)
            #expect(status == .ok)
            let outputs = try #require(body.arrayValue)
            #expect(outputs.count == 2)
            let image = try Image(width: 4, height: 4, channels: 1, pixels: [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0])
            let expected = try ImageFilter.apply(.laplacian, to: image, padding: 1)
            let got = outputs[0]["output"]?.arrayValue?.flatMap { $0.arrayValue ?? [] }.compactMap { $0.doubleValue }.map { Float($0) }
            #expect(got == expected.scalars)
            #expect(outputs[1]["output"]?.arrayValue?.count == 5)  // 2×2 kernel, padding 1: 4 + 2 − 2 + 1
        }
    }

    @Test func stepsExplainTheCourseExample() async throws {
        try await Self.app().test(.router) { client in
            let (status, body) = try await Self.post(client, "/api/steps", #"""
                {"input": [[1,2,0,1,2],[0,1,2,1,0],[2,0,1,0,1],[1,2,0,2,1],[0,1,2,1,0]], "kernel": {"name": "sobel-x"}}
                """#)
            #expect(status == .ok)
            #expect(body["steps"]?.arrayValue?.first?.arrayValue?.first?["text"]?.stringValue
                    == "Position (0, 0): (1×-1) + (2×0) + (0×1) + (0×-2) + (1×0) + (2×2) + (2×-1) + (0×0) + (1×1) = 2")
            #expect(body["sums"]?.arrayValue?.compactMap { $0.doubleValue } == [2, -1, -2, -1, 0, -1, -1, 0, 0])
            #expect(body["formula"]?.arrayValue?.first?.stringValue == "floor((5 + 2×0 − 1×(3 − 1) − 1) / 1) + 1 = 3")
            // Three channels sum; a 1-D signal works too.
            let (s2, multi) = try await Self.post(client, "/api/steps", #"""
                {"channels": [[[1,1],[1,1]], [[2,2],[2,2]]], "kernels": [[[1]], [[10]]]}
                """#)
            #expect(s2 == .ok && multi["sums"]?.arrayValue?.compactMap { $0.doubleValue } == [21, 21, 21, 21])
            let (s3, signal) = try await Self.post(client, "/api/steps", #"{"signal": [1,2,3,4,5], "kernel1d": [1,0,-1]}"#)
            #expect(s3 == .ok && signal["sums"]?.arrayValue?.compactMap { $0.doubleValue } == [-2, -2, -2])
        }
    }

    @Test func transposedReceptiveFieldParamsConnectivity() async throws {
        try await Self.app().test(.router) { client in
            let (s1, t) = try await Self.post(client, "/api/transposed", #"{"input": [[1,2],[3,4]], "kernel": {"matrix": [[1,1],[1,1]]}, "stride": 2}"#)
            #expect(s1 == .ok && t["output"]?.arrayValue?.count == 4)
            #expect(t["steps"]?.arrayValue?.count == 4)
            let (s2, rf) = try await Self.post(client, "/api/receptive-field", #"{"layers": [{"kind":"conv","kernel":3},{"kind":"conv","kernel":3},{"kind":"conv","kernel":3}]}"#)
            #expect(s2 == .ok && rf.arrayValue?.compactMap { $0["size"]?.intValue } == [3, 5, 7])
            let (s3, params) = try await Self.get(client, "/api/params?height=224&width=224&channels=3")
            #expect(s3 == .ok && params["custom"]?.arrayValue?.first?["fullyConnected"]?.intValue == 150_529_000)
            #expect(params["custom"]?.arrayValue?.first?["convolution"]?.intValue == 1792)
            let (s4, conv1d) = try await Self.get(client, "/api/conv1d-params?in=17&out=64&kernel=3")
            #expect(s4 == .ok && conv1d["total"]?.intValue == 3328 && conv1d["weights"]?.intValue == 3264)
            #expect(conv1d["formula"]?.stringValue == "Conv1d(17, 64, kernel_size=3): 3 × 17 × 64 + 64 = 3,328")
            let (s5, c) = try await Self.get(client, "/api/connectivity?size=4&kernel=3")
            #expect(s5 == .ok && c["fullyConnectedWeights"]?.intValue == 256 && c["sharedWeights"]?.intValue == 9)
            #expect(c["matrix"]?.arrayValue?.count == 16)
        }
    }

    @Test func badInputGets4xxWithAMessage() async throws {
        try await Self.app().test(.router) { client in
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/api/convolve", "{not json", .badRequest, "not valid JSON"),
                ("/api/convolve", #"{"kernels": [{"name":"sobel-x"}]}"#, .badRequest, "missing field 'input'"),
                ("/api/convolve", #"{"input": [[1,2],[3]], "kernels": [{"name":"sobel-x"}]}"#, .badRequest, "rows of different lengths"),
                ("/api/convolve", #"{"input": [[1]], "kernels": [{"name":"sobel-q"}]}"#, .badRequest, "unknown kernel 'sobel-q'"),
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"sobel-x"}]}"#, .unprocessableContent, "kernel larger than padded input"),
                ("/api/convolve", #"{"input": [[1]], "kernels": [{"name":"box"}], "mode": "mirror"}"#, .unprocessableContent, "mode must be one of"),
                ("/api/steps", #"{"input": [[1,2],[3,4]], "stride": 99}"#, .unprocessableContent, "stride must be in 1…8"),
                ("/api/receptive-field", #"{"layers": []}"#, .badRequest, "send 1 to 24 layers"),
                ("/api/digit/predict", #"{"pixels": [1, 2, 3]}"#, .badRequest, "784 numbers"),
                ("/api/digit/train", #"{"epochs": 500}"#, .badRequest, "epochs must be in 1…20"),
                ("/api/digit/explain", #"{"pixels": [1, 2, 3]}"#, .badRequest, "784 numbers"),
                ("/api/quick-check", #"{"id": "fc-weights", "values": {"units": 0}}"#, .unprocessableContent, "units must be in 1…1,000,000"),
                ("/api/quick-check", #"{"id": "<b>"}"#, .unprocessableContent, "id must be one of"),
                ("/api/quick-check", #"{"id": "fc-weights", "values": {"units": 1e30}}"#, .badRequest, "not valid JSON for this endpoint"),
            ]
            for (uri, body, status, fragment) in cases {
                let (s, answer) = try await Self.post(client, uri, body)
                #expect(s == status, "\(uri) \(body)")
                #expect(answer["error"]?.stringValue?.contains(fragment) == true, "\(uri): \(answer)")
            }
            let huge = "{\"input\": [[" + Array(repeating: "0", count: 40_000).joined(separator: ",") + "]], \"kernels\": []}"
            let (s, answer) = try await Self.post(client, "/api/convolve", huge)
            #expect(s == .contentTooLarge && answer["error"]?.stringValue?.contains("larger than") == true)
            let big = "{\"input\": " + "[" + Array(repeating: "[" + Array(repeating: "0", count: 200).joined(separator: ",") + "]", count: 20).joined(separator: ",")
                + "], \"kernels\": [{\"name\":\"box\"}]}"
            let (s2, a2) = try await Self.post(client, "/api/convolve", big)
            #expect(s2 == .badRequest && a2["error"]?.stringValue?.contains("at most 128×128") == true)
            let (s4, checks) = try await Self.get(client, "/api/quick-checks?page=conv1d")
            #expect(s4 == .ok && checks.arrayValue?.first?["answer"]?.stringValue == "7")
            let (s5, check) = try await Self.post(client, "/api/quick-check", #"{"id": "output-length", "values": {"n": 100, "k": 3, "s": 2, "p": 1}}"#)
            #expect(s5 == .ok && check["answer"]?.stringValue == "50")
            let (s3, a3) = try await Self.get(client, "/api/params?hidden=abc")
            #expect(s3 == .badRequest && a3["error"]?.stringValue?.contains("hidden must be an integer") == true)
            // JSON endpoints take JSON only (a form or text/plain post is what a foreign page could send).
            for type in ["text/plain", "application/x-www-form-urlencoded", nil] {
                var fields = HTTPFields()
                if let type { fields[.contentType] = type }
                try await client.execute(uri: "/api/receptive-field", method: .post, headers: fields, body: ByteBuffer(string: "{}")) { r in
                    #expect(r.status == .unsupportedMediaType, "\(type ?? "no content type")")
                    #expect(String(buffer: r.body).contains("expected Content-Type: application/json"))
                }
            }
        }
    }

    @Test func digitPredictionsFeatureMapsAndWeights() async throws {
        try await Self.app().test(.router) { client in
            let digit = try MNIST.bundled(.test).image(0).scalars.map { String($0) }.joined(separator: ",")
            let (s, body) = try await Self.post(client, "/api/digit/predict", "{\"pixels\": [\(digit)], \"features\": true}")
            #expect(s == .ok)
            let p = try #require(body["probabilities"]?.arrayValue?.compactMap { $0.doubleValue })
            #expect(p.count == 10 && abs(p.reduce(0, +) - 1) < 1e-4)
            #expect(body["layers"]?.arrayValue?.first?["maps"]?.arrayValue?.count == 32)
            // Why this class: every method answers with a heat map over the drawing; bad methods and classes are 4xx.
            for method in ["gradcam", "saliency", "smoothgrad", "occlusion"] {
                let (s, e) = try await Self.post(client, "/api/digit/explain", "{\"pixels\": [\(digit)], \"method\": \"\(method)\", \"target\": 4}")
                #expect(s == .ok && e["target"]?.intValue == 4 && e["overlay"]?.stringValue?.hasPrefix("data:image/png;base64,") == true, "\(method): \(e)")
            }
            let (s1, e1) = try await Self.post(client, "/api/digit/explain", "{\"pixels\": [\(digit)], \"method\": \"<b>\"}")
            #expect(s1 == .badRequest && e1["error"]?.stringValue?.contains("method must be one of") == true)
            let (s2, e2) = try await Self.post(client, "/api/digit/explain", "{\"pixels\": [\(digit)], \"target\": 10}")
            #expect(s2 == .unprocessableContent && e2["error"]?.stringValue?.contains("target") == true)
            // Weights trained elsewhere (here: PyTorch's fixture) load; weights for another model are refused with the reason.
            let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("ConvKitTests/Fixtures")
            let weights = try Data(contentsOf: fixtures.appendingPathComponent("course_cnn_weights.safetensors"))
            try await client.execute(uri: "/api/digit/weights?model=course-cnn", method: .post, body: ByteBuffer(data: weights)) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/digit/weights?model=lenet5", method: .post, body: ByteBuffer(data: weights)) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("missing keys"))
            }
            try await client.execute(uri: "/api/digit/weights?model=resnet18", method: .post, body: ByteBuffer(data: weights)) { r in
                #expect(r.status == .unprocessableContent && String(buffer: r.body).contains("draws 1×28×28"))
            }
            try await client.execute(uri: "/api/digit/weights", method: .post, body: ByteBuffer(string: "garbage")) { r in
                #expect(r.status == .unprocessableContent)
            }
        }
    }

    /// DNS rebinding and cross-site requests: a foreign Host or Origin is refused.
    @Test func foreignHostsAndOriginsAreRefused() async throws {
        try await Self.app().test(.router) { client in
            let body = ByteBuffer(string: #"{"layers": [{"kind":"conv","kernel":3}]}"#)
            let host = HTTPField.Name("Host")!
            for (headers, status) in [([host: "evil.example:8080"], HTTPResponse.Status.forbidden),
                                      ([host: "127.0.0.1:8080", .origin: "http://evil.example"], .forbidden),
                                      ([host: "localhost:8080", .origin: "http://localhost:8080"], .ok),
                                      ([host: "[::1]:8080"], .ok)] {
                var fields = HTTPFields()
                for (k, v) in headers { fields[k] = v }
                fields[.contentType] = "application/json"
                try await client.execute(uri: "/api/receptive-field", method: .post, headers: fields, body: body) { r in
                    #expect(r.status == status, "\(headers)")
                    if status == .forbidden { #expect(String(buffer: r.body).contains("error")) }
                }
            }
        }
    }

    @Test func modelsFiltersStatusAndPages() async throws {
        try await Self.app().test(.router) { client in
            let (s1, models) = try await Self.get(client, "/api/models")
            #expect(s1 == .ok && models.arrayValue?.contains { $0["name"]?.stringValue == "course-cnn" && $0["input"]?.stringValue == "1×28×28" } == true)
            let (s2, filters) = try await Self.get(client, "/api/digit/filters")
            #expect(s2 == .ok && filters.arrayValue?.count == 32 && filters.arrayValue?.first?.arrayValue?.count == 3)
            let (s3, status) = try await Self.get(client, "/api/digit/status")
            #expect(s3 == .ok && status["model"]?.stringValue == "course-cnn" && status["training"]?.stringValue == "false")
            let (s4, stop) = try await Self.post(client, "/api/digit/stop", "{}")
            #expect(s4 == .ok && stop["stopping"] == .bool(false))
            for page in ["index.html", "playground.html", "stepper.html", "conv1d.html", "receptive-field.html", "connectivity.html",
                         "params.html", "digits.html", "lab.js", "lab.css"] {
                try await client.execute(uri: "/" + page, method: .get) { r in
                    #expect(r.status == .ok, "\(page)")
                    #expect(!String(buffer: r.body).contains("http://") || page == "index.html", "\(page) loads nothing from elsewhere")
                }
            }
            try await client.execute(uri: "/", method: .get) { r in #expect(String(buffer: r.body).contains("ConvKit lab")) }
            try await client.execute(uri: "/missing.html", method: .get) { r in #expect(r.status == .notFound) }
        }
    }

    @Test func trainingStreamsEventsAndCanBeStopped() async throws {
        try await Self.app().test(.router) { client in
            // A long job (20 epochs): a second one is refused while it runs, other endpoints answer,
            // and Stop ends it.
            let (s, _) = try await Self.post(client, "/api/digit/train", #"{"epochs": 20, "limit": 640}"#)
            #expect(s == .ok)
            let (again, busy) = try await Self.post(client, "/api/digit/train", #"{"epochs": 1}"#)
            #expect(again == .conflict && busy["error"]?.stringValue?.contains("already running") == true)
            let (p, _) = try await Self.get(client, "/api/params")
            #expect(p == .ok)
            let (stopped, _) = try await Self.post(client, "/api/digit/stop", "{}")
            #expect(stopped == .ok)
            let first = try await client.execute(uri: "/api/digit/events", method: .get) { r in String(buffer: r.body) }
            #expect(first.split(separator: "\n").last { $0.hasPrefix("data: ") }?.contains("\"kind\":\"stopped\"") == true)
            // A short job runs to the end: batch events, then "done" with the new filters.
            let (s2, _) = try await Self.post(client, "/api/digit/train", #"{"epochs": 1, "limit": 128}"#)
            #expect(s2 == .ok)
            let stream = try await client.execute(uri: "/api/digit/events", method: .get) { r in String(buffer: r.body) }
            let events = stream.split(separator: "\n").filter { $0.hasPrefix("data: ") }
            #expect(events.contains { $0.contains("\"kind\":\"batch\"") })
            #expect(events.last?.contains("\"kind\":\"done\"") == true)
            #expect(events.contains { $0.contains("\"filters\"") })
        }
    }
}

extension JSONValue {
    var doubleValue: Double? { if case let .number(d) = self { return d }; return nil }
}
