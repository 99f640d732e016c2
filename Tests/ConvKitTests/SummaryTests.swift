import ConvKit
import Testing

@Suite struct SummaryTests {
    /// The course CNN: shapes, parameters, mult-adds and receptive fields worked by hand.
    @Test func courseCNNSummary() throws {
        let s = try Zoo.courseCNN().summary(inputShape: [1, 1, 28, 28])
        #expect(s.rows.count == 12)
        #expect(s.rows.map(\.outputShape)[0] == [1, 32, 28, 28])
        #expect(s.rows[4].outputShape == [1, 32, 14, 14])
        #expect(s.rows[11].outputShape == [1, 10])
        #expect(s.rows.map(\.parameters) == [320, 0, 9248, 0, 0, 18496, 0, 0, 0, 401_536, 0, 1290])
        // conv1: 28·28·32 outputs × 9 inputs each; conv2: 28·28·32 × 288; conv3: 14·14·64 × 288.
        #expect(s.rows[0].multAdds == 225_792 && s.rows[2].multAdds == 7_225_344 && s.rows[5].multAdds == 3_612_672)
        #expect(s.totalMultAdds == 225_792 + 7_225_344 + 3_612_672 + 401_408 + 1280)
        #expect(s.trainableParameters == 430_890)
        // 3 → 5 → (pool 2: 6, jump 2) → 10 → (pool: 12, jump 4) → global.
        #expect(s.rows[0].receptiveField?.size == [3, 3])
        #expect(s.rows[2].receptiveField?.size == [5, 5])
        #expect(s.rows[4].receptiveField?.size == [6, 6] && s.rows[4].receptiveField?.jump == [2, 2])
        #expect(s.rows[5].receptiveField?.size == [10, 10])
        #expect(s.rows[7].receptiveField?.size == [12, 12] && s.rows[7].receptiveField?.jump == [4, 4])
        #expect(s.rows[8].receptiveField == nil)
        #expect(s.table.contains("Trainable params: 430,890"))
    }

    /// Nested models show their tree; ResNet-18's receptive field at layer4 is 435 (a known value).
    @Test func resNetSummaryNestsAndTracksTheReceptiveField() throws {
        let s = try Zoo.resNet(depth: 18).summary(inputShape: [1, 3, 224, 224])
        let layer4 = try #require(s.rows.first { $0.name == "layer4" && $0.depth == 0 })
        #expect(layer4.outputShape == [1, 512, 7, 7] && layer4.isContainer)
        #expect(layer4.receptiveField?.size == [435, 435] && layer4.receptiveField?.jump == [32, 32])
        #expect(s.rows.contains { $0.name == "downsample" && $0.depth == 2 })
        #expect(s.trainableParameters == 11_689_512)
        #expect(s.totalMultAdds == 1_814_073_344)  // torchinfo: 1.81 G
        #expect(s.bufferScalars == 2 * 4800 + 20)  // running mean and var of 4,800 channels, 20 counters
    }

    /// ConvNeXt's channel-wise Linear layers (on (N, H, W, C)) keep the field; it used to turn
    /// "global" after the first block. Stem 4/4, then each block adds 6 × 4 (a 7×7 depthwise conv).
    @Test func convNeXtFieldGrowsThroughItsBlocks() throws {
        let s = try Zoo.convNeXtTiny().summary(inputShape: [1, 3, 224, 224])
        let blocks = s.rows.filter { $0.type == "CNBlock" }.prefix(3).map { $0.receptiveField?.size }
        #expect(blocks == [[28, 28], [52, 52], [76, 76]])
        #expect(s.rows.first { $0.type == "Linear" && $0.outputShape.count == 4 }?.receptiveField != nil)
    }

    /// A transposed convolution widens the field and divides the jump by its stride (it used to be the identity).
    @Test func transposedConvolutionInTheField() throws {
        let model = try Sequential {
            try Conv2d(1, 4, kernelSize: 2, stride: 2)
            try ConvTranspose2d(4, 1, kernelSize: 2, stride: 2)
        }
        let s = try model.summary(inputShape: [1, 1, 8, 8])
        #expect(s.rows[0].receptiveField?.size == [2, 2] && s.rows[0].receptiveField?.jump == [2, 2])
        // Each output reads ⌈((2 − 1)·1 + 1)/2⌉ = 1 input unit: size 2, jump 2/2 = 1.
        #expect(s.rows[1].receptiveField?.size == [2, 2] && s.rows[1].receptiveField?.jump == [1, 1])
    }
}
