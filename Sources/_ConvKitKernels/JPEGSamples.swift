import _ConvKitMicroKernels

/// JPEG sample reconstruction as libjpeg-turbo's defaults compute it, so that a decoded file
/// has the same bytes as Pillow's: the accurate integer inverse DCT (`jidctint.c`), "fancy"
/// upsampling (`jdsample.c`) and fixed-point YCbCr → RGB (`jdcolor.c`). Pure functions on
/// buffers (the C micro-kernels in JPEGKernels.c, AVX2 where the CPU has it); the decoder
/// (ConvKit's `JPEGDecoder`) owns the buffers and checks their sizes.
public enum JPEGSampleKernel {
    private static let level = ck_gemm_level()

    /// The inverse DCT of `blocks` consecutive blocks of 64 coefficients (natural order, not
    /// dequantised), written side by side: block b's row r at `output[r·stride + 8·b …]`.
    /// - Parameters:
    ///   - quantization: the 64 entries of the component's table, natural order.
    ///   - output: 8 rows of `stride` (≥ 8·blocks) samples.
    public static func inverseDCT(blocks: Int, coefficients: UnsafePointer<Int16>, quantization: UnsafePointer<UInt16>,
                                  output: UnsafeMutablePointer<UInt8>, stride: Int) {
        precondition(blocks >= 0 && stride >= 8 * blocks)
        ck_jpeg_idct_islow(level, coefficients, blocks, quantization, output, stride)
    }

    /// `count` pixels of full-resolution Y, Cb and Cr rows to interleaved RGB (3·count bytes).
    public static func yccToRGB(count: Int, y: UnsafePointer<UInt8>, cb: UnsafePointer<UInt8>, cr: UnsafePointer<UInt8>,
                                rgb: UnsafeMutablePointer<UInt8>) {
        ck_jpeg_ycc_rgb(level, y, cb, cr, rgb, count)
    }

    /// One output row of fancy upsampling by 2 across: 2·width samples from `row` (h2v1), or,
    /// with `neighbour` (the input row above for an upper output row, below for a lower one),
    /// by 2 across and down (h2v2). libjpeg uses it for widths over 2.
    public static func upsampleAcross(width: Int, row: UnsafePointer<UInt8>, neighbour: UnsafePointer<UInt8>?,
                                      output: UnsafeMutablePointer<UInt8>) {
        precondition(width >= 1)
        ck_jpeg_upsample_h2(level, row, neighbour, width, output)
    }

    /// One output row of fancy upsampling by 2 down (h1v2): width samples from `row` and
    /// `neighbour` (above when `upper`, else below).
    public static func upsampleDown(width: Int, row: UnsafePointer<UInt8>, neighbour: UnsafePointer<UInt8>, upper: Bool,
                                    output: UnsafeMutablePointer<UInt8>) {
        ck_jpeg_upsample_v2(level, row, neighbour, width, upper ? 1 : 0, output)
    }
}
