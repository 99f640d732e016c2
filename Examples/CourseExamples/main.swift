// Runs the course's worked examples through ConvKit's engine and prints the results.
// Every number here is computed by the library; this file only arranges and prints.
import ConvKit

func show(_ title: String, _ body: () throws -> Void) {
    print("== \(title)")
    do { try body() } catch { print("error: \(error)") }
    print()
}

show("1-D convolution by hand (000): [1, 2, 3, 4, 5] ⋆ [1, 0, -1]") {
    let signal = try Tensor([1, 2, 3, 4, 5]).reshaped(to: [1, 5])
    let kernel = try Tensor([1, 0, -1]).reshaped(to: [1, 1, 3])
    print("cross-correlation (deep learning's conv):", try conv1d(signal, weight: kernel).scalars)
    print("true convolution (kernel flipped):       ", try trueConv1d(signal, weight: kernel).scalars)
    for mode in PaddingMode.allCases {
        let padded = try conv1d(signal, weight: kernel, padding: .same, paddingMode: mode)
        print("padding .same, \(mode.rawValue):".padding(toLength: 42, withPad: " ", startingAt: 0), padded.scalars)
    }
}

show("2-D convolution animation (000/003): 5×5 input, Sobel-x kernel") {
    let input = try Tensor(shape: [1, 5, 5], scalars: [1, 2, 0, 1, 2, 0, 1, 2, 1, 0, 2, 0, 1, 0, 1, 1, 2, 0, 2, 1, 0, 1, 2, 1, 0])
    let sobelX = try Tensor(shape: [1, 1, 3, 3], scalars: [-1, 0, 1, -2, 0, 2, -1, 0, 1])
    print(try conv2d(input, weight: sobelX).squeezed(axis: 0))
}

show("Vertical-edge kernel on a 5×5 image (004): value at centre (1, 1)") {
    let image = try Tensor(shape: [1, 5, 5], scalars: [2, 1, 3, 0, 1, 0, 2, 1, 3, 2, 1, 0, 2, 1, 0, 3, 1, 0, 2, 1, 2, 3, 1, 0, 2])
    let vertical = try Tensor(shape: [1, 1, 3, 3], scalars: [1, 0, -1, 1, 0, -1, 1, 0, -1])
    let map = try conv2d(image, weight: vertical)
    print("feature map:", try map.squeezed(axis: 0))
    print("at (1, 1):", map.scalars[0])
}

show("2×2 max pooling, stride 2 (004)") {
    let x = try Tensor(shape: [1, 4, 4], scalars: [1, 3, 2, 0, 4, 2, 1, 3, 0, 1, 4, 2, 3, 2, 1, 0])
    print(try maxPool2d(x, kernelSize: 2).squeezed(axis: 0))
    print("average pooling:", try avgPool2d(x, kernelSize: 2).scalars, " global average:", try globalAvgPool(try x.unsqueezed(axis: 0)).scalars)
}

show("Output size floor((n + 2p − d(k−1) − 1)/s) + 1 (002/004)") {
    for (n, k, p, s, d) in [(28, 3, 1, 1, 1), (8, 3, 1, 1, 1), (10, 4, 0, 1, 1), (7, 3, 0, 2, 1), (7, 3, 0, 1, 2)] {
        let out = ConvGeometry.outputLength(input: n, kernel: k, stride: s, dilation: d, padBefore: p, padAfter: p)
        print("n \(n), k \(k), p \(p), s \(s), d \(d) → \(out)")
    }
}

show("The course's MNIST CNN (004): shapes, parameters, receptive fields") {
    print(try Zoo.courseCNN().summary(inputShape: [1, 1, 28, 28]).table)
}


show("3-D convolution on volumes (chapter intro: scans and clips)") {
    // Synthetic 8×8×8 volumes: a bright 3×3×3 blob in the front half (class 0) or the back half (class 1).
    var g = SeededGenerator(seed: 7)
    func volumes(_ count: Int) throws -> (Tensor, [Int]) {
        var values: [Float] = [], labels: [Int] = []
        for n in 0..<count {
            var v = (0..<512).map { _ in Float(g.next() % 100) / 500 }  // noise in [0, 0.2)
            let back = n % 2, z0 = back * 4 + Int(g.next() % 2), y0 = Int(g.next() % 6), x0 = Int(g.next() % 6)
            for z in z0..<(z0 + 3) where z < 8 { for y in y0..<(y0 + 3) { for x in x0..<(x0 + 3) { v[z * 64 + y * 8 + x] += 1 } } }
            values += v
            labels.append(back)
        }
        return (try Tensor(shape: [count, 1, 8, 8, 8], scalars: values), labels)
    }
    let (train, trainLabels) = try volumes(64), (test, testLabels) = try volumes(64)
    let model = Sequential([try Conv3d(1, 4, kernelSize: 3, padding: 1, using: &g), ReLU(), MaxPool3d(kernelSize: 2),
                            AdaptiveAvgPool3d(outputSize: [2, 1, 1]), Flatten(), try Linear(8, 2, using: &g)])
    print(try model.summary(inputShape: [1, 1, 8, 8, 8]).table)
    let optimizer = try Adam(parameters: model.parameters, learningRate: 0.05)
    for _ in 0..<40 {
        let loss = try crossEntropy(try model(train), targets: trainLabels)
        optimizer.zeroGrad()
        try loss.backward()
        try optimizer.step()
    }
    model.eval()
    let predicted = try withGradientsDisabled { try model(test) }.argmax(axis: 1)
    let correct = zip(predicted, testLabels).filter { $0 == $1 }.count
    print("front/back blob, 64 unseen volumes: \(correct)/64 correct after 40 steps")
}

show("Segmentation with U-Net (applications table): masks of the bundled digits") {
    // Each pixel's class: ink (above 0.5) or background. 256 training digits, 256 unseen ones.
    let train = try MNIST.bundled(.train).prefix(256).batch(0..<256), test = try MNIST.bundled(.test).prefix(256).batch(0..<256)
    func masks(_ images: Tensor) -> [Int] { images.scalars.map { $0 > 0.5 ? 1 : 0 } }
    let model = try UNet(classes: 2, width: 8, depth: 2, padded: true, seed: 0)
    print("U-Net, width 8, depth 2, padded: \(groupedDigits(model.parameterCount)) parameters "
          + "(the original, width 64 and depth 4: \(groupedDigits(try UNet().parameterCount)))")
    let optimizer = try Adam(parameters: model.parameters, learningRate: 0.01)
    var g = SeededGenerator(seed: 0)
    for step in 1...120 {
        let batch = (0..<32).map { _ in Int(g.next() % 256) }
        let images = try Tensor.concatenate(batch.map { try train.images.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
        let logits = try model(images)
        let loss = try crossEntropy(logits, targets: masks(images))
        optimizer.zeroGrad()
        try loss.backward()
        try optimizer.step()
        if step % 40 == 0 {
            let predicted = try withGradientsDisabled { try model(test.images) }.argmax(axis: 1)
            let truth = masks(test.images)
            let both = zip(predicted, truth).filter { $0 == 1 && $1 == 1 }.count
            let either = zip(predicted, truth).filter { $0 == 1 || $1 == 1 }.count
            let accuracy = Float(zip(predicted, truth).filter { $0 == $1 }.count) / Float(truth.count)
            print("step \(step): loss \(loss.scalars[0]), unseen digits: pixel accuracy \(accuracy), ink IoU \(Float(both) / Float(Swift.max(either, 1)))")
        }
    }
}
