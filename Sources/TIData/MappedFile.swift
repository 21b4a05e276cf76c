// A checkpoint file's bytes, mapped where the platform allows, with a read failure worded as the
// tool's one-line error naming the file (shared by the safetensors and pytorch_model.bin readers);
// a FIFO or folder in its place is refused before it is opened (InputFile).
import Foundation

enum MappedFile {
    static func read(_ url: URL) throws -> Data {
        try InputFile.read(url, mapped: true)
    }
}
