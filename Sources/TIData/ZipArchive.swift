// Read-only view of a zip archive, as written by torch.save: entries STORED (uncompressed), so an
// entry's bytes are a slice of the file. The archive is untrusted: every offset and length is
// checked against the file before use, and each entry's CRC-32 is verified on access, so a
// damaged file is reported instead of silently yielding wrong weights.
//
// Compressed entries are refused: Foundation on Linux has no zlib inflate, and torch never
// compresses the entries it writes. ZIP64 records (used by files past 4 GiB) are understood.
import Foundation

public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// Byte range of the entry's data within the archive.
        public let range: Range<Int>
        public let crc32: UInt32
    }

    /// Label used in error messages (normally the file path).
    public let name: String
    /// Entries in central-directory order.
    public let entries: [Entry]
    private let bytes: Data
    private let index: [String: Int]

    public init(data: Data, name: String) throws {
        let bytes = data.startIndex == 0 ? data : Data(data)
        let reader = ZipBytes(bytes: bytes, name: name)
        let directory = try reader.centralDirectory()
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var offset = directory.offset
        for _ in 0..<directory.count {
            let (entry, next) = try reader.entry(at: offset, directoryEnd: directory.offset + directory.size)
            guard index[entry.name] == nil else { throw reader.bad("entry '\(entry.name)' appears twice") }
            index[entry.name] = entries.count
            entries.append(entry)
            offset = next
        }
        self.name = name
        self.entries = entries
        self.bytes = bytes
        self.index = index
    }

    public func entry(_ entryName: String) -> Entry? { index[entryName].map { entries[$0] } }

    /// The entry's bytes, after checking them against the CRC-32 recorded in the directory. The
    /// result is a slice sharing the archive's memory (no copy), so its indices start at the
    /// entry's offset: read it through `withUnsafeBytes` or iteration, not `[0]`.
    public func contents(_ entryName: String) throws -> Data {
        guard let e = entry(entryName) else {
            throw DataError.malformed(file: name, reason: "zip has no entry '\(entryName)'")
        }
        let slice = bytes[e.range]
        let crc = CRC32.checksum(slice)
        guard crc == e.crc32 else {
            throw DataError.malformed(file: name, reason: "zip entry '\(entryName)': CRC-32 is \(hex(crc)) but the directory records \(hex(e.crc32)) (file damaged)")
        }
        return slice
    }

    private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
}

/// Bounds-checked little-endian field reads plus the zip record parsers built on them.
private struct ZipBytes {
    let bytes: Data
    let name: String

    static let endSignature: UInt32 = 0x0605_4B50, zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let centralSignature: UInt32 = 0x0201_4B50, localSignature: UInt32 = 0x0403_4B50

    func bad(_ reason: String) -> DataError { .malformed(file: name, reason: "zip: \(reason)") }

    func uint(_ offset: Int, _ width: Int, _ field: String) throws -> UInt64 {
        guard offset >= 0, width <= 8, offset <= bytes.count - width else {
            throw bad("\(field) at byte \(offset) lies past the end of the \(bytes.count)-byte file")
        }
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        return v
    }

    func int(_ offset: Int, _ width: Int, _ field: String) throws -> Int {
        let v = try uint(offset, width, field)
        guard v <= UInt64(bytes.count) else { throw bad("\(field) is \(v), beyond the \(bytes.count)-byte file") }
        return Int(v)
    }

