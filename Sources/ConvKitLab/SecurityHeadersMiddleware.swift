import Hummingbird

/// Headers that make a slip in a page harmless, on every response: a Content-Security-Policy
/// without `unsafe-inline` (pages load their scripts and styles from files; injected markup
/// cannot run script), no framing (`frame-ancestors 'none'`), no MIME sniffing, no referrer.
/// Also turns a missing route or file into a JSON 404 like every other error.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
            + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = errorResponse(LabError(status: .notFound, message: "no such page or endpoint: \(request.uri.path.prefix(200))"))
        } catch let error as HTTPError {
            response = errorResponse(LabError(status: error.status, message: error.body ?? "\(error.status)"))
        }
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
