import ConvKit
import Foundation

/// Where published weights are cached and fetched from (torch.hub's split: the core library
/// knows what the weights are, this target downloads them, with swift-crypto's hashes).
///
/// - Cache: `$CONVKIT_HOME/weights`, else `$XDG_CACHE_HOME/convkit/weights`, else
///   `~/.cache/convkit/weights`. A file there was verified before it was kept.
/// - Mirror: a base URL that replaces the canonical folder (`--mirror`, else
///   `$CONVKIT_MIRROR`): `<mirror>/<file name>`, for machines that cannot reach the canonical host.
public enum Hub {
    /// The cache folder for `environment` (the process's, by default).
    public static func home(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["CONVKIT_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return URL(fileURLWithPath: cache).appendingPathComponent("convkit") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/convkit")
    }

    /// Where `weights` are (or would be) cached.
    public static func cachedFile(_ weights: PretrainedWeights, home: URL = home()) -> URL {
        home.appendingPathComponent("weights").appendingPathComponent(weights.fileName)
    }

    /// The cached file, if the weights were downloaded.
    public static func cached(_ weights: PretrainedWeights, home: URL = home()) -> URL? {
        let file = cachedFile(weights, home: home)
        return FileManager.default.fileExists(atPath: file.path) ? file : nil
    }

    /// The mirror from `$CONVKIT_MIRROR`, if set.
    public static func environmentMirror(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL? {
        guard let text = environment["CONVKIT_MIRROR"], !text.isEmpty else { return nil }
        guard let url = URL(string: text), url.scheme != nil else {
            throw ConvKitError.invalidArgument(op: "Hub", argument: "CONVKIT_MIRROR", message: "must be a URL, got '\(text)'")
        }
        return url
    }

    /// Downloads `weights` into the cache unless they are there, checking the SHA-256 prefix
    /// in the file's name before keeping it.
    /// - Parameters:
    ///   - mirror: a base URL to fetch `<mirror>/<file name>` from instead of the canonical URL.
    ///   - progress: bytes so far and the total (for a progress bar).
    /// - Returns: the cached file.
    /// - Throws: `ConvKitError.io` for a failed or interrupted transfer (nothing is kept),
    ///   `ConvKitError.invalidFile` for a checksum mismatch (nothing is kept).
    public static func download(_ weights: PretrainedWeights, home: URL = home(), mirror: URL? = nil,
                                progress: Downloader.Progress? = nil) async throws -> URL {
        if let cached = cached(weights, home: home) { return cached }
        let source = mirror.map { $0.appendingPathComponent(weights.fileName) } ?? weights.url
        let path = try await Downloader.fetch(RemoteFile(url: source, checksum: .sha256Prefix(weights.sha256Prefix)),
                                              into: home.appendingPathComponent("weights").path, progress: progress)
        return URL(fileURLWithPath: path)
    }
}
