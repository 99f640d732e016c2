import CZlib

/// Compression through the system zlib: gzip/zlib streams for MNIST files and PNG.
public enum Zlib {
    /// Deflate cannot expand data more than 1032:1 (RFC 1951: a 258-byte match costs at least
    /// two bits), so a stream shorter than `expected / maxRatio` bytes cannot hold `expected` bytes.
    public static let maxRatio = 1032

    /// Inflates a gzip (.gz) or zlib stream, detected from its header.
    /// - Parameter limit: the most bytes the caller's format can justify; a stream that inflates
    ///   past it (a decompression bomb, or data the header did not declare) is refused.
    /// - Throws: `ConvKitError.invalidFile` naming `source` when the stream is corrupt, truncated,
    ///   or longer than `limit`.
    public static func decompress(_ input: [UInt8], source: String = "<memory>", limit: Int = .max) throws -> [UInt8] {
        let (output, ended) = try inflate(input, source: source, stopAfter: limit == .max ? .max : limit + 1)
        guard output.count <= limit else {
            throw ConvKitError.invalidFile(path: source, message: "compressed data inflates past \(limit) bytes, more than its format allows")
        }
        guard ended else {
            throw ConvKitError.invalidFile(path: source, message: "compressed data ends early (truncated file?)")
        }
        return output
    }

    /// Inflates a gzip file no further than the size its trailer declares (ISIZE, the length
    /// modulo 2^32, RFC 1952), so a forged archive cannot make the reader allocate without bound.
    /// - Throws: `ConvKitError.invalidFile` when the data is not gzip, is corrupt, or disagrees with its trailer.
    public static func gunzip(_ input: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        guard input.count >= 18, input[0] == 0x1F, input[1] == 0x8B else {
            throw ConvKitError.invalidFile(path: source, message: "not a gzip file (expected the magic bytes 1f 8b and a trailer)")
        }
        let declared = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        guard declared / maxRatio <= input.count else {
            throw ConvKitError.invalidFile(path: source, message: "gzip trailer declares \(declared) bytes, more than \(input.count) compressed bytes can hold")
        }
        let output = try decompress(input, source: source, limit: declared)
        guard output.count == declared else {
            throw ConvKitError.invalidFile(path: source, message: "gzip data inflates to \(output.count) bytes, its trailer declares \(declared)")
        }
        return output
    }

    /// The first `count` inflated bytes of a gzip or zlib stream (fewer when the stream is shorter);
    /// the rest is not inflated. For reading a header before deciding how much to allow.
    /// - Throws: `ConvKitError.invalidFile` when the data before that point is corrupt.
    public static func decompressPrefix(_ input: [UInt8], count: Int, source: String = "<memory>") throws -> [UInt8] {
        try inflate(input, source: source, stopAfter: count).output
    }

    /// Inflates a raw deflate stream (RFC 1951, no header: a zip entry's data) that must hold
    /// exactly `count` bytes, the size its container declares.
    /// - Throws: `ConvKitError.invalidFile` when the stream is corrupt or holds another size.
    public static func inflateRaw(_ input: [UInt8], count: Int, source: String = "<memory>") throws -> [UInt8] {
        guard count / maxRatio <= input.count else {
            throw ConvKitError.invalidFile(path: source, message: "\(input.count) compressed bytes cannot hold the \(count) declared")
        }
        let (output, ended) = count == 0 ? ([], true) : try inflate(input, source: source, stopAfter: count + 1, windowBits: -15)
        guard ended, output.count == count else {
            throw ConvKitError.invalidFile(path: source, message: "compressed data holds \(output.count)\(ended ? "" : "+") bytes, \(count) were declared")
        }
        return output
    }

    /// Inflates until the stream ends or `stopAfter` bytes are out; `ended` tells which.
    /// windowBits 15 + 32 accepts zlib and gzip headers; −15 reads raw deflate.
    static func inflate(_ input: [UInt8], source: String, stopAfter: Int, windowBits: Int32 = 15 + 32) throws -> (output: [UInt8], ended: Bool) {
        guard stopAfter > 0 else { return ([], false) }
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ConvKitError.invalidFile(path: source, message: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inp in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = UInt32(inp.count)
            repeat {
                let room = Swift.min(chunk.count, stopAfter - output.count)
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(room)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }  // input ended mid-stream
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ConvKitError.invalidFile(path: source, message: "corrupt compressed data (\(reason))")
                }
                output.append(contentsOf: chunk[0..<(room - Int(stream.avail_out))])
                if output.count >= stopAfter { break }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 { break }
            } while status != Z_STREAM_END
        }
        return (output, status == Z_STREAM_END)
    }

    /// Deflates `input` as a zlib stream (`gzip: false`, PNG's IDAT) or a gzip file.
    public static func compress(_ input: [UInt8], level: Int32 = 6, gzip: Bool = false) -> [UInt8] {
        var stream = z_stream()
        let windowBits: Int32 = gzip ? 15 + 16 : 15
        guard deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let written: Int = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                _ = deflate(&stream, Z_FINISH)
                return out.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }

    /// The CRC-32 of `bytes` (PNG chunks, gzip trailers, zip entries), read in place when they
    /// are contiguous (an array or a slice of one), in 1 GiB pieces (zlib counts in 32 bits).
    public static func crc32(_ bytes: some Collection<UInt8>, initial: UInt = 0) -> UInt32 {
        func crc(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
            var value = initial, at = 0
            repeat {
                let piece = Swift.min(buffer.count - at, 1 << 30)
                value = CZlib.crc32(value, buffer.baseAddress.map { $0 + at }, UInt32(piece))
                at += piece
            } while at < buffer.count
            return UInt32(value)
        }
        return bytes.withContiguousStorageIfAvailable(crc) ?? Array(bytes).withUnsafeBufferPointer(crc)
    }
}
