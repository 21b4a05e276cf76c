// Hand-assembled pickles and stored zip archives for the hostile-input tests: each test starts
// from a valid torch-style state_dict (checked to load) and changes exactly one thing.
import Foundation
import TIData

/// Pickle opcodes written one by one, protocol 2 like torch.save.
struct PickleBytes {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func mark() { op(0x28) }
    mutating func stop() { op(0x2E) }

    mutating func string(_ s: String) {
        op(0x58)
        let utf8 = Array(s.utf8)
        uint32(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func int(_ v: Int32) {
        op(0x4A)
        uint32(UInt32(bitPattern: v))
    }

    /// LONG1 of a full 8-byte value.
    mutating func long(_ v: Int64) {
        bytes += [0x8A, 8]
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * Int64(i)))) }
    }

    mutating func global(_ module: String, _ name: String) {
        op(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func ints(_ values: [Int64]) {
        mark()
        for v in values { long(v) }
        op(0x74)  // TUPLE
    }

    mutating func put(_ i: UInt8) { bytes += [0x71, i] }
    mutating func get(_ i: UInt8) { bytes += [0x68, i] }

    mutating func uint32(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }
}

/// One tensor of a hand-built state_dict, described the way torch pickles it.
struct TensorSpec {
    var name: String
    var storageKey = "0"
    var storageType = "FloatStorage"
    var storageElements: Int64 = 6
    var offset: Int64 = 0
    var size: [Int64] = [2, 3]
    var stride: [Int64] = [3, 1]
}

enum TorchFileBuilder {
    /// The pickle of an OrderedDict of `_rebuild_tensor_v2` calls, as torch.save writes it.
    static func stateDictPickle(_ tensors: [TensorSpec]) -> [UInt8] {
        var p = PickleBytes()
        p.global("collections", "OrderedDict")
        p.put(0)
        p.op(0x29)  // EMPTY_TUPLE
        p.op(0x52)  // REDUCE
        p.mark()
        for t in tensors { tensor(&p, t) }
        p.op(0x75)  // SETITEMS
        p.stop()
        return p.bytes
    }

    static func tensor(_ p: inout PickleBytes, _ t: TensorSpec) {
        p.string(t.name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark()
        p.string("storage")
        p.global("torch", t.storageType)
        p.string(t.storageKey)
        p.string("cpu")
        p.long(t.storageElements)
        p.op(0x74)  // TUPLE: the persistent id
        p.op(0x51)  // BINPERSID
        p.long(t.offset)
        p.ints(t.size)
        p.ints(t.stride)
        p.op(0x89)  // NEWFALSE: requires_grad
        p.get(0)    // collections.OrderedDict
        p.op(0x29)
        p.op(0x52)  // backward hooks: OrderedDict()
        p.op(0x74)  // TUPLE of arguments
        p.op(0x52)  // REDUCE
    }

    /// A torch-style zip: `archive/data.pkl`, `archive/byteorder`, `archive/data/<key>`.
    static func archive(pickle: [UInt8], storages: [String: [UInt8]], byteorder: String? = "little") -> Data {
        var entries: [(name: String, data: [UInt8])] = [("archive/data.pkl", pickle)]
        if let byteorder { entries.append(("archive/byteorder", Array(byteorder.utf8))) }
        for key in storages.keys.sorted() { entries.append(("archive/data/\(key)", storages[key]!)) }
        entries.append(("archive/version", Array("3\n".utf8)))
        return Data(StoredZip.make(entries))
    }

    /// Little-endian float32 bytes.
    static func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
    }
}

/// A minimal zip writer (stored entries only) so tests can rewrap a modified pickle. With
/// `zip64`, every 32-bit size, offset and count is saturated and carried by ZIP64 records, the
/// way writers lay out archives past 4 GiB.
enum StoredZip {
    static func make(_ entries: [(name: String, data: [UInt8])], method: UInt16 = 0, zip64: Bool = false) -> [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        func u16(_ v: UInt16, _ b: inout [UInt8]) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32, _ b: inout [UInt8]) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        func u64(_ v: Int, _ b: inout [UInt8]) { for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        let saturated: UInt32 = 0xFFFF_FFFF
        for (name, data) in entries {
            let nameBytes = Array(name.utf8), crc = data.withUnsafeBytes { CRC32.checksum($0) }
            let offset = out.count
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(method, &out); u32(0, &out)
            u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
            u16(UInt16(nameBytes.count), &out); u16(0, &out)
            out += nameBytes + data
            let size = zip64 ? saturated : UInt32(data.count)
            u32(0x0201_4B50, &directory); u16(45, &directory); u16(45, &directory); u16(0, &directory); u16(method, &directory)
            u32(0, &directory); u32(crc, &directory); u32(size, &directory); u32(size, &directory)
            u16(UInt16(nameBytes.count), &directory); u16(zip64 ? 28 : 0, &directory); u16(0, &directory); u16(0, &directory)
            u16(0, &directory); u32(0, &directory); u32(zip64 ? saturated : UInt32(offset), &directory)
            directory += nameBytes
            if zip64 {  // ZIP64 extended information: size, compressed size, local header offset
                u16(1, &directory); u16(24, &directory)
                u64(data.count, &directory); u64(data.count, &directory); u64(offset, &directory)
            }
        }
        let directoryOffset = out.count
        out += directory
        if zip64 {
            let record = out.count
            u32(0x0606_4B50, &out); u64(44, &out); u16(45, &out); u16(45, &out); u32(0, &out); u32(0, &out)
            u64(entries.count, &out); u64(entries.count, &out); u64(directory.count, &out); u64(directoryOffset, &out)
            u32(0x0706_4B50, &out); u32(0, &out); u64(record, &out); u32(1, &out)
        }
        let count = zip64 ? 0xFFFF : UInt16(entries.count)
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(count, &out); u16(count, &out)
        u32(zip64 ? saturated : UInt32(directory.count), &out); u32(zip64 ? saturated : UInt32(directoryOffset), &out); u16(0, &out)
        return out
    }

    /// Entries of a zip read back with TIData's reader (names and contents).
    static func entries(_ data: Data) throws -> [(name: String, data: [UInt8])] {
        let zip = try ZipArchive(data: data, name: "fixture")
        return try zip.entries.map { ($0.name, [UInt8](try zip.contents($0.name))) }
    }
}
