import ConvKit
import Foundation
import Hummingbird

// Request and response shapes of the JSON API (see Public/README.txt for the list).

struct ConvolveRequest: Decodable, Sendable {
    var input: [[Float]]
    var kernels: [KernelRequest]
    var stride: Int?, padding: GeometryRequest.PaddingValue?, dilation: Int?, mode: String?
    var geometry: GeometryRequest { GeometryRequest(stride: stride, padding: padding, dilation: dilation, mode: mode) }
}

struct KernelOutput: Encodable { var name: String; var kernel: [[Float]]; var output: [[Float]] }

struct StepsRequest: Decodable, Sendable {
    /// One grid, or one per channel (summed, as a multi-channel filter).
    var input: [[Float]]?
    var channels: [[[Float]]]?
    var signal: [Float]?
    var kernel: KernelRequest?
    var kernels: [[[Float]]]?
    var kernel1d: [Float]?
    var stride: Int?, padding: GeometryRequest.PaddingValue?, dilation: Int?, mode: String?
    var flip: Bool?
    var transposed: Bool?
    var geometry: GeometryRequest { GeometryRequest(stride: stride, padding: padding, dilation: dilation, mode: mode) }
}

struct StepJSON: Encodable {
    var position: [Int]
    var window: [Float], kernel: [Float], products: [Float]
    var sum: Float
    var text: String
}

struct StepsResponse: Encodable {
    var steps: [[StepJSON]]  // per channel
    var sums: [Float]  // per position, summed over channels
    var output: [[Float]]
    var formula: [String]
    var padding: [Int]
}

struct ScatterJSON: Encodable { var position: [Int]; var value: Float; var targets: [[Int]?]; var contributions: [Float] }
struct TransposedResponse: Encodable { var steps: [ScatterJSON]; var output: [[Float]]; var formula: [String] }

struct LayerJSON: Decodable, Sendable { var kind: String; var kernel: Int; var stride: Int?; var dilation: Int?; var padding: Int? }
struct ReceptiveFieldRequest: Decodable, Sendable { var layers: [LayerJSON] }
struct ReceptiveFieldJSON: Encodable { var name: String; var size: Int; var jump: Int; var start: Double }

struct ComparisonJSON: Encodable {
    var name: String; var inputs: Int; var hidden: Int; var fullyConnected: Int; var kernel: Int; var filters: Int
    var convolution: Int; var ratio: Double
    init(_ c: ParameterCount.Comparison) {
        (name, inputs, hidden, fullyConnected, kernel, filters, convolution, ratio) =
            (c.name, c.inputs, c.hidden, c.fullyConnected, c.kernel, c.filters, c.convolution, c.ratio)
    }
}

struct PredictRequest: Decodable, Sendable { var pixels: [Float]; var features: Bool? }
struct FeatureJSON: Encodable { var name: String; var shape: [Int]; var maps: [[[Float]]]? }
struct PredictResponse: Encodable { var probabilities: [Float]; var prediction: Int; var layers: [FeatureJSON] }
struct TrainRequest: Decodable, Sendable { var epochs: Int?; var learningRate: Float?; var limit: Int? }

func rows(_ t: Tensor) -> [[Float]] {
    let w = t.shape.last ?? 1
    return stride(from: 0, to: t.count, by: Swift.max(w, 1)).map { Array(t.scalars[$0..<($0 + w)]) }
}

