/// A read-only zip archive (PKWARE APPNOTE 6.3): the container of PyTorch ≥ 1.6 checkpoints.
///
/// Reads the central directory (zip64 records and extra fields included, for archives and
/// entries over 4 GiB) and gives each entry's bytes: stored (what `torch.save` writes) or
/// deflated (archives re-zipped by other tools), CRC-checked. Every offset and size is
/// checked against the archive before anything is allocated.
public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0: stored, 8: deflated.
        public let method: Int
        public let crc32: UInt32
        public let compressedSize: Int, size: Int
        let localHeaderOffset: Int
    }

    /// At most this many entries (a checkpoint has one per storage plus a few).
    public static let maxEntries = 1_000_000

    public let entries: [Entry]
    private let bytes: [UInt8]
    private let source: String

    /// Parses the central directory of `bytes`; `source` names the archive in errors.
    /// - Throws: `ConvKitError.invalidFile` when the bytes are not a well-formed zip archive.
    public init(bytes: [UInt8], source: String = "<memory>") throws {
        self.bytes = bytes
        self.source = source
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "zip: " + message) }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        func fits(_ at: Int, _ count: Int) -> Bool { at >= 0 && count >= 0 && at <= bytes.count && count <= bytes.count - at }

        // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
        guard bytes.count >= 22 else { throw fail("\(bytes.count) bytes, too short for an archive") }
        var eocd = -1
        for at in stride(from: bytes.count - 22, through: Swift.max(0, bytes.count - 22 - 65_535), by: -1)
        where u32(at) == 0x0605_4B50 && at + 22 + u16(at + 20) == bytes.count {
            eocd = at
            break
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (truncated or not a zip file)") }
        var count = u16(eocd + 10), directorySize = u32(eocd + 12), directoryOffset = u32(eocd + 16)
        // Zip64: a locator just before the record points at the zip64 end record.
        if eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let record = u64(eocd - 12)
            guard bytes.count >= 56, record <= UInt64(bytes.count - 56), u32(Int(record)) == 0x0606_4B50 else { throw fail("bad zip64 end record") }
            let r = Int(record)
            guard u64(r + 32) <= UInt64(Self.maxEntries), u64(r + 40) <= UInt64(bytes.count), u64(r + 48) <= UInt64(bytes.count) else {
                throw fail("zip64 end record declares more than the archive holds")
            }
            (count, directorySize, directoryOffset) = (Int(u64(r + 32)), Int(u64(r + 40)), Int(u64(r + 48)))
        }
        guard count <= Self.maxEntries, fits(directoryOffset, directorySize), count * 46 <= directorySize else {
            throw fail("central directory (\(count) entries, \(directorySize) bytes at \(directoryOffset)) lies outside the archive")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var at = directoryOffset
        for _ in 0..<count {
            guard fits(at, 46), u32(at) == 0x0201_4B50 else { throw fail("bad central directory entry at \(at)") }
            let (nameLength, extraLength, commentLength) = (u16(at + 28), u16(at + 30), u16(at + 32))
            guard fits(at + 46, nameLength + extraLength + commentLength) else { throw fail("central directory entry at \(at) runs past the archive") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            var size = UInt64(u32(at + 24)), compressed = UInt64(u32(at + 20)), offset = UInt64(u32(at + 42))
            // The zip64 extra field (0x0001) holds, in this order, each value saved as 0xFFFFFFFF.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let (id, length) = (u16(extra), u16(extra + 2))
                guard extra + 4 + length <= extraEnd else { throw fail("extra field of '\(name)' runs past its entry") }
                if id == 0x0001 {
                    var field = extra + 4
                    if size == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { size = u64(field); field += 8 }
                    if compressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { compressed = u64(field); field += 8 }
                    if offset == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { offset = u64(field); field += 8 }
                }
                extra += 4 + length
            }
            guard compressed <= UInt64(bytes.count), offset <= UInt64(bytes.count), size <= UInt64(Int.max) else {
                throw fail("entry '\(name)' declares sizes or an offset beyond the archive")
            }
            entries.append(Entry(name: name, method: u16(at + 10), crc32: UInt32(u32(at + 16)),
                                 compressedSize: Int(compressed), size: Int(size), localHeaderOffset: Int(offset)))
            at += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// The entry named `name`, if present.
    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The uncompressed bytes of `entry`, checked against its CRC-32.
    /// - Throws: `ConvKitError.invalidFile` for data outside the archive, an unsupported
    ///   method, a size that disagrees with the directory, or a CRC mismatch.
    public func data(_ entry: Entry) throws -> [UInt8] {
        let (buffer, range) = try contents(entry)
        return range == buffer.indices ? buffer : Array(buffer[range])
    }

    /// The uncompressed bytes of `entry` without copying a stored one: `range` of the
    /// archive's own bytes for a stored entry, the whole of a new array for a deflated one.
    /// Checked as `data(_:)` checks.
    func contents(_ entry: Entry) throws -> (buffer: [UInt8], range: Range<Int>) {
        func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "zip entry '\(entry.name)': " + message) }
        let at = entry.localHeaderOffset
        guard at <= bytes.count - 30, bytes[at] == 0x50, bytes[at + 1] == 0x4B, bytes[at + 2] == 3, bytes[at + 3] == 4 else {
            throw fail("no local header at \(at)")
        }
        let start = at + 30 + (Int(bytes[at + 26]) | Int(bytes[at + 27]) << 8) + (Int(bytes[at + 28]) | Int(bytes[at + 29]) << 8)
        guard start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw fail("\(entry.compressedSize) bytes declared, the archive ends first (truncated?)")
        }
        let stored = start..<(start + entry.compressedSize)
        let result: (buffer: [UInt8], range: Range<Int>)
        switch entry.method {
        case 0:
            guard entry.size == entry.compressedSize else { throw fail("stored entry with two sizes (\(entry.size), \(entry.compressedSize))") }
            result = (bytes, stored)
        case 8:
            let data = try Zlib.inflateRaw(Array(bytes[stored]), count: entry.size, source: "\(source): \(entry.name)")
            result = (data, data.indices)
        default:
            throw fail("compression method \(entry.method) is not supported (stored and deflate are)")
        }
        guard Zlib.crc32(result.buffer[result.range]) == entry.crc32 else { throw fail("CRC-32 mismatch (corrupt data)") }
        return result
    }
}
