import ConvKit
import ConvKitLab
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Testing

/// Issue 16's lab rows: numbers that used to kill the server or grow it to gigabytes answer
/// 4xx with a JSON error and the server keeps answering; security headers on every response;
/// `Origin: null` refused; JSON 404s; a bad port refused before binding.
@Suite struct LabHardeningTests {
    @Test func hostileNumbersGet4xxAndTheServerStaysUp() async throws {
        try await LabAPITests.app().test(.router) { client in
            let cases: [(String, String, String)] = [
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"gaussian","sigma":1e9}], "padding": 1}"#, "sigma must be a number in 0.1…10"),
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"gaussian","sigma":-1}], "padding": 1}"#, "sigma must be a number in 0.1…10"),
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"blob","sigma":10000}], "padding": 1}"#, "sigma must be a number in 0.1…10"),
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"box"}], "padding": 99999999999}"#, "padding must be in 0…16"),
                ("/api/convolve", #"{"input": [[1,2],[3,4]], "kernels": [{"name":"box"}], "stride": -9223372036854775807}"#, "stride must be in 1…8"),
                ("/api/convolve", #"{"input": [[1e39]], "kernels": [{"name":"box"}]}"#, "not valid JSON"),
                ("/api/steps", #"{"signal": [1,2,3], "kernelText": "abc"}"#, "'abc' is not a finite number"),
                ("/api/steps", #"{"signal": [1,2,3], "kernelText": ""}"#, "is empty"),
                ("/api/transposed", #"{"input": [[1,2],[3,4]], "padding": "same"}"#, "not defined"),
                ("/api/receptive-field", #"{"layers": [{"kind":"conv","kernel":3,"stride":9223372036854775807}]}"#, "stride must be in 1…2^31 − 1"),
                ("/api/receptive-field", #"{"layers": [{"kind":"<img src=x>","kernel":3}]}"#, "must be conv or pool"),
            ]
            for (uri, body, fragment) in cases {
                let (s, answer) = try await LabAPITests.post(client, uri, body)
                #expect((400..<500).contains(s.code), "\(uri) \(body): \(s)")
                #expect(answer["error"]?.stringValue?.contains(fragment) == true, "\(uri) \(body): \(answer)")
            }
            for uri in ["/api/params?height=99999999&width=99999999&channels=3", "/api/params?filters=0", "/api/params?kernel=abc",
                        "/api/conv1d-params?in=1&out=1&kernel=-1", "/api/conv1d-params?in=9223372036854775807&out=9223372036854775807&kernel=3",
                        "/api/connectivity?size=1000000", "/api/connectivity?kernel=0"] {
                let (s, answer) = try await LabAPITests.get(client, uri)
                #expect((400..<500).contains(s.code) && answer["error"] != nil, "\(uri): \(s) \(answer)")
            }
            // Still up: a good request answers.
            let (s, rf) = try await LabAPITests.post(client, "/api/receptive-field", #"{"layers": [{"kind":"conv","kernel":3}]}"#)
            #expect(s == .ok && rf.arrayValue?.first?["size"]?.intValue == 3)
        }
    }

    @Test func headersOriginNullAndJSON404() async throws {
        try await LabAPITests.app().test(.router) { client in
            for uri in ["/playground.html", "/api/models", "/api/nope"] {
                try await client.execute(uri: uri, method: .get) { r in
                    let csp = r.headers[.contentSecurityPolicy] ?? ""
                    #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "\(uri): \(csp)")
                    #expect(r.headers[.xContentTypeOptions] == "nosniff")
                }
            }
            for uri in ["/api/nope", "/missing.html"] {
                let (s, body) = try await LabAPITests.get(client, uri)
                #expect(s == .notFound && body["error"]?.stringValue?.contains("no such page or endpoint") == true, "\(uri): \(body)")
            }
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            fields[.origin] = "null"
            try await client.execute(uri: "/api/digit/weights?model=course-cnn", method: .post, headers: fields, body: ByteBuffer(string: "x")) { r in
                #expect(r.status == .forbidden && String(buffer: r.body).contains("Origin: null"))
            }
        }
    }

    /// No page carries inline script or inline style (the CSP forbids both), and no page
    /// script writes markup from data.
    @Test func pagesHaveNoInlineScriptAndNoInnerHTML() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ConvKitLab/Public")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            if name.hasSuffix(".html") {
                #expect(!text.contains("<script>") && !text.contains("style=") && text.range(of: #"<[^>]*\son[a-z]+\s*="#, options: .regularExpression) == nil,
                        "\(name) has inline script, handlers or style")
            }
            if name.hasSuffix(".js") { #expect(!text.contains("innerHTML") && !text.contains("insertAdjacentHTML"), "\(name) writes markup") }
        }
    }

    @Test func badConfigurationIsRefusedBeforeBinding() throws {
        for port in [-1, 65536, 99999, Int.max] {
            #expect(throws: ConvKitError.self) { _ = try buildLabApplication(LabConfiguration(port: port)) }
        }
    }
}
