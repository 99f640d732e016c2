import ConvKit
import Testing

/// Every public function that sizes memory or loops from a caller's number checks it first
/// (issue 16): zero, negative, `Int.max`, 1e308, NaN and huge lists throw `ConvKitError`.
@Suite struct LimitsTests {
    static let extremes = [0, -1, -9_223_372_036_854_775_807, Int.max, 99_999_999_999, 1 << 31]

    @Test func tensorSizesAreCheckedBeforeAllocating() {
        expectError(containing: "would hold") { try Tensor.zeros([Int.max, 2]) }
        expectError(containing: "would hold 1,200,000,000 elements") { try Tensor.zeros([1, 3, 20_000, 20_000]) }
        expectError(containing: "non-negative") { try Tensor.zeros([-1]) }
        expectError(containing: "the limit is 1,000") {
            try Limits.$maxTensorElements.withValue(1000) { try Tensor.zeros([1001]) }
        }
        #expect((try? Tensor.zeros([0, 1 << 40])) != nil, "an empty tensor of any other size is fine")
        expectError(containing: "weight") { try Linear(512, 99_999_999_999) }
        expectError(containing: "weight") { try Conv2d(1 << 20, 1 << 20, kernelSize: 3) }
    }

    @Test func outputSizeIsArithmeticOnly() throws {
        // 2^31 − 1 inputs answer without allocating anything.
        let lines = try outputSizeLines(input: [Int(Int32.max)], kernel: [3], padding: 1)
        #expect(lines[0].output == Int(Int32.max))
        for v in Self.extremes where v > Int(Int32.max) || v < 0 {
            #expect(throws: ConvKitError.self) { try outputSizeLines(input: [v], kernel: [3]) }
            #expect(throws: ConvKitError.self) { try outputSizeLines(input: [28], kernel: [3], padding: Padding.symmetric(v)) }
            #expect(throws: ConvKitError.self) { try outputSizeLines(input: [28], kernel: [3], dilation: PerAxis(v)) }
            #expect(throws: ConvKitError.self) { try outputSizeLines(input: [28], kernel: [3], stride: PerAxis(v)) }
        }
        expectError(containing: "stride must be positive") { try outputSizeLines(input: [28], kernel: [3], stride: 0) }
    }

    @Test func convolutionOutputsAndPaddedInputsAreCapped() throws {
        let x = try Tensor.zeros([1, 1, 4, 4]), w = try Tensor.zeros([1, 1, 3, 3])
        expectError(containing: "padding must be at most 2^31 − 1") { try conv2d(x, weight: w, padding: Padding.symmetric(99_999_999_999)) }
        expectError(containing: "output") { try conv2d(x, weight: w, padding: Padding.symmetric(1 << 30)) }
        expectError(containing: "padded input") { try conv2d(x, weight: w, stride: 4, padding: Padding.symmetric(20_000)) }
        expectError(containing: "output") {
            try convTranspose2d(x, weight: w, stride: PerAxis(1 << 30))
        }
    }

