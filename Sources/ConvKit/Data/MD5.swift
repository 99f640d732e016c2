import Foundation

/// MD5 (RFC 1321), for checking downloads against the checksums the datasets publish.
/// Not for security: MD5 is broken for that; it is what MNIST and CIFAR-10 list.
public enum MD5 {
    private static let shifts: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    // K[i] = floor(2^32 · |sin(i + 1)|)
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64((Double(1 << 32) * abs(sin(Double($0 + 1)))).rounded(.down))) }

    /// The digest of `bytes` as 32 lowercase hex digits.
    public static func hex(_ bytes: [UInt8]) -> String {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        var message = bytes
        let bitLength = UInt64(bytes.count) &* 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for i in 0..<8 { message.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        message.withUnsafeBufferPointer { m in
            var words = [UInt32](repeating: 0, count: 16)
            for block in stride(from: 0, to: m.count, by: 64) {
                for i in 0..<16 {
                    words[i] = UInt32(m[block + 4 * i]) | UInt32(m[block + 4 * i + 1]) << 8
                        | UInt32(m[block + 4 * i + 2]) << 16 | UInt32(m[block + 4 * i + 3]) << 24
                }
                var (a, b, c, d) = state
                for i in 0..<64 {
                    var f: UInt32
                    let g: Int
                    switch i {
                    case 0..<16: f = (b & c) | (~b & d); g = i
                    case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                    case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                    default: f = c ^ (b | ~d); g = (7 * i) % 16
                    }
                    f = f &+ a &+ constants[i] &+ words[g]
                    (a, d, c) = (d, c, b)
                    b = b &+ (f << shifts[i] | f >> (32 - shifts[i]))
                }
                state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
            }
        }
        return [state.0, state.1, state.2, state.3].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
            .map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