func registerAPI(_ router: Router<BasicRequestContext>, configuration: LabConfiguration, digits: DigitLab) {
    let limit = configuration.maxRequestBytes
    let api = router.group("api")

    api.post("convolve") { request, _ in
        await json(request, limit: limit) { (body: ConvolveRequest) -> [KernelOutput] in
            let grid = try checkGrid(body.input, name: "input", maxSide: 128)
            guard (1...8).contains(body.kernels.count) else { throw LabError(status: .badRequest, message: "send 1 to 8 kernels") }
            let g = try body.geometry.resolved()
            let image = try Image(width: grid.shape[1], height: grid.shape[0], channels: 1, pixels: grid.scalars)
            return try body.kernels.map { k in
                let (name, matrix) = try k.resolved()
                let out = if let named = NamedKernel(rawValue: name), k.matrix == nil {
                    try ImageFilter.apply(named, sigma: k.sigma ?? 1, to: image, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
                } else {
                    try ImageFilter.apply(matrix, to: image, stride: g.stride, padding: g.padding, dilation: g.dilation, paddingMode: g.mode)
                }
                return KernelOutput(name: name, kernel: matrix, output: rows(try out.squeezed(axis: 0)))
            }
        }
    }

    api.post("steps") { request, _ in
        await json(request, limit: limit) { (body: StepsRequest) -> StepsResponse in
            let g = try body.geometry.resolved()
            var inputs: [Tensor] = [], kernels: [Tensor] = []
            if let signal = body.signal {
                guard (1...1024).contains(signal.count), signal.allSatisfy(\.isFinite) else {
                    throw LabError(status: .badRequest, message: "signal must hold 1 to 1,024 finite numbers")
                }
                let k = body.kernel1d ?? [1, 0, -1]
                guard (1...31).contains(k.count), k.allSatisfy(\.isFinite) else { throw LabError(status: .badRequest, message: "kernel1d must hold 1 to 31 numbers") }
                (inputs, kernels) = ([Tensor(signal)], [Tensor(k)])
            } else {
                let grids = body.channels ?? body.input.map { [$0] } ?? []
                guard (1...4).contains(grids.count) else { throw LabError(status: .badRequest, message: "send input (a grid) or 1 to 4 channels") }
                inputs = try grids.map { try checkGrid($0, name: "input", maxSide: 32) }
                if let ks = body.kernels {
                    guard ks.count == grids.count else { throw LabError(status: .badRequest, message: "send one kernel per channel (\(grids.count))") }
                    kernels = try ks.map { try checkGrid($0, name: "kernel", maxSide: 9) }
                } else {
                    let k = try Tensor(rows: try (body.kernel ?? KernelRequest(name: "sobel-x")).resolved().matrix)
                    kernels = Array(repeating: k, count: grids.count)
                }
            }
            let (perChannel, sums) = try convolutionSteps(channels: inputs, kernels: kernels, stride: g.stride, padding: g.padding,
                                                          dilation: g.dilation, paddingMode: g.mode, flip: body.flip ?? false)
            let r = inputs[0].rank
            let width = r == 1 ? sums.count : (perChannel[0].last?.position.last ?? 0) + 1
            let lines = try outputSizeLines(input: inputs[0].shape, kernel: kernels[0].shape, stride: g.stride, padding: g.padding,
                                            dilation: g.dilation)
            return StepsResponse(
                steps: perChannel.map { $0.map { StepJSON(position: $0.position, window: $0.window, kernel: $0.kernel, products: $0.products,
                                                          sum: $0.sum, text: $0.explanation) } },
                sums: sums, output: r == 1 ? [sums] : stride(from: 0, to: sums.count, by: width).map { Array(sums[$0..<($0 + width)]) },
                formula: lines.map(\.text), padding: lines.map(\.padBefore))
        }
    }

    api.post("transposed") { request, _ in
        await json(request, limit: limit) { (body: StepsRequest) -> TransposedResponse in
            let x = try checkGrid(body.input ?? [], name: "input", maxSide: 16)
            let k = try Tensor(rows: try (body.kernel ?? KernelRequest(name: "sobel-x")).resolved().matrix)
            let s = body.stride ?? 1
            guard (1...4).contains(s) else { throw LabError(status: .badRequest, message: "stride must be in 1…4") }
            let p: Int
            switch body.padding ?? .amount(0) {
            case let .amount(n) where (0...4).contains(n): p = n
            default: throw LabError(status: .badRequest, message: "padding must be a number in 0…4 for a transposed convolution")
            }
            let (steps, output) = try transposedConvolutionSteps(input: x, kernel: k, stride: s, padding: p)
            let formula = (0..<2).map { a in
                "(\(x.shape[a]) − 1)×\(s) − 2×\(p) + \(k.shape[a]) = \(output.shape[a])"
            }
            return TransposedResponse(steps: steps.map { ScatterJSON(position: $0.position, value: $0.value, targets: $0.targets,
                                                                      contributions: $0.contributions) },
                                      output: rows(output), formula: formula)
        }
    }

    api.post("receptive-field") { request, _ in
        await json(request, limit: limit) { (body: ReceptiveFieldRequest) -> [ReceptiveFieldJSON] in
            guard (1...24).contains(body.layers.count) else { throw LabError(status: .badRequest, message: "send 1 to 24 layers") }
            let layers = try body.layers.map { l -> WindowLayer in
                guard ["conv", "pool"].contains(l.kind), (1...15).contains(l.kernel), (1...8).contains(l.stride ?? 1),
                      (1...8).contains(l.dilation ?? 1), (0...15).contains(l.padding ?? 0) else {
                    throw LabError(status: .badRequest, message: "a layer needs kind conv|pool, kernel 1…15, stride 1…8, dilation 1…8, padding 0…15")
                }
                return WindowLayer(name: "\(l.kind) \(l.kernel)×\(l.kernel)", kernel: l.kernel,
                                   stride: l.stride ?? (l.kind == "pool" ? l.kernel : 1), dilation: l.dilation ?? 1, padding: l.padding ?? 0)
            }
            return receptiveFieldGrowth(layers).map { ReceptiveFieldJSON(name: $0.layer.name, size: $0.size, jump: $0.jump, start: $0.start) }
        }
    }

    api.get("params") { request, _ in
        await answer { () -> [String: [ComparisonJSON]] in
            let q = request.uri.queryParameters
            func int(_ key: Substring, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
                guard let text = q[key].map(String.init) else { return fallback }
                guard let v = Int(text), range.contains(v) else {
                    throw LabError(status: .badRequest, message: "\(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
                }
                return v
            }
            let hidden = try int("hidden", 1000, 1...1_000_000), kernel = try int("kernel", 3, 1...31), filters = try int("filters", 64, 1...4096)
            let custom = ParameterCount.Comparison(
                name: "custom", height: try int("height", 224, 1...8192), width: try int("width", 224, 1...8192),
                channels: try int("channels", 3, 1...64), hidden: hidden, kernel: kernel, filters: filters)
            let table = ParameterCount.courseTable.map {
                ParameterCount.Comparison(name: $0.name, height: $0.height, width: $0.width, channels: $0.channels,
                                          hidden: hidden, kernel: kernel, filters: filters)
            }
            return ["custom": [ComparisonJSON(custom)], "course": table.map(ComparisonJSON.init)]
        }
    }

    api.get("conv1d-params") { request, _ in
        await answer { () -> [String: Int] in
            let q = request.uri.queryParameters
            guard let i = q["in"].flatMap({ Int(String($0)) }), let o = q["out"].flatMap({ Int(String($0)) }),
                  let k = q["kernel"].flatMap({ Int(String($0)) }), (1...4096).contains(i), (1...4096).contains(o), (1...63).contains(k) else {
                throw LabError(status: .badRequest, message: "need in, out (1…4096) and kernel (1…63)")
            }
            return ["parameters": ParameterCount.convolution(inChannels: i, outChannels: o, kernel: [k]),
                    "weights": ParameterCount.convolution(inChannels: i, outChannels: o, kernel: [k], bias: false)]
        }
    }

    api.get("connectivity") { request, _ in
        await answer { () -> [String: [[Float]]] in
            let q = request.uri.queryParameters
            let size = q["size"].flatMap { Int(String($0)) } ?? 4, k = q["kernel"].flatMap { Int(String($0)) } ?? 3
            guard (2...8).contains(size), (1...5).contains(k), k <= size + 2 else {
                throw LabError(status: .badRequest, message: "size must be in 2…8 and kernel in 1…5")
            }
            // Kernel taps numbered 1…k² so the page can show which weight each connection shares.
            let kernel = try Tensor(shape: [k, k], scalars: (1...(k * k)).map(Float.init))
            let m = try convolutionMatrix(height: size, width: size, kernel: kernel, padding: k / 2)
            return ["matrix": rows(m), "counts": [[Float(size * size * size * size), Float(k * k)]]]
        }
    }

    api.get("models") { _, _ in
        await answer { () -> [[String: String]] in
            Zoo.entries.map { ["name": $0.name, "description": $0.description, "input": $0.inputShape.map(String.init).joined(separator: "×")] }
        }
    }

    api.post("digit/predict") { request, _ in
        await json(request, limit: limit) { (body: PredictRequest) -> PredictResponse in
            guard body.pixels.count == 784, body.pixels.allSatisfy({ $0.isFinite && $0 >= -1 && $0 <= 2 }) else {
                throw LabError(status: .badRequest, message: "pixels must be 784 numbers (28×28, row-major) in [0, 1]")
            }
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
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: configuration.maxUploadBytes) } catch {
                throw LabError(status: .contentTooLarge, message: "weights larger than \(configuration.maxUploadBytes) bytes")
            }
            try digits.load(weights: [UInt8](buffer: buffer), model: model)
            return ["model": model, "status": "loaded"]
        }
    }
}
