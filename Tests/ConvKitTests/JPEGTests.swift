import ConvKit
import Foundation
import Testing

/// The JPEG decoder against Pillow (libjpeg-turbo) on a generated corpus
/// (scripts/generate_jpeg_fixtures.py): every NAME.jpg must decode to the bytes of NAME.png,
/// Pillow's decoding of it.
@Suite struct JPEGTests {
    static let folder = fixtureURL("jpeg")
    static let corpus: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".jpg") && $0 != "cjpeg_arithmetic.jpg" }.map { String($0.dropLast(4)) }.sorted()

    /// Pillow's samples for `name`, interleaved bytes.
    static func expected(_ name: String) throws -> (width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        let image = try PNG.read(path: folder.appendingPathComponent(name + ".png").path)
        let plane = image.width * image.height
        var bytes = [UInt8](repeating: 0, count: plane * image.channels)
        for i in 0..<plane { for c in 0..<image.channels { bytes[i * image.channels + c] = UInt8((image.pixels[c * plane + i] * 255).rounded()) } }
        return (image.width, image.height, image.channels, bytes)
    }

    @Test(arguments: corpus)
    func decodesAsPillowDoes(name: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(name + ".jpg")))
        let got = try JPEG.decodeSamples(bytes, source: name)
        let want = try Self.expected(name)
        #expect(got.width == want.width && got.height == want.height && got.channels == want.channels,
                "\(name): \(got.width)×\(got.height)×\(got.channels) vs \(want.width)×\(want.height)×\(want.channels)")
        guard got.bytes.count == want.bytes.count else { return }
        let differences = zip(got.bytes, want.bytes).map { abs(Int($0) - Int($1)) }
        let worst = differences.max() ?? 0, differing = differences.filter { $0 > 0 }.count
        // Bit-exact is the aim (same IDCT, upsampling and colour conversion as libjpeg-turbo); ≤ 1 the requirement.
        #expect(worst <= 1, "\(name): max difference \(worst), \(differing) of \(differences.count) samples differ")
        if worst > 0 { print("\(name): max difference \(worst), \(differing) of \(differences.count) samples differ") }
    }

    /// EXIF orientation applied on request (as `ImageOps.exif_transpose`), ignored by default (as `Image.open`).
    @Test(arguments: [3, 6, 8])
    func exifOrientation(orientation: Int) throws {
        let name = "exif_orientation_\(orientation)"
        let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(name + ".jpg")))
        let stored = try JPEG.decodeSamples(bytes), upright = try JPEG.decodeSamples(bytes, applyingOrientation: true)
        #expect(stored.bytes == (try Self.expected(name)).bytes)
        #expect(upright.bytes == (try Self.expected(name + "_oriented")).bytes && (orientation == 3) == (upright.width == stored.width))
    }

    /// What is out of scope or broken gets one clear error, never a trap.
    @Test func refusals() throws {
        let arithmetic = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("cjpeg_arithmetic.jpg")))
        #expect(throws: ConvKitError.self) { try JPEG.decodeSamples(arithmetic) }
        let good = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("progressive_420.jpg")))
        for cut in [3, 20, good.count / 3, good.count / 2, good.count - 3] {
            #expect(throws: ConvKitError.self, "cut at \(cut)") { try JPEG.decodeSamples(Array(good.prefix(cut))) }
        }
        // A frame header claiming 65,535 × 65,535 in a file of a few hundred bytes is refused before allocating.
        var huge = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("q75_420.jpg")))
        let sof = try #require((0..<(huge.count - 1)).first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 })
        huge[sof + 5...sof + 8] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: ConvKitError.self) { try JPEG.decodeSamples(huge) }
        // Image(contentsOf:) tells PNG from JPEG by content.
        let image = try Image(bytes: good)
        #expect(image.channels == 3 && image.width == 48)
    }
}
