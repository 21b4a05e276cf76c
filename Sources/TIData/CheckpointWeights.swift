// The weights file of a HuggingFace checkpoint directory: `model.safetensors` when present, else
// `pytorch_model.bin` (TinyBERT and most BERT checkpoints of 2019-2021 ship only that), read
// into the same SafeTensorsFile value either way, with the naming habits of early BERT exports
// smoothed over the way transformers does and each adjustment reported as a note.
import Foundation

public enum CheckpointWeights {
    public static let safetensorsName = "model.safetensors", pytorchName = "pytorch_model.bin"

    /// The weights file found in `dir`, its tensors, and what a user should know about them.
    public static func read(in dir: URL) throws -> (url: URL, file: SafeTensorsFile, notes: [String]) {
        let safetensors = dir.appendingPathComponent(safetensorsName), pytorch = dir.appendingPathComponent(pytorchName)
        let url: URL, raw: SafeTensorsFile
        if FileManager.default.fileExists(atPath: safetensors.path) {
            (url, raw) = (safetensors, try SafeTensorsFile.read(url: safetensors))
        } else if FileManager.default.fileExists(atPath: pytorch.path) {
            (url, raw) = (pytorch, try PyTorchCheckpoint.read(url: pytorch))
        } else {
            throw DataError.io(file: dir.path, reason: "holds neither \(safetensorsName) nor \(pytorchName)")
        }
        var notes: [String] = []
        let file = renamingLayerNormGammaBeta(raw, notes: &notes)
        let extra = file.tensorNames.filter { $0.hasPrefix("fit_dense") || $0.hasPrefix("bert.fit_dense") }.sorted()
        if !extra.isEmpty {
            // TinyBERT's projection from student to teacher width, used only while distilling.
            notes.append("ignored TinyBERT's distillation projection \(extra.joined(separator: ", ")) in \(url.lastPathComponent)")
        }
        return (url, file, notes)
    }

    /// Early BERT exports (TensorFlow conversions, pytorch-pretrained-bert) name LayerNorm's
    /// parameters gamma and beta; transformers reads them as weight and bias, and so does this.
    static func renamingLayerNormGammaBeta(_ file: SafeTensorsFile, notes: inout [String]) -> SafeTensorsFile {
        var rename: [String: String] = [:]
        for name in file.tensorNames where name.contains("LayerNorm.") {
            for (old, new) in [(".gamma", ".weight"), (".beta", ".bias")] where name.hasSuffix(old) {
                let target = String(name.dropLast(old.count)) + new
                if file.info(target) == nil { rename[name] = target }
            }
        }
        guard !rename.isEmpty else { return file }
        notes.append("read \(rename.count) LayerNorm gamma/beta tensors of \(URL(fileURLWithPath: file.name).lastPathComponent) as weight/bias")
        return file.renamingTensors(rename)
    }
}
