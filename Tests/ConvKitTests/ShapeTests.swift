import ConvKit
import Testing

@Suite struct ShapeTests {
    let x = try! Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))

    @Test func reshapeInfersOneSize() throws {
        #expect(try x.reshaped(to: [3, -1]).shape == [3, 4])
        #expect(try x.flattened().shape == [2, 6])
        #expect(try x.flattened(startAxis: 0).shape == [12])
        #expect(try x.unsqueezed(axis: 0).shape == [1, 2, 3, 2])
        #expect(try x.unsqueezed(axis: -1).shape == [2, 3, 2, 1])
        #expect(try x.unsqueezed(axis: 0).squeezed(axis: 0).shape == [2, 3, 2])
    }

    @Test func permuteAndTranspose() throws {
        let p = try x.permuted([2, 0, 1])
        #expect(p.shape == [2, 2, 3])
        // p[a, b, c] = x[b, c, a]
        #expect(p.scalars == [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
        let m = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(try m.transposed().scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func sliceAndConcatenate() throws {
        let s = try x.slice(axis: 1, 1..<3)
        #expect(s.shape == [2, 2, 2])
        #expect(s.scalars == [2, 3, 4, 5, 8, 9, 10, 11])
        let c = try Tensor.concatenate([x, s], axis: 1)
        #expect(c.shape == [2, 5, 2])
        #expect(Array(c.scalars[0..<10]) == [0, 1, 2, 3, 4, 5, 2, 3, 4, 5])
        #expect(try x.slice(0..<1).shape == [1, 3, 2])
    }

    @Test func reductionsAndArgmax() throws {
        #expect(try x.sum().scalars == [66])
        #expect(try x.sum(axes: [1]).scalars == [6, 9, 24, 27])
        #expect(try x.mean(axes: [0, 2], keepingDims: true).shape == [1, 3, 1])
        #expect(try x.argmax(axis: 1) == [2, 2, 2, 2])
        let ties = try Tensor([3, 7, 7, 1])
        #expect(try ties.argmax() == [1])
    }

    @Test func flipReversesAxes() throws {
        let m = try Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(try m.flipped(axes: [1]).scalars == [3, 2, 1, 6, 5, 4])
        #expect(try m.flipped(axes: [0, 1]).scalars == [6, 5, 4, 3, 2, 1])
    }

    @Test func randomTensorsAreSeeded() throws {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        let t1 = try Tensor.randomNormal([1000], using: &a), t2 = try Tensor.randomNormal([1000], using: &b)
        #expect(t1.scalars == t2.scalars)
        let mean = t1.scalars.reduce(0, +) / 1000
        let variance = t1.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1000
        #expect(Swift.abs(mean) < 0.1 && Swift.abs(variance - 1) < 0.15)
        let u = try Tensor.randomUniform([1000], in: -2..<3, using: &a)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        var c = SeededGenerator(seed: 43)
        #expect(try Tensor.randomNormal([10], using: &c).scalars != Array(t1.scalars[0..<10]))
    }

    @Test func dropoutIsSeededAndScaled() throws {
        let ones = try Tensor.ones([10_000])
        var g1 = SeededGenerator(seed: 3), g2 = SeededGenerator(seed: 3)
        let a = try dropout(ones, probability: 0.25, training: true, using: &g1)
        let b = try dropout(ones, probability: 0.25, training: true, using: &g2)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3.0) < 1e-6 })
        let kept = a.scalars.filter { $0 != 0 }.count
        #expect((7_200...7_800).contains(kept))
        #expect(try dropout(ones, probability: 0.25, training: false, using: &g1).scalars == ones.scalars)
        #expect(try dropout(ones, probability: 1, training: true, using: &g1).scalars.allSatisfy { $0 == 0 })
    }
}
