import ConvKit
import Foundation
import Hummingbird

/// The course's arithmetic: `/api/receptive-field`, `/api/params`, `/api/conv1d-params`,
/// `/api/connectivity`, the course's quick checks (`/api/quick-checks`, `/api/quick-check`),
/// and the zoo's list (`/api/models`).
struct ArithmeticController: Sendable {
    let limit: Int

    /// One layer as the receptive-field page sends it; the library checks the values.
    struct LayerRequest: Decodable, Sendable { var kind: String; var kernel: Int; var stride: Int?; var dilation: Int?; var padding: Int? }
    struct ReceptiveFieldRequest: Decodable, Sendable { var layers: [LayerRequest] }

    struct ParamsResponse: Encodable { var custom: [ParameterCount.Comparison]; var course: [ParameterCount.Comparison] }
    struct ConnectivityResponse: Encodable { var matrix: [[Float]]; var fullyConnectedWeights: Int; var sharedWeights: Int }
    struct QuickCheckRequest: Decodable, Sendable { var id: String; var values: [String: Int]? }
    struct ModelJSON: Encodable { var name: String; var description: String; var input: String }

    func addRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.post("receptive-field") { request, _ in await json(request, limit: limit, receptiveField) }
        api.get("params") { request, _ in await answer { try params(request.uri.queryParameters) } }
        api.get("conv1d-params") { request, _ in await answer { try conv1dParams(request.uri.queryParameters) } }
        api.get("connectivity") { request, _ in await answer { try connectivity(request.uri.queryParameters) } }
        api.get("quick-checks") { request, _ in
            await answer { try QuickCheck.checks(forPage: String(request.uri.queryParameters["page"]?.prefix(40) ?? "")) }
        }
        api.post("quick-check") { request, _ in
            await json(request, limit: limit) { (body: QuickCheckRequest) in
                guard (body.values?.count ?? 0) <= 16 else { throw LabError(status: .badRequest, message: "send at most 16 values") }
                return try QuickCheck.answered(body.id, values: body.values ?? [:])
            }
        }
        api.get("models") { _, _ in
            await answer { Zoo.entries.map { ModelJSON(name: $0.name, description: $0.description, input: $0.inputShape.map(String.init).joined(separator: "×")) } }
        }
    }

    @Sendable func receptiveField(_ body: ReceptiveFieldRequest) throws -> [ReceptiveFieldStep] {
        guard (1...24).contains(body.layers.count) else { throw LabError(status: .badRequest, message: "send 1 to 24 layers") }
        let layers = try body.layers.map { l in
            try Limits.check(l.kernel, in: 1...15, op: "request", argument: "kernel")
            return try WindowLayer(kind: l.kind, kernel: l.kernel, stride: l.stride, dilation: l.dilation, padding: l.padding)
        }
        return try receptiveFieldGrowth(layers)
    }

    /// An integer query parameter (the fallback when absent), or a 400 naming it.
    static func integer(_ query: Hummingbird.Parameters, _ key: String, _ fallback: Int?) throws -> Int {
        guard let text = query[key[...]] else {
            guard let fallback else { throw LabError(status: .badRequest, message: "missing query parameter '\(key)'") }
            return fallback
        }
        guard let v = Int(String(text)) else {
            throw LabError(status: .badRequest, message: "\(key) must be an integer, got '\(text.prefix(40))'")
        }
        return v
    }

    func params(_ q: Hummingbird.Parameters) throws -> ParamsResponse {
        let (hidden, kernel, filters) = (try Self.integer(q, "hidden", 1000), try Self.integer(q, "kernel", 3), try Self.integer(q, "filters", 64))
        let custom = try ParameterCount.Comparison(
            name: "custom", height: try Self.integer(q, "height", 224), width: try Self.integer(q, "width", 224),
            channels: try Self.integer(q, "channels", 3), hidden: hidden, kernel: kernel, filters: filters)
        return ParamsResponse(custom: [custom], course: try ParameterCount.courseTable(hidden: hidden, kernel: kernel, filters: filters))
    }

    func conv1dParams(_ q: Hummingbird.Parameters) throws -> ParameterCount.Convolution {
        try ParameterCount.Convolution(inChannels: try Self.integer(q, "in", nil), outChannels: try Self.integer(q, "out", nil),
                                       kernelSize: try Self.integer(q, "kernel", nil), rank: 1)
    }

    func connectivity(_ q: Hummingbird.Parameters) throws -> ConnectivityResponse {
        let size = try Self.integer(q, "size", 4), k = try Self.integer(q, "kernel", 3)
        try Limits.check(size, in: 2...8, op: "request", argument: "size")
        try Limits.check(k, in: 1...5, op: "request", argument: "kernel")
        // Kernel taps numbered 1…k² so the page can show which weight each connection shares.
        let m = try convolutionMatrix(height: size, width: size, kernel: try numberedKernel(height: k, width: k), padding: k / 2)
        return ConnectivityResponse(matrix: rows(m), fullyConnectedWeights: try ParameterCount.fullyConnected(inputs: size * size, outputs: size * size, bias: false),
                                    sharedWeights: k * k)
    }
}
