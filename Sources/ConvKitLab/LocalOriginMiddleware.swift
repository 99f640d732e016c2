import Hummingbird

/// Refuses requests that do not come from a page of this lab on this machine, so a web page
/// elsewhere cannot drive the local lab (DNS rebinding: a foreign name resolving to
/// 127.0.0.1 still sends its own name in Host; a cross-site request sends its Origin).
/// Applies when the lab is bound to a loopback address; binding elsewhere (`--host 0.0.0.0`)
/// is an explicit choice to share it, and then only a mismatching Origin is refused.
struct LocalOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let loopbackOnly: Bool

    static func hostName(_ hostAndPort: Substring) -> Substring {
        if hostAndPort.hasPrefix("[") { return hostAndPort.prefix { $0 != "]" }.dropFirst() }  // [::1]:8080
        return hostAndPort.prefix { $0 != ":" }
    }

    static func isLoopback(_ name: Substring) -> Bool {
        ["localhost", "127.0.0.1", "::1"].contains(name.lowercased())
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // HTTP/1.1's Host header arrives as the request's authority; check a literal Host field too.
        let hostHeader = request.headers.first { $0.name.canonicalName == "host" }?.value
        let names = [request.head.authority, hostHeader].compactMap { $0 }.map { Self.hostName($0[...]) }
        let host = names.first
        if loopbackOnly, let foreign = names.first(where: { !Self.isLoopback($0) }) {
            return errorResponse(LabError(status: .forbidden, message: "the lab answers only requests for localhost, not '\(foreign)'"))
        }
        // `Origin: null` comes from sandboxed iframes, file:// pages and some redirects: never this lab's own pages.
        if request.headers[.origin]?.lowercased() == "null" {
            return errorResponse(LabError(status: .forbidden, message: "requests from pages without an origin (Origin: null) are not allowed"))
        }
        if let origin = request.headers[.origin] {
            let originHost = Self.hostName(origin.split(separator: "/").dropFirst().first ?? "")
            let allowed = loopbackOnly ? Self.isLoopback(originHost) : originHost == (host ?? originHost)
            if !allowed {
                return errorResponse(LabError(status: .forbidden, message: "requests from pages of '\(origin)' are not allowed"))
            }
        }
        return try await next(request, context)
    }
}
