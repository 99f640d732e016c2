import ConvKit
import ConvKitHub
import Foundation
import Hummingbird

/// How to run the lab.
public struct LabConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Requests larger than this are refused with 413 (weights uploads have `maxUploadBytes`).
    public var maxRequestBytes: Int
    public var maxUploadBytes: Int
    /// Where the photo lab looks for published weights (`Hub.home()`: `$CONVKIT_HOME`, …).
    public var weightsHome: URL

    public init(host: String = "127.0.0.1", port: Int = 8080, maxRequestBytes: Int = 1 << 20, maxUploadBytes: Int = 256 << 20,
                weightsHome: URL = Hub.home()) {
        (self.host, self.port, self.maxRequestBytes, self.maxUploadBytes) = (host, port, maxRequestBytes, maxUploadBytes)
        self.weightsHome = weightsHome
    }
}

/// The lab's web application: static pages from the package's resources and a JSON API
/// whose every number is computed by ConvKit. Tests call this without a socket.
/// - Throws: `ConvKitError.invalidArgument` for a port outside 0…65535 or non-positive limits.
public func buildLabApplication(
    _ configuration: LabConfiguration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try Limits.check(configuration.port, in: 0...65535, op: "lab", argument: "port")
    try Limits.check(configuration.maxRequestBytes, in: 1...(1 << 30), op: "lab", argument: "maxRequestBytes")
    try Limits.check(configuration.maxUploadBytes, in: 1...(1 << 32), op: "lab", argument: "maxUploadBytes")
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: LocalOriginMiddleware(loopbackOnly: LocalOriginMiddleware<BasicRequestContext>.isLoopback(configuration.host[...])))
    let digits = try DigitLab()
    let api = router.group("api")
    let limit = configuration.maxRequestBytes
    ConvolutionController(limit: limit).addRoutes(to: api)
    ArithmeticController(limit: limit).addRoutes(to: api)
    DigitController(limit: limit, maxUploadBytes: configuration.maxUploadBytes, digits: digits).addRoutes(to: api)
    PhotoController(limit: limit, maxUploadBytes: configuration.maxUploadBytes, photos: PhotoLab(home: configuration.weightsHome))
        .addRoutes(to: api)
    guard let publicFolder = Bundle.module.url(forResource: "Public", withExtension: nil)?.path else {
        throw ConvKitError.io(path: "Public", message: "the lab's pages are missing from the package's resources")
    }
    router.add(middleware: FileMiddleware(publicFolder, searchForIndexHtml: true))
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .seconds(60))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "convkit-lab"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) })
}
