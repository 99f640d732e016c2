import ConvKit
import Foundation
import Testing

/// PNG decoding against hand-encoded files covering every colour type, bit depth, row filter
/// and Adam7 (scripts/generate_png_fixtures.py, cross-checked with Pillow), the bundled
/// photos, round trips through the encoder, and corrupt files.
@Suite struct PNGTests {
    static let folder = fixtureURL("png")

    @Test func decodesEveryVariant() throws {
        let expected = try SafeTensors(contentsOf: Self.folder.appendingPathComponent("expected.safetensors").path)
        #expect(expected.names.count == 30)
        for name in expected.names {
            let image = try PNG.read(path: Self.folder.appendingPathComponent(name + ".png").path)
            let reference = try expected.tensor(name)
            #expect(image.tensor.shape == reference.shape, "\(name)")
            #expect(image.pixels == reference.scalars, "\(name)")
        }
    }

    @Test(arguments: [(1, 8), (2, 8), (3, 8), (4, 8), (1, 16), (3, 16), (4, 16)])
    func encoderRoundTrips(channels: Int, bitDepth: Int) throws {
        var rng = SeededGenerator(seed: UInt64(channels * 100 + bitDepth))
        let levels = Float((1 << bitDepth) - 1)
        let pixels = (0..<(channels * 7 * 5)).map { _ in (Float(rng.next() % UInt64(levels + 1)) / levels) }
        let image = try Image(width: 7, height: 5, channels: channels, pixels: pixels)
        let decoded = try PNG.decode(try PNG.encode(image, bitDepth: bitDepth))
        #expect(decoded == image)
    }

    @Test func readsTheBundledPhotos() throws {
        let camera = try Image.sample(.camera)
        #expect(camera.width == 512 && camera.height == 512 && camera.channels == 1)
        let chelsea = try Image.sample(.chelsea)
        #expect(chelsea.width == 451 && chelsea.height == 300 && chelsea.channels == 3 && chelsea.grayscale.channels == 1)
        #expect(try PNG.decode(try PNG.encode(camera)) == camera)  // 8-bit photos survive a round trip exactly
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let good = try PNG.encode(try Image(width: 4, height: 4, channels: 1, pixels: Array(repeating: 0.5, count: 16)))
        expectError(containing: "not a PNG file") { try PNG.decode(Array("GIF89a".utf8)) }
        expectError(containing: "truncated") { try PNG.decode(Array(good.prefix(good.count - 20))) }
        var flipped = good
        flipped[40] ^= 0xFF
        expectError(containing: "bad CRC") { try PNG.decode(flipped) }
        var badDepth = good
        badDepth[24] = 3  // IHDR bit depth 3, then fix the CRC so the check reaches the field
        let crc = Zlib.crc32(badDepth[12..<29])
        badDepth[29...32] = [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        expectError(containing: "bit depth 3 is not a valid combination") { try PNG.decode(badDepth) }
        expectError(containing: "missing.png: cannot read") { try PNG.read(path: "/nonexistent/missing.png") }
        // A forged IHDR of 4,294,967,295 × 4,294,967,295 pixels: refused before any allocation.
        var huge = good
        huge[16...23] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let hugeCRC = Zlib.crc32(huge[12..<29])
        huge[29...32] = [UInt8(hugeCRC >> 24), UInt8(hugeCRC >> 16 & 0xFF), UInt8(hugeCRC >> 8 & 0xFF), UInt8(hugeCRC & 0xFF)]
        expectError(containing: "larger than 67108864 pixels") { try PNG.decode(huge) }
    }
}
