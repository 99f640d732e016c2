/// Pearson correlation of two equally long samples (NumPy's `corrcoef(a, b)[0, 1]`).
public func pearsonCorrelation(_ a: [Float], _ b: [Float]) -> Float {
    let n = Double(Swift.min(a.count, b.count))
    guard n > 1 else { return .nan }
    let ma = a.prefix(Int(n)).reduce(0.0) { $0 + Double($1) } / n, mb = b.prefix(Int(n)).reduce(0.0) { $0 + Double($1) } / n
    var (sab, saa, sbb) = (0.0, 0.0, 0.0)
    for i in 0..<Int(n) {
        let (da, db) = (Double(a[i]) - ma, Double(b[i]) - mb)
        (sab, saa, sbb) = (sab + da * db, saa + da * da, sbb + db * db)
    }
    return Float(sab / (saa * sbb).squareRoot())
}

/// The course's locality snippet (001) on a real image: the correlation between each pixel
/// and the one below it (`image[:-1, :]` vs `image[1:, :]`), and between the top-left and
/// bottom-right quarters (`image[:h/2, :w/2]` vs `image[h/2:, w/2:]`), on the gray image.
/// - Throws: `ConvKitError.invalidArgument` for an image smaller than 4 × 4, or one whose
///   pixels do not vary (a correlation needs variance).
public func pixelCorrelations(_ image: Image) throws -> PixelCorrelations {
    let gray = image.grayscale
    let (h, w, p) = (gray.height, gray.width, gray.pixels)
    guard h >= 4, w >= 4 else {
        throw ConvKitError.invalidArgument(op: "correlation", argument: "image", message: "must be at least 4×4 pixels, got \(w)×\(h)")
    }
    let upper = (0..<((h - 1) * w)).map { p[$0] }, lower = (w..<(h * w)).map { p[$0] }
    let (hh, hw) = (h / 2, w / 2)
    var topLeft: [Float] = [], bottomRight: [Float] = []
    for y in 0..<hh { for x in 0..<hw { topLeft.append(p[y * w + x]); bottomRight.append(p[(y + hh) * w + x + hw]) } }
    let result = PixelCorrelations(adjacent: pearsonCorrelation(upper, lower), distant: pearsonCorrelation(topLeft, bottomRight))
    guard result.adjacent.isFinite, result.distant.isFinite else {
        throw ConvKitError.invalidArgument(
            op: "correlation", argument: "image", message: "has regions of one flat gray level; a correlation needs pixels that vary")
    }
    return result
}

/// The two correlations of the locality snippet.
public struct PixelCorrelations: Sendable, Equatable, Encodable {
    /// Each pixel with the one below it.
    public let adjacent: Float
    /// The top-left quarter with the bottom-right one.
    public let distant: Float
}
