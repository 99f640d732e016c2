/// The state of one JPEG decode: tables, frame, components and their coefficients, read
/// marker by marker (T.81 annex B); scans are decoded by `JPEGDecoder+Scan.swift`, samples
/// made by `JPEGDecoder+Output.swift`.
struct JPEGDecoder {
    struct Component {
        let id: Int, h: Int, v: Int, quantTable: Int
        /// Samples of this component in the image: ⌈X·h/hmax⌉ × ⌈Y·v/vmax⌉.
        var width = 0, height = 0
        /// Blocks stored per line and column (whole MCUs, for interleaved scans).
        var blocksPerLine = 0, blocksPerColumn = 0
        /// Blocks that hold image data (what a non-interleaved scan codes).
        var usedBlocksPerLine = 0, usedBlocksPerColumn = 0
        /// 64 coefficients per block, natural order, not dequantised.
        var coefficients = JPEGBlocks(count: 0)
        var dcTable = 0, acTable = 0
    }

    let bytes: [UInt8]
    let source: String
    var position = 0
    var quantTables = [[UInt16]?](repeating: nil, count: 4)
    var dcTables = [JPEGHuffman?](repeating: nil, count: 4)
    var acTables = [JPEGHuffman?](repeating: nil, count: 4)
    var components: [Component] = []
    var width = 0, height = 0
    var progressive = false
    var maxH = 1, maxV = 1, mcusPerLine = 0, mcusPerColumn = 0
    var restartInterval = 0
    var sawJFIF = false
    /// APP14 "Adobe" colour transform: 0 none (RGB), 1 YCbCr, 2 YCCK.
    var adobeTransform: Int?
    /// EXIF orientation 1–8, when an APP1 Exif segment gives one.
    var orientation: Int?

    init(bytes: [UInt8], source: String) { (self.bytes, self.source) = (bytes, source) }

    func fail(_ message: String) -> ConvKitError { .invalidFile(path: source, message: "JPEG: " + message) }

    /// Reads every marker through EOI and returns the image's samples.
    mutating func decode() throws -> JPEG.Samples {
        guard JPEG.isJPEG(bytes) else { throw fail("not a JPEG file (no SOI marker)") }
        position = 2
        var frameSeen = false, scans = 0
        while true {
            let marker = try nextMarker()
            switch marker {
            case 0xD8: throw fail("a second SOI marker")
            case 0xD9:  // EOI
                guard frameSeen, scans > 0 else { throw fail("no image data before EOI") }
                return try output()
            case 0xC0, 0xC1, 0xC2:
                guard !frameSeen else { throw fail("more than one frame (SOF) marker") }
                try readFrame(progressive: marker == 0xC2, try segment())
                frameSeen = true
            case 0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                throw fail("SOF\(marker - 0xC0) (\(marker >= 0xC9 ? "arithmetic coding" : "lossless or hierarchical")) is not supported")
            case 0xC4: try readHuffmanTables(try segment())
            case 0xDB: try readQuantTables(try segment())
            case 0xDD:
                let s = Array(try segment())
                guard s.count == 2 else { throw fail("DRI segment of \(s.count) bytes") }
                restartInterval = Int(s[0]) << 8 | Int(s[1])
            case 0xDA:
                guard frameSeen else { throw fail("a scan before the frame header") }
                try readScan(try segment())
                scans += 1
            case 0xE0: let s = try segment(); if s.starts(with: Array("JFIF\0".utf8)) { sawJFIF = true }
            case 0xE1: readExif(try segment())
            case 0xEE:
                let s = Array(try segment())
                if s.count >= 12, s.starts(with: Array("Adobe".utf8)) { adobeTransform = Int(s[11]) }
            case 0xDC: _ = try segment()  // DNL: heights are taken from SOF (0 is refused there)
            case 0xD0...0xD7: break  // a stray RST between scans
            default: _ = try segment()  // APPn, COM and others: skipped
            }
        }
    }

    /// The next marker code, skipping fill bytes (and, as libjpeg, garbage before it).
    mutating func nextMarker() throws -> UInt8 {
        while position < bytes.count - 1 {
            if bytes[position] == 0xFF, bytes[position + 1] != 0, bytes[position + 1] != 0xFF {
                defer { position += 2 }
                return bytes[position + 1]
            }
            position += 1
        }
        throw fail("the file ends before EOI (truncated?)")
    }

