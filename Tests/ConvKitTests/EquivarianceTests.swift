import ConvKit
import Testing

/// 001's exercise 2: convolution is translation-equivariant, f(shift(x)) = shift(f(x)).
@Suite struct EquivarianceTests {
    /// Rolls the last two axes of (N, C, H, W) by (dy, dx), as `torch.roll`.
    static func roll(_ t: Tensor, dy: Int, dx: Int) throws -> Tensor {
        let (h, w) = (t.shape[2], t.shape[3])
        var out = t.scalars
        for plane in 0..<(t.shape[0] * t.shape[1]) {
            for y in 0..<h {
                for x in 0..<w {
                    out[plane * h * w + ((y + dy) % h + h) % h * w + ((x + dx) % w + w) % w] = t.scalars[plane * h * w + y * w + x]
                }
            }
        }
        return try Tensor(shape: t.shape, scalars: out)
    }

    @Test func circularConvolutionCommutesWithRoll() throws {
        var rng = SeededGenerator(seed: 7)
        let x = try Tensor.randomNormal([1, 2, 16, 16], using: &rng)
        let w = try Tensor.randomNormal([3, 2, 3, 3], using: &rng)
        let conv = { (t: Tensor) in try conv2d(t, weight: w, padding: .same, paddingMode: .circular) }
        let shiftThenConv = try conv(try Self.roll(x, dy: 5, dx: 5))
        let convThenShift = try Self.roll(try conv(x), dy: 5, dx: 5)
        expectClose(shiftThenConv, convThenShift, "f(shift(x)) vs shift(f(x))")
        // And the property is not vacuous: the output really moved.
        #expect(shiftThenConv.scalars != (try conv(x)).scalars)
    }

    @Test func validConvolutionEquivariantAwayFromBorders() throws {
        var rng = SeededGenerator(seed: 8)
        let big = try Tensor.randomNormal([1, 1, 20, 20], using: &rng)
        let w = try Tensor.randomNormal([1, 1, 3, 3], using: &rng)
        // Crop two windows of the same image offset by (2, 3); their valid convolutions are the
        // same crops of the big image's convolution, offset by (2, 3).
        func crop(_ t: Tensor, _ y: Int, _ x: Int, _ size: Int) throws -> Tensor {
            try t.slice(axis: 2, y..<(y + size)).slice(axis: 3, x..<(x + size))
        }
        let a = try conv2d(try crop(big, 0, 0, 12), weight: w)
        let b = try conv2d(try crop(big, 2, 3, 12), weight: w)
        expectClose(try crop(a, 2, 3, 7), try crop(b, 0, 0, 7), "shifted interior")
    }

    /// Pooling gives local invariance: a one-pixel shift inside a pooling window leaves the max unchanged.
    @Test func maxPoolingAbsorbsSmallShifts() throws {
        var s = [Float](repeating: 0, count: 16)
        s[5] = 1  // (1, 1)
        let x = try Tensor(shape: [1, 1, 4, 4], scalars: s)
        let shifted = try Self.roll(x, dy: -1, dx: -1)  // (0, 0): same 2×2 window
        #expect(try maxPool2d(x, kernelSize: 2).scalars == (try maxPool2d(shifted, kernelSize: 2)).scalars)
    }
}
