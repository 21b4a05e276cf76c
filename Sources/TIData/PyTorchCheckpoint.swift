// Reads `pytorch_model.bin` (torch.save of a state_dict) without Python, as untrusted input, into
// the same SafeTensorsFile value the safetensors reader produces, so a checkpoint loader can
// take either. Two containers exist: the zip archive torch has written since 1.6
// (`<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/byteorder`) and the legacy stream of
// pickles followed by raw storages that older BERT checkpoints use (TorchLegacyFormat.swift).
//
// Tensors keep their element type (F32/F16/BF16/...); views are materialised row-major. The
// bytes materialised are capped relative to the file size, so no declared size can make the
// reader allocate without bound.
import Foundation

public enum PyTorchCheckpoint {
    /// Materialised tensor bytes may exceed the file size only by this factor: tensors sharing a
    /// storage (tied embeddings) are stored once but materialised once per name.
    public static let maxMaterializedRatio = 4

    public static func read(url: URL) throws -> SafeTensorsFile {
        try read(data: try MappedFile.read(url), name: url.path)
    }

    public static func read(data: Data, name: String) throws -> SafeTensorsFile {
        let bytes = data.startIndex == 0 ? data : Data(data)
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try readZip(bytes, name: name) }
        if bytes.starts(with: [0x80]) { return try TorchLegacyFormat.read(bytes, name: name) }
        throw DataError.malformed(file: name, reason: "neither a torch zip archive (PK\\3\\4) nor a legacy torch pickle stream (0x80 PROTO); first bytes: \(bytes.prefix(4).map { String($0, radix: 16) })")
    }

    private static func readZip(_ data: Data, name: String) throws -> SafeTensorsFile {
        let archive = try ZipArchive(data: data, name: name)
        let prefix = try archivePrefix(archive)
        if let order = archive.entry(prefix + "byteorder") {
            let text = String(decoding: try archive.contents(order.name), as: UTF8.self)
            guard text == "little" else {
                throw DataError.mismatch(file: name, reason: "byteorder is '\(text.prefix(16))'; only little-endian checkpoints are supported")
            }
        }
        let pickleBytes = try archive.contents(prefix + "data.pkl")
        let (pickle, end) = try PickleReader.parse(pickleBytes, name: name + ":data.pkl", policy: TorchStateDict.policy)
        guard end == pickleBytes.count else {
            throw DataError.malformed(file: name, reason: "data.pkl has \(pickleBytes.count - end) bytes after the pickle's STOP")
        }
        let records = try TorchStateDict.records(pickle, file: name)
        return try materialize(records, name: name, fileSize: data.count) { storage in
            try archive.contents(prefix + "data/" + storage.key)
        }
    }

    /// The single top-level folder every entry lives in (torch names it after the file's stem).
    private static func archivePrefix(_ archive: ZipArchive) throws -> String {
        let folders = Set(archive.entries.map { $0.name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0] })
        guard folders.count == 1, let folder = folders.first, archive.entry(folder + "/data.pkl") != nil else {
            throw DataError.malformed(file: archive.name, reason: "zip is not a torch archive: expected one top-level folder holding data.pkl, found \(folders.sorted().prefix(4))")
        }
        return folder + "/"
    }

    /// Checks every view against its storage's bytes and copies all of them into one buffer laid
    /// out like a safetensors data section.
    static func materialize(_ records: [TorchTensorRecord], name: String, fileSize: Int,
                            storageBytes: (TorchStorageRecord) throws -> Data) throws -> SafeTensorsFile {
        // Storage sizes first: they are checked against real bytes, which then bounds every view.
        var storages: [String: Data] = [:]
        for r in records where storages[r.storage.key] == nil {
            storages[r.storage.key] = try checkedStorage(r.storage, name: name, storageBytes: storageBytes)
        }
        var views: [TorchStridedView] = []
        var total = 0
        for r in records {
            let view = try TorchStridedView(r) { .malformed(file: name, reason: "tensor '\(r.name)': \($0)") }
            total += view.byteCount
            guard total <= maxMaterializedRatio * fileSize else {
                throw DataError.malformed(file: name, reason: "tensors up to '\(r.name)' would take \(total) bytes, more than \(maxMaterializedRatio)× the \(fileSize)-byte file")
            }
            views.append(view)
        }
        var out = Data(count: total)
        var infos: [TensorInfo] = []
        var at = 0
        out.withUnsafeMutableBytes { dst in
            for (r, view) in zip(records, views) {
                storages[r.storage.key]!.withUnsafeBytes { src in
                    view.copy(from: src, into: UnsafeMutableRawBufferPointer(rebasing: dst[at..<(at + view.byteCount)]))
                }
                infos.append(TensorInfo(name: r.name, dtype: r.storage.dtype, shape: view.shape, dataOffsets: at..<(at + view.byteCount)))
                at += view.byteCount
            }
        }
        return SafeTensorsFile(name: name, metadata: [:], orderedTensors: infos, data: out)
    }

    private static func checkedStorage(_ s: TorchStorageRecord, name: String,
                                       storageBytes: (TorchStorageRecord) throws -> Data) throws -> Data {
        let bytes = try storageBytes(s)
        let (expected, overflow) = s.elements.multipliedReportingOverflow(by: s.dtype.byteSize)
        guard !overflow, expected == bytes.count else {
            throw DataError.malformed(file: name, reason: "storage '\(s.key)' declares \(s.elements) \(s.dtype.rawValue) elements but holds \(bytes.count) bytes")
        }
        return bytes
    }
}