    @Test func kernelsTracesAndMatrices() throws {
        for sigma: Float in [-1, 0, .nan, .infinity, 1e6, 10.5] {
            #expect(throws: ConvKitError.self, "σ \(sigma)") { try NamedKernel.gaussian.matrix(sigma: sigma) }
            #expect(throws: ConvKitError.self, "σ \(sigma)") { try NamedKernel.blob.matrix(sigma: sigma) }
        }
        #expect(try NamedKernel.blob.matrix(sigma: 10).count == 121)
        expectError(containing: "not a finite number") { try NamedKernel.parseMatrix("1, 1e39", what: "kernel") }
        expectError(containing: "at most 64 rows") { try NamedKernel.parseMatrix(Array(repeating: "1", count: 65).joined(separator: ";"), what: "input") }
        expectError(containing: "too many to write out") {
            try convolutionSteps(input: Tensor([1, 2, 3]), kernel: Tensor([1]), padding: Padding.symmetric(1 << 20))
        }
        expectError(containing: "at most 16,777,216 entries") { try convolutionMatrix(height: 1000, width: 1000, kernel: try numberedKernel(height: 3, width: 3)) }
        expectError(containing: "stride must be positive") { try convolutionMatrix(height: 6, width: 6, kernel: try numberedKernel(height: 3, width: 3), stride: 0) }
        for v in Self.extremes { if v < 1 || v > 4096 { #expect(throws: ConvKitError.self) { try numberedKernel(height: v, width: 3) } } }
        expectError(containing: "not defined") { try transposedConvolutionSteps(input: try Tensor.ones([2, 2]), kernel: try Tensor.ones([2, 2]), padding: .same) }
    }

    @Test func courseArithmeticIsOverflowChecked() throws {
        expectError(containing: "would overflow") { try ParameterCount.Comparison(name: "x", height: 99_999_999, width: 99_999_999, channels: 3) }
        expectError(containing: "filters must be in 1…") { try ParameterCount.Comparison(name: "x", height: 28, width: 28, channels: 1, filters: 0) }
        expectError(containing: "rank must be in 1…3") { try ParameterCount.Convolution(inChannels: 1, outChannels: 1, kernelSize: 3, rank: -5) }
        expectError(containing: "would overflow") { try ParameterCount.convolution(inChannels: Int.max, outChannels: Int.max, kernel: [3]) }
        #expect(try ParameterCount.Convolution(inChannels: 17, outChannels: 64, kernelSize: 3, rank: 1).formula
                == "Conv1d(17, 64, kernel_size=3): 3 × 17 × 64 + 64 = 3,328")
        let stride2 = Array(repeating: WindowLayer(kernel: 3, stride: 2), count: 100)
        expectError(containing: "layer 63 makes the receptive field larger than") { try receptiveFieldGrowth(stride2) }
        expectError(containing: "count must be in 1…10,000") { try WindowLayer.parseList(Array(repeating: "c3", count: 10_001).joined(separator: ",")) }
        expectError(containing: "needs a number in 1…2^31 − 1") { try WindowLayer.parseList("c3s99999999999") }
        expectError(containing: "shift must be in 0…13") { try equivarianceReport(shift: Int.max) }
        expectError(containing: "size must be in 5…4,096") { try equivarianceReport(size: 100_000_000) }
        expectError(containing: "at least 4×4") { try pixelCorrelations(try Image(width: 1, height: 1, channels: 1, pixels: [0.5])) }
    }

    @Test func modelsTrainingAndData() throws {
        let entry = try Zoo.entry("resnet18")
        expectError(containing: "classes must be in 1…1,000,000, got 99999999999") { try entry.build(classes: 99_999_999_999) }
        expectError(containing: "classes must be in 1…1,000,000, got 0") { try entry.build(classes: 0) }
        expectError(containing: "inputChannels must be in 1…4,096") { try entry.build(inputChannels: -3) }
        let data = try MNIST.bundled(.test)
        expectError(containing: "sample count must be in 1…") { try data.prefix(0) }
        let model = try Zoo.courseCNN()
        let trainer = try Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.01), batchSize: 8)
        for epochs in [0, -1, Int.max] { #expect(throws: ConvKitError.self) { try trainer.fit(try data.prefix(8), epochs: epochs) } }
        expectError(containing: "would overflow") { _ = try trainer.totalSteps(epochs: 1_000_000, samples: Int.max) }
        expectError(containing: "batchSize must be at least 1") { try Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.01), batchSize: 0) }
        expectError(containing: "cropPadding must be in 0…4,096") {
            try Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.01), augmentation: Augmentation(cropPadding: 1 << 40))
        }
        for rate: Float in [.nan, .infinity, -1] { #expect(throws: ConvKitError.self) { try Adam(parameters: model.parameters, learningRate: rate) } }
        expectError(containing: "top must be in 1…") { try rankedClasses([0.5, 0.5], top: 0) }
        #expect(try rankedClasses([0.1, 0.7, 0.2], names: ["a", "b", "c"], top: 9).map(\.name) == ["b", "c", "a"])
    }

    @Test func oneParserForPerAxisPaddingAndModes() throws {
        #expect(try PerAxis(parsing: "3", argument: "--k") == PerAxis(3))
        #expect(try PerAxis(parsing: "3x5", argument: "--k") == PerAxis([3, 5]))
        #expect(try PerAxis(parsing: "3, 5", argument: "--k") == PerAxis([3, 5]))
        #expect(try Padding(parsing: "SAME") == .same && Padding(parsing: "valid") == .valid)
        #expect(try Padding(parsing: "1,2") == .explicit(before: [1, 2], after: [1, 2]))
        #expect(try PaddingMode(parsing: "Reflect") == .reflect)
        for bad in ["", "x", "1,,2", "1.5", "1,2,3,4", "99999999999999999999", "٣"] {
            #expect(throws: ConvKitError.self, "'\(bad)'") { try PerAxis(parsing: bad, argument: "--k") }
        }
        expectError(containing: "must be one of zeros, reflect") { try PaddingMode(parsing: "mirror") }
    }

    @Test func planIsAValueForAnyShape() throws {
        let plan = try convolutionPlan(inputShape: [64, 32, 28, 28], weightShape: [32, 32, 3, 3], padding: 1)
        #expect(plan.inputGradient == .flipped && plan.workspace > 0, "\(plan)")
        expectError(containing: "padding must be at most 2^31 − 1") {
            try convolutionPlan(inputShape: [1, 1, 4, 4], weightShape: [1, 1, 3, 3], padding: Padding.symmetric(Int.max))
        }
    }
}
