// Integrity of state a run reads back (a QAT resume state, a finished record): a checksum written
// beside the values and compared when they are read, so a file changed after it was written (a
// flipped bit, an edited number, a planted NaN) is refused instead of silently continuing a run.
// CRC-32 per tensor: cheap at checkpoint sizes, and the mismatch names the tensor.
import Foundation
import TILinalg

public enum StateChecksum {
    /// The safetensors metadata key the checksum is stored under.
    public static let key = "tianalyze.checksum"

    /// "crc32 name:xxxxxxxx …" over each tensor's name and little-endian values.
    public static func of<T: BLASScalar>(_ tensors: [(name: String, values: [T])]) -> String {
        "crc32 " + tensors.map { t in
            let c = t.values.withUnsafeBytes { CRC32.checksum($0) }
            return "\(t.name):" + String(format: "%08x", c)
        }.joined(separator: " ")
    }

    /// Compares the checksum recorded in `file` with its tensors `names`; a file without one is
    /// accepted only when `required` is false (written before checksums existed).
    public static func verify(_ file: SafeTensorsFile, names: [String], required: Bool) throws {
        guard let recorded = file.metadata[key] else {
            if required { throw DataError.mismatch(file: file.name, reason: "no checksum recorded; refusing state of unknown integrity") }
            return
        }
        let actual = of(try names.map { (name: $0, values: try file.values($0, as: Float.self)) })
        guard actual == recorded else {
            let changed = zip(recorded.split(separator: " "), actual.split(separator: " ")).filter { $0 != $1 }
                .map { $0.1.split(separator: ":").first.map(String.init) ?? "?" }
            throw DataError.mismatch(file: file.name, reason: "checksum mismatch in \(changed.isEmpty ? "its tensors" : changed.joined(separator: ", ")): the file was changed after it was written; remove it (the run restarts) or restore it")
        }
    }
}
