// torch.save's format before the zip archive (torch < 1.6, still readable by every torch), which
// many BERT checkpoints of 2019-2020 use: five pickles back to back — the magic number, the
// format version 1001, a sys_info dict, the state_dict, the sorted list of storage keys — then
// each listed storage as an 8-byte little-endian element count followed by its raw bytes.
import Foundation

enum TorchLegacyFormat {
    /// 0x1950a86a20f9469cfc6c as a little-endian LONG1 payload.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let formatVersion = 1001
    /// Plain values only: the header pickles and the key list name no globals.
    static let plainPolicy = PicklePolicy(globals: [], callables: [], dictTypes: [])

    static func read(_ data: Data, name: String) throws -> SafeTensorsFile {
        func bad(_ reason: String) -> DataError { .malformed(file: name, reason: "legacy torch format: \(reason)") }
        let bytes = data  // zero-based: PyTorchCheckpoint.read(data:) rebases slices
        var at = 0
        func next(_ what: String, _ policy: PicklePolicy = plainPolicy) throws -> Pickle {
            let (p, end) = try PickleReader.parse(bytes, from: at, name: "\(name) (\(what) pickle)", policy: policy)
            at = end
            return p
        }
        let magicNumber = try next("magic number")
        guard case .bigInt(let m) = magicNumber[magicNumber.root], m == magic else {
            throw bad("first pickle is not torch's magic number")
        }
        let version = try next("format version")
        guard version.int(version.root) == formatVersion else {
            throw bad("format version is not \(formatVersion)")
        }
        try checkLittleEndian(try next("sys_info"), bad: bad)
        let records = try TorchStateDict.records(try next("state_dict", TorchStateDict.policy), file: name)
        let keyList = try next("storage keys")
        guard case .list(let keyIndices) = keyList[keyList.root] else { throw bad("storage key list is not a list") }
        let declared = Dictionary(records.map { ($0.storage.key, $0.storage) }, uniquingKeysWith: { a, _ in a })
        var ranges: [String: Range<Int>] = [:]
        for k in keyIndices {
            guard let key = keyList.string(k), let storage = declared[key], ranges[key] == nil else {
                throw bad("storage key list entry is not the key of a storage the state_dict uses (or repeats one)")
            }
            ranges[key] = try storageRange(bytes, at: &at, storage, bad: bad)
        }
        guard at == bytes.count else { throw bad("\(bytes.count - at) bytes follow the last storage") }
        return try PyTorchCheckpoint.materialize(records, name: name, fileSize: bytes.count) { storage in
            guard let r = ranges[storage.key] else { throw bad("storage '\(storage.key)' is missing from the storage key list") }
            return data[r]  // a slice: storages are not copied before materialising
        }
    }

    /// sys_info: {'protocol_version': 1001, 'little_endian': bool, 'type_sizes': {...}}.
    private static func checkLittleEndian(_ info: Pickle, bad: (String) -> DataError) throws {
        guard case .dict(let items) = info[info.root] else { throw bad("sys_info is not a dict") }
        let flag = items.first { info.string($0.key) == "little_endian" }.map { info[$0.value] }
        guard flag == .bool(true) else {
            throw bad(flag == .bool(false) ? "checkpoint is big-endian; only little-endian checkpoints are supported"
                                           : "sys_info has no boolean 'little_endian'")
        }
    }

    /// One storage record: its 8-byte element count (which must match the pickle's) and bytes.
    private static func storageRange(_ bytes: Data, at: inout Int, _ storage: TorchStorageRecord,
                                     bad: (String) -> DataError) throws -> Range<Int> {
        guard bytes.count - at >= 8 else { throw bad("storage '\(storage.key)' header runs past the end of the file (truncated)") }
        let count = bytes[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard count == UInt64(storage.elements) else {
            throw bad("storage '\(storage.key)' holds \(count) elements but the state_dict declares \(storage.elements)")
        }
        let (length, overflow) = storage.elements.multipliedReportingOverflow(by: storage.dtype.byteSize)
        guard !overflow, length <= bytes.count - at - 8 else {
            throw bad("storage '\(storage.key)' (\(storage.elements) \(storage.dtype.rawValue) elements) runs past the end of the file (truncated)")
        }
        at += 8 + length
        return (at - length)..<at
    }
}
