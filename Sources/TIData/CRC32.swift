// CRC-32 as zip uses it (IEEE 802.3 polynomial, reflected, initial and final value all ones), so
// zip entries can be checked against their directory record without zlib. Checkpoints are
// hundreds of megabytes, so eight bytes are folded per step ("slicing by 8"): table k holds the
// CRC contribution of a byte followed by k zero bytes, and the eight lookups are independent.
import Foundation

public enum CRC32 {
    private static let tables: [[UInt32]] = {
        let base: [UInt32] = (0..<256).map { n in
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            return c
        }
        var tables = [base]
        for k in 1..<8 { tables.append((0..<256).map { i in (tables[k - 1][i] >> 8) ^ base[Int(tables[k - 1][i] & 0xFF)] }) }
        return tables
    }()
    private static let flat: [UInt32] = tables.flatMap { $0 }

    public static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        flat.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= bytes.count {
                let lo = c ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < bytes.count {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return c ^ 0xFFFF_FFFF
    }
}
