import CZlib

/// Compression through the system zlib: gzip/zlib streams for MNIST files and PNG.
public enum Zlib {
    /// Inflates a gzip (.gz) or zlib stream, detected from its header.
    /// - Throws: `ConvKitError.invalidFile` naming `source` when the stream is corrupt or truncated.
    public static func decompress(_ input: [UInt8], source: String = "<memory>") throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32: accept zlib and gzip headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
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
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }  // input ended mid-stream
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ConvKitError.invalidFile(path: source, message: "corrupt compressed data (\(reason))")
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 { break }
            } while status != Z_STREAM_END
        }
        guard status == Z_STREAM_END else {
            throw ConvKitError.invalidFile(path: source, message: "compressed data ends early (truncated file?)")
        }
        return output
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

    /// The CRC-32 of `bytes` (PNG chunks, gzip trailers).
    public static func crc32(_ bytes: some Collection<UInt8>, initial: UInt = 0) -> UInt32 {
        let data = Array(bytes)
        return UInt32(data.withUnsafeBufferPointer { CZlib.crc32(initial, $0.baseAddress, UInt32($0.count)) })
    }
}
