// A checkpoint file's bytes, mapped where the platform allows, with a read failure worded as the
// tool's one-line error naming the file (shared by the safetensors and pytorch_model.bin readers).
import Foundation

enum MappedFile {
    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw DataError.io(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}
