import ConvKit
import Testing

/// Segmentation: per-pixel cross-entropy with ignore_index and the Dice loss against PyTorch
/// (segmentation.safetensors), and U-Net's layout, sizes and parameter count.
@Suite struct SegmentationTests {
    @Test func lossesMatchPyTorch() throws {
        let fx = try Fixture("segmentation")
        #expect(fx.cases.count == 6)
        for i in fx.cases.indices {
            let c = fx.cases[i]
            let x = try fx.required(i, "input", requiresGrad: true)
            let targets = try fx.integers(i, "targets")
            let y: Tensor
            if c["op"]!.stringValue! == "dice" {
                y = try diceLoss(x, targets: targets, smooth: Float(c["smooth"]!.double!))
            } else {
                y = try crossEntropy(x, targets: targets, labelSmoothing: Float(c["label_smoothing"]!.double!),
                                     reduction: Reduction(rawValue: c["reduction"]!.stringValue!)!, ignoreIndex: c["ignore_index"]!.intValue!)
            }
            expectClose(y, try fx.required(i, "output"), "case \(i) output")
            try y.backward(gradient: try fx.required(i, "grad_output"))
            expectClose(x.grad, try fx.required(i, "grad_input"), "case \(i) grad input")
        }
        let x = try Tensor.zeros([1, 2, 2, 2])
        expectError(containing: "class indices in 0..<2") { try crossEntropy(x, targets: [0, 1, 2, 0], ignoreIndex: 255) }
        expectError(containing: "class indices in 0..<2") { try diceLoss(x, targets: [0, 1, 255, 0]) }
        expectError(containing: "expected 4 targets") { try diceLoss(x, targets: [0]) }
        expectError(containing: "finite and non-negative") { try diceLoss(x, targets: [0, 0, 0, 0], smooth: .nan) }
    }

    /// The original layout: 31,030,658 parameters at 1 channel and 2 classes (as the count is
    /// usually given), and an unpadded 572 × 572 tile gives the paper's 388 × 388 map (here at
    /// width 2, same sizes, a fraction of the work).
    @Test func originalLayoutSizesAndParameters() throws {
        #expect(try UNet().parameterCount == 31_030_658)
        let small = try UNet(width: 2)
        let y = try withGradientsDisabled { try small(try Tensor.zeros([1, 1, 572, 572])) }
        #expect(y.shape == [1, 2, 388, 388])
        let names = small.namedState().map(\.name)
        #expect(names.first == "inc.0.weight" && names.contains("down4.1.2.weight") && names.contains("up1.up.weight")
                && names.last == "outc.bias")
        let padded = try UNet(inputChannels: 3, classes: 5, width: 4, depth: 2, padded: true)
        #expect(try withGradientsDisabled { try padded(try Tensor.zeros([2, 3, 28, 36])) }.shape == [2, 5, 28, 36])
        expectError(containing: "depth") { try UNet(depth: 0) }
        expectError(containing: "width") { try UNet(width: Int.max) }
    }

    /// Gradients through the whole U-Net (crop, concatenation, up-convolution) against central
    /// differences, for the input and for every parameter.
    @Test func unetGradientsMatchFiniteDifferences() throws {
        let model = try UNet(inputChannels: 1, classes: 2, width: 2, depth: 1, padded: true, seed: 3)
        var rng = SeededGenerator(seed: 8)
        let x = try Tensor.randomNormal([1, 1, 4, 4], using: &rng)
        try checkGradients(of: [x], "unet input") { t in try model(t[0]) }
        x.requiresGrad = false
        for (name, w) in model.namedParameters() {
            // A step of 1e-3: with 2 channels some ReLU inputs lie within 1e-2 of their kink.
            try checkGradients(of: [w], epsilon: 1e-3, rtol: 2e-2, atol: 2e-3, "unet \(name)") { _ in try model(x) }
        }
    }

    /// A small padded U-Net learns to segment digits (foreground = ink above 0.5): the
    /// foreground's intersection over union passes 0.8 within 150 Adam steps.
    @Test func aSmallUNetLearnsDigitMasks() throws {
        let digits = try MNIST.bundled(.train).prefix(32)
        let (images, _) = digits.batch(0..<32)
        let masks = images.scalars.map { $0 > 0.5 ? 1 : 0 }
        let model = try UNet(classes: 2, width: 8, depth: 2, padded: true, seed: 0)
        let optimizer = try Adam(parameters: model.parameters, learningRate: 0.01)
        var iou: Float = 0, steps = 0
        while steps < 150 && iou < 0.8 {
            let logits = try model(images)
            let loss = try crossEntropy(logits, targets: masks)
            let predicted = try logits.argmax(axis: 1)
            let both = zip(predicted, masks).filter { $0 == 1 && $1 == 1 }.count
            let either = zip(predicted, masks).filter { $0 == 1 || $1 == 1 }.count
            iou = Float(both) / Float(Swift.max(either, 1))
            optimizer.zeroGrad()
            try loss.backward()
            try optimizer.step()
            steps += 1
        }
        print("U-Net digit masks: foreground IoU \(iou) after \(steps) steps")
        #expect(iou >= 0.8, "foreground IoU \(iou) after \(steps) steps")
    }
}
