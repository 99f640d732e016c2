/// Entropy-coded data: reads bits with byte stuffing (0xFF 0x00) and stops at markers.
struct JPEGBitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    var buffer: UInt64 = 0
    var count = 0
    /// Zero bits appended after a marker or the end of the data; consuming one means the
    /// data ended early.
    var padding = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) { (self.bytes, self.position) = (bytes, position) }

    /// Fills the buffer to more than 56 bits.
    @inline(__always) mutating func fill() {
        while count <= 56 {
            var byte: UInt8 = 0
            if padding == 0, position < bytes.count {
                byte = bytes[position]
                if byte == 0xFF {
                    let next = position + 1 < bytes.count ? bytes[position + 1] : 0xD9
                    if next == 0 { position += 2 } else { byte = 0; padding += 8 }  // a marker: stop before it
                } else {
                    position += 1
                }
            } else {
                padding += 8
            }
            buffer |= UInt64(byte) << UInt64(56 - count)
            count += 8
        }
    }

    /// The next `n` (≤ 16) bits without consuming them.
    @inline(__always) mutating func peek(_ n: Int) -> Int {
        if count < n { fill() }
        return Int(buffer >> UInt64(64 - n))
    }

    @inline(__always) mutating func skip(_ n: Int) throws {
        buffer <<= UInt64(n)
        count -= n
        if count < padding { throw JPEGDecoder.Truncated() }
    }

    @inline(__always) mutating func bits(_ n: Int) throws -> Int {
        guard n > 0 else { return 0 }
        // Found by the fuzzer: a DC symbol is a byte, but 8-bit JPEGs code at most 16 bits per value.
        guard n <= 16 else { throw JPEGDecoder.Truncated(message: "a coded value of \(n) bits (corrupt data)") }
        let v = peek(n)
        try skip(n)
        return v
    }

    /// RECEIVE and EXTEND (F.2.2.1): `n` bits as a signed magnitude category value.
    @inline(__always) mutating func receiveExtend(_ n: Int) throws -> Int {
        guard n > 0 else { return 0 }
        let v = try bits(n)
        return v < 1 << (n - 1) ? v - (1 << n) + 1 : v
    }

    /// DECODE (F.2.2.3).
    @inline(__always) mutating func decode(_ table: JPEGHuffman.Lookup) throws -> Int {
        let look = peek(9)
        let entry = table.fast[look]
        if entry != 0 {
            try skip(Int(entry & 0xFF))
            return Int(entry >> 8)
        }
        let code16 = peek(16)
        var length = 10
        while Int32(truncatingIfNeeded: code16 >> (16 - length)) > table.maxCode[length] { length += 1 }
        guard length <= 16 else { throw JPEGDecoder.Truncated(message: "a Huffman code not in its table (corrupt data)") }
        try skip(length)
        return Int(table.values[((code16 >> (16 - length)) + Int(table.valueOffset[length])) & 255])
    }

    /// Drops the bits left before a restart marker and steps over the marker.
    mutating func restart() -> Bool {
        buffer = 0
        count = 0
        padding = 0
        while position + 1 < bytes.count, bytes[position] == 0xFF, bytes[position + 1] == 0xFF { position += 1 }
        guard position + 1 < bytes.count, bytes[position] == 0xFF, (0xD0...0xD7).contains(bytes[position + 1]) else { return false }
        position += 2
        return true
    }
}

extension JPEGDecoder {
    struct Truncated: Error {
        var message = "the entropy-coded data ends early (truncated or corrupt file)"
    }