    /// A marker segment's payload (after its two length bytes).
    mutating func segment() throws -> ArraySlice<UInt8> {
        guard position + 2 <= bytes.count else { throw fail("the file ends inside a marker segment (truncated?)") }
        let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
        guard length >= 2, length <= bytes.count - position else { throw fail("a marker segment of \(length) bytes runs past the end") }
        defer { position += length }
        return bytes[(position + 2)..<(position + length)]
    }

    mutating func readFrame(progressive: Bool, _ s: ArraySlice<UInt8>) throws {
        let s = Array(s)
        guard s.count >= 6 else { throw fail("SOF segment too short") }
        guard s[0] == 8 else { throw fail("\(s[0])-bit samples are not supported (8-bit are)") }
        height = Int(s[1]) << 8 | Int(s[2])
        width = Int(s[3]) << 8 | Int(s[4])
        let count = Int(s[5])
        guard width > 0, height > 0 else { throw fail("image size \(width)×\(height) (a zero height needs DNL, not supported)") }
        guard count == 1 || count == 3 else {
            throw fail(count == 4 ? "CMYK/YCCK JPEGs are not supported (gray and YCbCr/RGB are)" : "\(count) components")
        }
        guard s.count == 6 + 3 * count else { throw fail("SOF segment of \(s.count) bytes for \(count) components") }
        self.progressive = progressive
        for i in 0..<count {
            let (h, v, tq) = (Int(s[7 + 3 * i] >> 4), Int(s[7 + 3 * i] & 15), Int(s[8 + 3 * i]))
            guard (1...4).contains(h), (1...4).contains(v), tq < 4 else { throw fail("component \(i) has sampling \(h)×\(v), table \(tq)") }
            guard !components.contains(where: { $0.id == Int(s[6 + 3 * i]) }) else { throw fail("two components with id \(s[6 + 3 * i])") }
            components.append(Component(id: Int(s[6 + 3 * i]), h: h, v: v, quantTable: tq))
        }
        maxH = components.map(\.h).max()!
        maxV = components.map(\.v).max()!
        for c in components where maxH % c.h != 0 || maxV % c.v != 0 {
            throw fail("fractional sampling (\(c.h)×\(c.v) under \(maxH)×\(maxV)) is not supported")
        }
        mcusPerLine = (width + 8 * maxH - 1) / (8 * maxH)
        mcusPerColumn = (height + 8 * maxV - 1) / (8 * maxV)
        // Every block costs at least one bit of entropy-coded data: refuse sizes the file cannot hold.
        let blocks = components.reduce(0) { $0 + mcusPerLine * $1.h * mcusPerColumn * $1.v }
        guard blocks <= (bytes.count - position) * 8 else {
            throw fail("\(width)×\(height) needs \(blocks) blocks, more than the \(bytes.count) bytes of the file can hold")
        }
        try Limits.elementCount([count, height, width], op: "JPEG", what: "image")
        for i in components.indices {
            let c = components[i]
            components[i].width = (width * c.h + maxH - 1) / maxH
            components[i].height = (height * c.v + maxV - 1) / maxV
            components[i].usedBlocksPerLine = (components[i].width + 7) / 8
            components[i].usedBlocksPerColumn = (components[i].height + 7) / 8
            components[i].blocksPerLine = mcusPerLine * c.h
            components[i].blocksPerColumn = mcusPerColumn * c.v
            components[i].coefficients = JPEGBlocks(count: components[i].blocksPerLine * components[i].blocksPerColumn * 64)
        }
    }

    mutating func readQuantTables(_ s: ArraySlice<UInt8>) throws {
        var at = s.startIndex
        while at < s.endIndex {
            let (precision, id) = (Int(s[at] >> 4), Int(s[at] & 15))
            let size = precision == 0 ? 64 : 128
            guard id < 4, precision <= 1, at + 1 + size <= s.endIndex else { throw fail("bad DQT segment") }
            var table = [UInt16](repeating: 0, count: 64)
            for k in 0..<64 {
                let value = precision == 0 ? UInt16(s[at + 1 + k]) : UInt16(s[at + 1 + 2 * k]) << 8 | UInt16(s[at + 2 + 2 * k])
                table[JPEGDecoder.zigzag[k]] = value
            }
            quantTables[id] = table
            at += 1 + size
        }
    }

    mutating func readHuffmanTables(_ s: ArraySlice<UInt8>) throws {
        var at = s.startIndex
        while at < s.endIndex {
            guard at + 17 <= s.endIndex else { throw fail("bad DHT segment") }
            let (tableClass, id) = (Int(s[at] >> 4), Int(s[at] & 15))
            let counts = (1...16).map { Int(s[at + $0]) }
            let total = counts.reduce(0, +)
            guard tableClass <= 1, id < 4, total <= 256, at + 17 + total <= s.endIndex else { throw fail("bad DHT segment") }
            let table = try JPEGHuffman(counts: counts, values: Array(s[(at + 17)..<(at + 17 + total)]), fail: fail)
            if tableClass == 0 { dcTables[id] = table } else { acTables[id] = table }
            at += 17 + total
        }
    }

