/// `dst[p · dstStride + j] = scale · src[j · srcStride + p]` for `j < rows`, `p < cols`:
/// a transposing copy in 4 × 4 blocks of SIMD loads, shuffles and stores (the packing of
/// GEMM operands whose reduction axis is contiguous, such as a convolution's column matrix
/// in the weight gradient). A scalar loop of strided stores was the hot spot there.
@inline(__always)
func transposeCopy(
    rows: Int, cols: Int, src: UnsafePointer<Float>, srcStride: Int,
    dst: UnsafeMutablePointer<Float>, dstStride: Int, scale: Float = 1
) {
    let scale4 = SIMD4<Float>(repeating: scale)
    var j = 0
    // Blocks of 4 rows; a remainder of 1–3 rows (an A panel has 6) is covered by one more
    // block overlapping the previous one, whose values are simply written twice.
    while j < rows && rows >= 4 {
        if j + 4 > rows { j = rows - 4 }
        let s0 = UnsafeRawPointer(src + j * srcStride), s1 = s0 + 4 * srcStride
        let s2 = s1 + 4 * srcStride, s3 = s2 + 4 * srcStride
        var p = 0
        while p + 4 <= cols {
            let o = 4 * p
            let r0 = s0.loadUnaligned(fromByteOffset: o, as: SIMD4<Float>.self)
            let r1 = s1.loadUnaligned(fromByteOffset: o, as: SIMD4<Float>.self)
            let r2 = s2.loadUnaligned(fromByteOffset: o, as: SIMD4<Float>.self)
            let r3 = s3.loadUnaligned(fromByteOffset: o, as: SIMD4<Float>.self)
            let d = UnsafeMutableRawPointer(dst + p * dstStride + j)
            let step = 4 * dstStride
            d.storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]) * scale4, as: SIMD4<Float>.self)
            d.storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]) * scale4, toByteOffset: step, as: SIMD4<Float>.self)
            d.storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]) * scale4, toByteOffset: 2 * step, as: SIMD4<Float>.self)
            d.storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]) * scale4, toByteOffset: 3 * step, as: SIMD4<Float>.self)
            p += 4
        }
        for q in p..<cols {
            for i in j..<(j + 4) { dst[q * dstStride + i] = scale * src[i * srcStride + q] }
        }
        j += 4
    }
    for i in (rows >= 4 ? rows : 0)..<rows {
        let s = src + i * srcStride
        for q in 0..<cols { dst[q * dstStride + i] = scale * s[q] }
    }
}
