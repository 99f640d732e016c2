import ConvKit
import ConvKitHub
import Foundation
import Testing

/// Published weights through the cache (`Hub`), against a server on 127.0.0.1 standing in for
/// the canonical host and a mirror: verified downloads, cache hits, and every failure leaving
/// nothing behind.
@Suite struct HubTests {
    /// Weights whose file name carries the SHA-256 prefix of `payload`, as torchvision's do.
    static func weights(for payload: [UInt8], base: URL, name: String = "tiny") -> PretrainedWeights {
        let prefix = String(Downloader.sha256(payload).prefix(8))
        let json = """
            {"model": "resnet18", "name": "TEST", "url": "\(base.appendingPathComponent("models/\(name)-\(prefix).pth").absoluteString)",
             "resizeSize": 256, "cropSize": 224, "interpolation": "bilinear", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
            """
        return try! JSONDecoder().decode(PretrainedWeights.self, from: Data(json.utf8))
    }

    static func temporaryHome() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-hub-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func downloadsAreVerifiedCachedAndNeverLeftHalfDone() async throws {
        let payload = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let prefix = String(Downloader.sha256(payload).prefix(8))
        let server = try LocalFileServer(files: ["/models/tiny-\(prefix).pth": payload, "/mirror/tiny-\(prefix).pth": payload,
                                                 "/models/bad-\(prefix).pth": Array(payload.reversed()),
                                                 "/models/cut-\(prefix).pth": payload],
                                         interrupted: ["/models/cut-\(prefix).pth"])
        let home = try Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let weights = Self.weights(for: payload, base: server.baseURL)

        // A verified download lands in the cache, with progress reported up to the total.
        let seen = ProgressLog()
        let file = try await Hub.download(weights, home: home, progress: { received, total in seen.add(received, total) })
        #expect(file == Hub.cachedFile(weights, home: home) && FileManager.default.contents(atPath: file.path).map { [UInt8]($0) } == payload)
        #expect(seen.last?.0 == Int64(payload.count) && seen.last?.1 == Int64(payload.count))
        // A cache hit makes no request.
        let before = server.requestedPaths.count
        _ = try await Hub.download(weights, home: home)
        #expect(server.requestedPaths.count == before)

        // A mirror serves <mirror>/<file name>.
        let mirrorHome = try Self.temporaryHome()
        defer { try? FileManager.default.removeItem(at: mirrorHome) }
        _ = try await Hub.download(weights, home: mirrorHome, mirror: server.baseURL.appendingPathComponent("mirror"))
        #expect(server.requestedPaths.last == "/mirror/tiny-\(prefix).pth")

        // Checksum mismatch, 404 and an interrupted transfer: a clear error, nothing kept, no temporary file.
        for (name, message) in [("bad", "checksum mismatch: expected SHA-256 starting \(prefix)"), ("gone", "HTTP status 404"),
                                ("cut", "download failed")] {
            let other = Self.weights(for: payload, base: server.baseURL, name: name)
            await expectAsyncError(containing: message) { _ = try await Hub.download(other, home: home) }
            #expect(Hub.cached(other, home: home) == nil, "\(name) was kept")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("weights").path)
        #expect(left == [weights.fileName], "\(left)")
    }

    @Test func cacheAndMirrorComeFromTheEnvironment() throws {
        #expect(Hub.home(environment: ["CONVKIT_HOME": "/data/ck"]).path == "/data/ck")
        #expect(Hub.home(environment: ["XDG_CACHE_HOME": "/c"]).path == "/c/convkit")
        #expect(Hub.home(environment: [:]).path.hasSuffix("/.cache/convkit"))
        #expect(try Hub.environmentMirror(["CONVKIT_MIRROR": "http://127.0.0.1:9/models/"])?.absoluteString == "http://127.0.0.1:9/models/")
        #expect(throws: ConvKitError.self) { try Hub.environmentMirror(["CONVKIT_MIRROR": "not a url"]) }
    }
}

/// Progress callbacks, from the download's thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Int64, Int64?)] = []
    func add(_ received: Int64, _ total: Int64?) { lock.withLock { entries.append((received, total)) } }
    var last: (Int64, Int64?)? { lock.withLock { entries.last } }
}
