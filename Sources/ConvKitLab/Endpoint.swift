import ConvKit
import Foundation
import Hummingbird

/// A JSON error answer: `{"error": "..."}` with a 4xx status.
struct LabError: Error {
    let status: HTTPResponse.Status
    let message: String
}

/// Decodes a capped JSON body into `Body`, runs `handler`, and encodes its result; every
/// failure becomes a 4xx JSON error, never a crash or a 500 for bad input.
func json<Body: Decodable & Sendable, Result: Encodable>(
    _ request: Request, limit: Int, _ handler: @Sendable (Body) async throws -> Result
) async -> Response {
    do {
        // JSON only: also keeps cross-site "simple" requests (forms, text/plain) from reaching the API.
        let contentType = request.headers[.contentType]
        guard contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json" else {
            throw LabError(status: .unsupportedMediaType, message: "expected Content-Type: application/json, got \(contentType ?? "none")")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw LabError(status: .contentTooLarge, message: "request body larger than \(limit) bytes")
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, _) {
            throw LabError(status: .badRequest, message: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw LabError(status: .badRequest, message: "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw LabError(status: .badRequest, message: "the body is not valid JSON for this endpoint")
        }
        return try encode(try await handler(body))
    } catch {
        return errorResponse(error)
    }
}

/// A GET endpoint's answer, with the same error handling.
func answer<Result: Encodable>(_ handler: () async throws -> Result) async -> Response {
    do { return try encode(try await handler()) } catch { return errorResponse(error) }
}

func encode<Result: Encodable>(_ value: Result) throws -> Response {
    let data = try JSONEncoder().encode(value)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
}

func errorResponse(_ error: any Error) -> Response {
    let (status, message): (HTTPResponse.Status, String)
    switch error {
    case let e as LabError: (status, message) = (e.status, e.message)
    case let e as ConvKitError: (status, message) = (.unprocessableContent, e.description)
    default: (status, message) = (.badRequest, "\(error)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    let data = (try? encoder.encode(["error": message])) ?? Data("{\"error\":\"bad request\"}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
}

/// Checks that a grid is rectangular, non-empty, finite and at most `maxSide` on each side.
func checkGrid(_ grid: [[Float]], name: String, maxSide: Int) throws -> Tensor {
    guard let width = grid.first?.count, width > 0, !grid.isEmpty else {
        throw LabError(status: .badRequest, message: "\(name) must be a non-empty grid of numbers")
    }
    guard grid.count <= maxSide, width <= maxSide else {
        throw LabError(status: .badRequest, message: "\(name) is \(grid.count)×\(width); at most \(maxSide)×\(maxSide) is allowed")
    }
    guard grid.allSatisfy({ $0.count == width }) else {
        throw LabError(status: .badRequest, message: "\(name) has rows of different lengths")
    }
    guard grid.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
        throw LabError(status: .badRequest, message: "\(name) must hold finite numbers")
    }
    return try Tensor(rows: grid)
}

/// Stride, padding, dilation and padding mode as the pages send them; the library parses
/// and checks them (the ranges here only keep requests small).
struct GeometryRequest: Decodable, Sendable {
    var stride: Int?
    var padding: PaddingValue?
    var dilation: Int?
    var mode: String?

    /// A padding amount or a name (`same`, `valid`).
    enum PaddingValue: Decodable, Sendable {
        case amount(Int), named(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .amount(n) } else { self = .named(try c.decode(String.self)) }
        }
        func resolved() throws -> Padding {
            switch self {
            case let .amount(n): Padding.symmetric(n)
            case let .named(text): try Padding(parsing: text, argument: "padding")
            }
        }
    }

    func resolved(maxStride: Int = 8, maxPadding: Int = 16) throws -> (stride: PerAxis, padding: Padding, dilation: PerAxis, mode: PaddingMode) {
        let s = stride ?? 1, d = dilation ?? 1
        try Limits.check(s, in: 1...maxStride, op: "request", argument: "stride")
        try Limits.check(d, in: 1...8, op: "request", argument: "dilation")
        if case let .amount(n) = padding { try Limits.check(n, in: 0...maxPadding, op: "request", argument: "padding") }
        return (PerAxis(s), try (padding ?? .amount(0)).resolved(), PerAxis(d), try PaddingMode(parsing: mode ?? "zeros", argument: "mode"))
    }
}

/// A kernel given by name (with σ for gaussian and blob) or as a matrix.
struct KernelRequest: Decodable, Sendable {
    var name: String?
    var matrix: [[Float]]?
    var sigma: Float?

    func resolved() throws -> (name: String, matrix: [[Float]]) {
        if let matrix {
            _ = try checkGrid(matrix, name: "kernel", maxSide: 15)
            return (String((name ?? "custom").prefix(60)), matrix)
        }
        guard let name else { throw LabError(status: .badRequest, message: "a kernel needs a name or a matrix") }
        guard let named = NamedKernel(rawValue: name) else {
            throw LabError(status: .badRequest,
                           message: "unknown kernel '\(name.prefix(60))'; known: \(NamedKernel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return (name, try named.matrix(sigma: sigma ?? 1))
    }
}

/// An upload's raw body (weights files), at most `limit` bytes (413 past it).
func uploadedBytes(_ request: Request, limit: Int) async throws -> [UInt8] {
    do {
        return [UInt8](buffer: try await request.body.collect(upTo: limit))
    } catch {
        throw LabError(status: .contentTooLarge, message: "weights larger than \(limit) bytes")
    }
}