    /// SOS: the scan header, then its entropy-coded data (G.1 for progressive scans).
    mutating func readScan(_ header: ArraySlice<UInt8>) throws {
        let s = Array(header)
        guard let count = s.first.map(Int.init), (1...4).contains(count), s.count == 1 + 2 * count + 3 else { throw fail("bad SOS segment") }
        var indices: [Int] = []
        for i in 0..<count {
            guard let index = components.firstIndex(where: { $0.id == Int(s[1 + 2 * i]) }), !indices.contains(index) else {
                throw fail("a scan names component \(s[1 + 2 * i]), which the frame does not have")
            }
            let (dc, ac) = (Int(s[2 + 2 * i] >> 4), Int(s[2 + 2 * i] & 15))
            guard dc < 4, ac < 4 else { throw fail("Huffman table ids \(dc), \(ac)") }
            (components[index].dcTable, components[index].acTable) = (dc, ac)
            indices.append(index)
        }
        let (ss, se, ah, al) = (Int(s[1 + 2 * count]), Int(s[2 + 2 * count]), Int(s[3 + 2 * count] >> 4), Int(s[3 + 2 * count] & 15))
        if progressive {
            guard ss <= se, se <= 63, (ss == 0) == (se == 0), ss == 0 || count == 1, ah <= 13, al <= 13 else {
                throw fail("progressive scan parameters Ss=\(ss) Se=\(se) Ah=\(ah) Al=\(al), \(count) components")
            }
        } else if ss != 0 || se != 63 || ah != 0 || al != 0 {
            throw fail("sequential scan with Ss=\(ss) Se=\(se) Ah=\(ah) Al=\(al)")
        }
        for i in indices {
            let c = components[i]
            if !progressive || ss == 0, ah == 0, dcTables[c.dcTable] == nil { throw fail("a scan uses DC table \(c.dcTable), never defined") }
            if !progressive || ss > 0, acTables[c.acTable] == nil { throw fail("a scan uses AC table \(c.acTable), never defined") }
        }
        let single = indices.count == 1
        // Non-interleaved scans code the component's own blocks; interleaved ones whole MCUs.
        let (unitsPerLine, unitsPerColumn) = single
            ? (components[indices[0]].usedBlocksPerLine, components[indices[0]].usedBlocksPerColumn) : (mcusPerLine, mcusPerColumn)
        // What each unit's loop needs, hoisted: the scan's components and their tables.
        // Plain values only (pointers, no references), so the loop does no reference counting; the
        // tables and coefficient stores stay alive through `owners`.
        struct Part { let pointer: UnsafeMutablePointer<Int16>, blocksPerLine: Int, v: Int, h: Int, dc: JPEGHuffman.Lookup?, ac: JPEGHuffman.Lookup? }
        let owners: [AnyObject] = indices.flatMap { i -> [AnyObject] in
            let c = components[i]
            return [c.coefficients] + [dcTables[c.dcTable], acTables[c.acTable]].compactMap { $0 }
        }
        let parts = indices.map { i in
            let c = components[i]
            return Part(pointer: c.coefficients.pointer, blocksPerLine: c.blocksPerLine, v: single ? 1 : c.v, h: single ? 1 : c.h,
                        dc: dcTables[c.dcTable]?.lookup, ac: acTables[c.acTable]?.lookup)
        }
        let progressive = self.progressive, restartInterval = self.restartInterval
        let end: Int = try withExtendedLifetime(owners) {
            try bytes.withUnsafeBufferPointer { data in
                try parts.withUnsafeBufferPointer { parts in
                    try JPEGDecoder.zigzag.withUnsafeBufferPointer { zigzag in
                        var reader = JPEGBitReader(data, at: position)
                        let zz = zigzag.baseAddress!
                        var predictors = (0, 0, 0, 0)  // one per part of the scan (≤ 4)
                        var eobRun = 0
                        do {
                            for unit in 0..<(unitsPerLine * unitsPerColumn) {
                                if restartInterval > 0, unit > 0, unit % restartInterval == 0 {
                                    guard reader.restart() else { throw fail("a restart marker is missing (corrupt data)") }
                                    predictors = (0, 0, 0, 0)
                                    eobRun = 0
                                }
                                let (row, column) = (unit / unitsPerLine, unit % unitsPerLine)
                                for (i, c) in parts.enumerated() {
                                    try withUnsafeMutableBytes(of: &predictors) { raw in
                                        let predictor = raw.baseAddress!.assumingMemoryBound(to: Int.self) + i
                                        for by in 0..<c.v {
                                            for bx in 0..<c.h {
                                                let b = c.pointer + ((row * c.v + by) * c.blocksPerLine + column * c.h + bx) * 64
                                                if !progressive {
                                                    try Self.decodeBaseline(b, &reader, &predictor.pointee, dc: c.dc!, ac: c.ac!, zigzag: zz)
                                                } else if ss == 0 {
                                                    try Self.decodeDC(b, &reader, &predictor.pointee, table: c.dc, refine: ah > 0, al: al)
                                                } else if ah == 0 {
                                                    try Self.decodeACFirst(b, &reader, &eobRun, table: c.ac!, ss: ss, se: se, al: al, zigzag: zz)
                                                } else {
                                                    try Self.decodeACRefine(b, &reader, &eobRun, table: c.ac!, ss: ss, se: se, al: al, zigzag: zz)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        } catch let t as Truncated {
                            throw fail(t.message)
                        }
                        return reader.position
                    }
                }
            }
        }
        position = end
    }

    /// One block of a sequential scan (F.2.2): DC difference, then run/size coded AC coefficients.
    @inline(__always) static func decodeBaseline(_ block: UnsafeMutablePointer<Int16>, _ r: inout JPEGBitReader, _ predictor: inout Int,
                                          dc: JPEGHuffman.Lookup, ac: JPEGHuffman.Lookup, zigzag: UnsafePointer<Int>) throws {
        let t = try r.decode(dc)
        predictor += try r.receiveExtend(t)
        block[0] = Int16(truncatingIfNeeded: predictor)
        var k = 1
        while k < 64 {
            let rs = try r.decode(ac)
            let (run, size) = (rs >> 4, rs & 15)
            if size == 0 {
                if run != 15 { break }
                k += 16
                continue
            }
            k += run
            block[zigzag[k]] = Int16(truncatingIfNeeded: try r.receiveExtend(size))
            k += 1
        }
    }

    /// A progressive DC scan: first (the difference, shifted by Al) or refining (one bit).
    @inline(__always) static func decodeDC(_ block: UnsafeMutablePointer<Int16>, _ r: inout JPEGBitReader, _ predictor: inout Int,
                                    table: JPEGHuffman.Lookup?, refine: Bool, al: Int) throws {
        if refine {
            if try r.bits(1) != 0 { block[0] |= Int16(truncatingIfNeeded: 1 << al) }
            return
        }
        predictor += try r.receiveExtend(try r.decode(table!))
        block[0] = Int16(truncatingIfNeeded: predictor << al)
    }

    /// A progressive AC scan's first pass over Ss…Se (G.1.2.2), with end-of-band runs.
    @inline(__always) static func decodeACFirst(_ block: UnsafeMutablePointer<Int16>, _ r: inout JPEGBitReader, _ eobRun: inout Int,
                                                table: JPEGHuffman.Lookup,
                                                ss: Int, se: Int, al: Int, zigzag: UnsafePointer<Int>) throws {
        if eobRun > 0 { eobRun -= 1; return }
        var k = ss
        while k <= se {
            let rs = try r.decode(table)
            let (run, size) = (rs >> 4, rs & 15)
            if size == 0 {
                if run < 15 {
                    eobRun = (1 << run) - 1 + (try r.bits(run))
                    break
                }
                k += 16
                continue
            }
            k += run
            block[zigzag[k]] = Int16(truncatingIfNeeded: try r.receiveExtend(size) * (1 << al))
            k += 1
        }
    }

    /// A progressive AC refinement pass (G.1.2.3), as libjpeg's `decode_mcu_AC_refine`: new
    /// coefficients of ±2^Al, correction bits for those already non-zero.
    @inline(__always) static func decodeACRefine(_ block: UnsafeMutablePointer<Int16>, _ r: inout JPEGBitReader, _ eobRun: inout Int,
                                                 table: JPEGHuffman.Lookup,
                                                 ss: Int, se: Int, al: Int, zigzag: UnsafePointer<Int>) throws {
        let (p1, m1) = (Int16(truncatingIfNeeded: 1 << al), Int16(truncatingIfNeeded: -1 << al))
        var k = ss
        if eobRun == 0 {
            while k <= se {
                let rs = try r.decode(table)
                var run = rs >> 4
                var value: Int16 = 0
                if rs & 15 != 0 {
                    value = try r.bits(1) != 0 ? p1 : m1
                } else if run != 15 {
                    eobRun = (1 << run) + (try r.bits(run))
                    break
                }
                repeat {
                    let z = zigzag[k]
                    if block[z] != 0 {
                        if try r.bits(1) != 0, block[z] & p1 == 0 { block[z] &+= block[z] >= 0 ? p1 : m1 }
                    } else {
                        run -= 1
                        if run < 0 { break }
                    }
                    k += 1
                } while k <= se
                if value != 0 { block[zigzag[k]] = value }
                k += 1
            }
        }
        if eobRun > 0 {
            while k <= se {
                let z = zigzag[k]
                if block[z] != 0, try r.bits(1) != 0, block[z] & p1 == 0 { block[z] &+= block[z] >= 0 ? p1 : m1 }
                k += 1
            }
            eobRun -= 1
        }
    }
}