    /// Locates the central directory through the end record (and its ZIP64 form when the
    /// 32-bit fields are saturated).
    func centralDirectory() throws -> (offset: Int, size: Int, count: Int) {
        let end = try findEndRecord()
        var count = try uint(end + 10, 2, "entry count")
        var size = try uint(end + 12, 4, "central directory size")
        var offset = try uint(end + 16, 4, "central directory offset")
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let locator = end - 20
            guard locator >= 0, try uint(locator, 4, "ZIP64 locator") == Self.zip64LocatorSignature else {
                throw bad("end record has saturated fields but no ZIP64 locator precedes it")
            }
            let record = try int(locator + 8, 8, "ZIP64 end record offset")
            guard try uint(record, 4, "ZIP64 end record") == Self.zip64EndSignature else {
                throw bad("no ZIP64 end record at byte \(record)")
            }
            count = try uint(record + 32, 8, "ZIP64 entry count")
            size = try uint(record + 40, 8, "ZIP64 central directory size")
            offset = try uint(record + 48, 8, "ZIP64 central directory offset")
        }
        // Every entry occupies at least 46 directory bytes, which also bounds the count.
        guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset, count <= size / 46 else {
            throw bad("central directory (\(count) entries, \(size) bytes at \(offset)) does not fit the \(bytes.count)-byte file")
        }
        return (Int(offset), Int(size), Int(count))
    }

    /// The end-of-central-directory record is the last 22 bytes plus a comment of at most 64 KiB.
    private func findEndRecord() throws -> Int {
        guard bytes.count >= 22 else { throw bad("file is \(bytes.count) bytes, too short for a zip archive") }
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var at = bytes.count - 22
        while at >= lowest {
            if try uint(at, 4, "end record") == Self.endSignature,
               try at + 22 + int(at + 20, 2, "comment length") == bytes.count {
                return at
            }
            at -= 1
        }
        throw bad("no end-of-central-directory record (not a zip archive, or truncated)")
    }

    /// Parses the directory entry at `offset` and the local header it points to.
    func entry(at offset: Int, directoryEnd: Int) throws -> (ZipArchive.Entry, next: Int) {
        guard offset <= directoryEnd - 46, try uint(offset, 4, "directory entry") == Self.centralSignature else {
            throw bad("directory entry at byte \(offset) is missing or truncated")
        }
        let flags = try uint(offset + 8, 2, "flags"), method = try uint(offset + 10, 2, "method")
        let crc = UInt32(try uint(offset + 16, 4, "CRC-32"))
        var compressed = try uint(offset + 20, 4, "compressed size")
        var size = try uint(offset + 24, 4, "size")
        let nameLength = try int(offset + 28, 2, "name length"), extraLength = try int(offset + 30, 2, "extra length")
        let commentLength = try int(offset + 32, 2, "comment length")
        var local = try uint(offset + 42, 4, "local header offset")
        let next = offset + 46 + nameLength + extraLength + commentLength
        guard next <= directoryEnd else { throw bad("directory entry at byte \(offset) runs past the directory") }
        guard let entryName = String(validating: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self) else {
            throw bad("directory entry at byte \(offset) has a name that is not UTF-8")
        }
        func fail(_ reason: String) -> DataError { bad("entry '\(entryName)': \(reason)") }
        try readZip64Extra(at: offset + 46 + nameLength, length: extraLength, size: &size, compressed: &compressed, local: &local)
        guard flags & 1 == 0 else { throw fail("is encrypted") }
        guard method == 0 else {
            throw fail("uses compression method \(method); only stored (uncompressed) entries are supported, as torch.save writes them")
        }
        guard compressed == size else { throw fail("stored entry has compressed size \(compressed) but size \(size)") }
        let start = try dataStart(localHeader: local, fail: fail)
        guard size <= UInt64(bytes.count - start) else {
            throw fail("\(size) bytes at byte \(start) run past the end of the \(bytes.count)-byte file")
        }
        return (ZipArchive.Entry(name: entryName, range: start..<(start + Int(size)), crc32: crc), next)
    }

    /// ZIP64 extended information: 8-byte values for those 32-bit fields that are saturated, in
    /// the fixed order size, compressed size, local header offset.
    private func readZip64Extra(at start: Int, length: Int, size: inout UInt64, compressed: inout UInt64, local: inout UInt64) throws {
        var at = start
        while at + 4 <= start + length {
            let tag = try uint(at, 2, "extra tag"), fieldLength = try int(at + 2, 2, "extra length")
            let body = at + 4
            guard body + fieldLength <= start + length else { throw bad("extra field at byte \(at) runs past its entry") }
            if tag == 1 {
                var cursor = body
                func take(_ value: inout UInt64) throws {
                    guard value == 0xFFFF_FFFF else { return }
                    guard cursor + 8 <= body + fieldLength else { throw bad("ZIP64 extra field at byte \(at) is too short") }
                    value = try uint(cursor, 8, "ZIP64 value")
                    cursor += 8
                }
                try take(&size)
                try take(&compressed)
                try take(&local)
            }
            at = body + fieldLength
        }
    }

    /// Where an entry's data begins: after its local header, whose name and extra field lengths
    /// may differ from the directory's copy (torch pads the local extra field for alignment).
    private func dataStart(localHeader: UInt64, fail: (String) -> DataError) throws -> Int {
        guard bytes.count >= 30, localHeader <= UInt64(bytes.count - 30), try uint(Int(localHeader), 4, "local header") == Self.localSignature else {
            throw fail("no local header at byte \(localHeader)")
        }
        let at = Int(localHeader)
        let start = try at + 30 + int(at + 26, 2, "local name length") + int(at + 28, 2, "local extra length")
        guard start <= bytes.count else { throw fail("local header at byte \(at) runs past the end of the file") }
        return start
    }
}
