import Foundation

extension Image {
    /// Photos bundled with ConvKit (public domain, from scikit-image's data set): `camera`
    /// (the cameraman, 512×512 gray) and `chelsea` (the cat, 451×300 RGB).
    public enum Sample: String, Sendable, CaseIterable {
        case camera, chelsea
    }

    /// A black-and-white checkerboard (001's edge-detector exercise): `size`×`size` pixels in
    /// squares of `square` pixels, white first.
    /// - Throws: `ConvKitError.invalidArgument` unless 1 ≤ `size` ≤ 4,096 and 1 ≤ `square`.
    public static func checkerboard(size: Int = 64, square: Int = 8) throws -> Image {
        try Limits.check(size, in: 1...4096, op: "checkerboard", argument: "size")
        try Limits.check(square, in: 1...Int.max, op: "checkerboard", argument: "square")
        let s = square
        let pixels = (0..<(size * size)).map { i in Float(((i / size) / s + (i % size) / s) % 2 == 0 ? 1 : 0) }
        return try Image(width: size, height: size, channels: 1, pixels: pixels)
    }

    /// A bundled photo, "checkerboard" (generated) or "digitN" (the N-th of the 1,000 bundled
    /// MNIST test digits, 28 × 28 gray), by name; nil for other names.
    public static func named(_ name: String) throws -> Image? {
        if name == "checkerboard" { return try checkerboard() }
        if name.hasPrefix("digit"), let n = Int(name.dropFirst(5)), String(n) == name.dropFirst(5) {
            let test = try MNIST.bundled(.test)
            try Limits.check(n, in: 0...(test.count - 1), op: "Image.named", argument: "digit")
            return try Image(test.image(n))
        }
        return try Sample(rawValue: name).map { try sample($0) }
    }

    /// Loads a bundled photo.
    public static func sample(_ which: Sample) throws -> Image {
        guard let url = Bundle.module.url(forResource: "images", withExtension: nil)?.appendingPathComponent("\(which.rawValue).png") else {
            throw ConvKitError.io(path: "images/\(which.rawValue).png", message: "the bundled photos are missing from ConvKit's resources")
        }
        return try PNG.read(path: url.path)
    }
}