    /// The orientation tag (0x0112) of IFD0 in an APP1 "Exif" segment; malformed data is ignored.
    mutating func readExif(_ segment: ArraySlice<UInt8>) {
        let s = Array(segment)
        guard s.count >= 14, s.starts(with: Array("Exif\0\0".utf8)) else { return }
        let tiff = 6
        let little = s[tiff] == 0x49
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= s.count else { return nil }
            return little ? Int(s[at]) | Int(s[at + 1]) << 8 : Int(s[at]) << 8 | Int(s[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(tiff + 4), let count = u16(tiff + ifd) else { return }
        for i in 0..<count {
            let entry = tiff + ifd + 2 + 12 * i
            guard let tag = u16(entry) else { return }
            if tag == 0x0112, let value = u16(entry + 8), (1...8).contains(value) { orientation = value }
        }
    }

    /// Zigzag position → natural (row-major) index, plus 16 entries of 63 so that a corrupt
    /// run past the block's end writes its last coefficient (as libjpeg's `jpeg_natural_order`).
    static let zigzag: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ] + [Int](repeating: 63, count: 16)
}

/// Zero-initialised coefficient storage that scans write through a pointer (no copy-on-write,
/// no exclusive access to the decoder while a scan runs).
final class JPEGBlocks {
    let pointer: UnsafeMutablePointer<Int16>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }
    deinit { pointer.deallocate() }
}

/// A Huffman table (T.81 annex C): codes up to 9 bits by one table look-up, longer ones by
/// the canonical maximum-code search (F.2.2.3). Owns its tables; scans read them through a
/// `Lookup` of plain pointers (no reference counting in the per-symbol loop).
final class JPEGHuffman {
    /// Plain pointers to the tables, valid while the `JPEGHuffman` lives.
    struct Lookup {
        /// For each 9-bit prefix: the symbol << 8 | the code length, or 0 when the code is longer.
        let fast: UnsafePointer<UInt16>
        /// 18 entries: the largest code of each length 0…16 (−1 when none), then a sentinel.
        let maxCode: UnsafePointer<Int32>
        /// 17 entries: index of a length's first symbol minus its first code.
        let valueOffset: UnsafePointer<Int32>
        /// 256 symbols (unused entries 0): any index masked to 0…255 stays inside.
        let values: UnsafePointer<UInt8>
    }

    private let storage: UnsafeMutableRawPointer
    let lookup: Lookup

    init(counts: [Int], values: [UInt8], fail: (String) -> ConvKitError) throws {
        // One allocation: fast (512 × 2 bytes), maxCode and valueOffset (18 + 17 × 4), values (256).
        storage = .allocate(byteCount: 1024 + 72 + 68 + 256, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: 1024 + 72 + 68 + 256)
        let fast = storage.bindMemory(to: UInt16.self, capacity: 512)
        let maxCode = (storage + 1024).bindMemory(to: Int32.self, capacity: 18)
        let valueOffset = (storage + 1096).bindMemory(to: Int32.self, capacity: 17)
        let symbols = (storage + 1164).bindMemory(to: UInt8.self, capacity: 256)
        lookup = Lookup(fast: fast, maxCode: maxCode, valueOffset: valueOffset, values: symbols)
        for (i, v) in values.prefix(256).enumerated() { symbols[i] = v }
        var code = 0, k = 0
        maxCode[0] = -1
        for length in 1...16 {
            valueOffset[length] = Int32(k - code)
            for _ in 0..<counts[length - 1] {
                // Found by the fuzzer: more codes of a length than it has room for (checked before indexing).
                guard code < 1 << length else { throw fail("a Huffman table with more codes than its lengths allow") }
                if length <= 9 {
                    let shift = 9 - length
                    for low in 0..<(1 << shift) { fast[(code << shift) | low] = UInt16(values[k]) << 8 | UInt16(length) }
                }
                code += 1
                k += 1
            }
            maxCode[length] = counts[length - 1] > 0 ? Int32(code - 1) : -1
            code <<= 1
        }
        maxCode[17] = Int32.max  // sentinel: no code is longer than 16 bits
    }

    deinit { storage.deallocate() }
}
