// HuggingFace-compatible checkpoints: `config.json` + `model.safetensors` with BERT parameter
// names, read with or without the `bert.` prefix and written in F32 (transformers loads them).
import Foundation
import TILinalg
import TIQuant
import TIData

extension BertConfig {
    /// The model config of a HuggingFace BERT config; only the exact-erf GELU is computed here.
    public init(huggingFace hf: HFBertConfig, file: String) throws {
        guard hf.hiddenAct == "gelu" else {
            throw DataError.mismatch(file: file, reason: "field 'hidden_act': '\(hf.hiddenAct)' is not supported (tianalyze computes BERT's exact erf GELU, 'gelu')")
        }
        let labels = hf.problemType == "regression" ? 1 : hf.numLabels
        self.init(vocabSize: hf.vocabSize, hiddenSize: hf.hiddenSize, numLayers: hf.numHiddenLayers,
                  numHeads: hf.numAttentionHeads, intermediateSize: hf.intermediateSize, maxPositions: hf.maxPositionEmbeddings,
                  typeVocabSize: hf.typeVocabSize, layerNormEps: hf.layerNormEps, numLabels: labels,
                  hiddenDropout: hf.hiddenDropoutProb, attentionDropout: hf.attentionProbsDropoutProb)
        // Before anything is sized from it: a hostile config must be refused, not allocated.
        try checkSize(file: file)
    }

    public var huggingFace: HFBertConfig {
        var hf = HFBertConfig(vocabSize: vocabSize, hiddenSize: hiddenSize, numHiddenLayers: numLayers,
                              numAttentionHeads: numHeads, intermediateSize: intermediateSize,
                              maxPositionEmbeddings: maxPositions, numLabels: numLabels)
        hf.typeVocabSize = typeVocabSize
        hf.layerNormEps = layerNormEps
        hf.hiddenDropoutProb = hiddenDropout
        hf.attentionProbsDropoutProb = attentionDropout
        hf.architectures = ["BertForSequenceClassification"]
        hf.problemType = isRegression ? "regression" : "single_label_classification"
        hf.padTokenId = 0
        return hf
    }
}

public struct LoadedCheckpoint {
    public var config: BertConfig
    public var parameters: [Float]
    public var metadata: [String: String]
    /// Things the loader did that a user must know (e.g. a fresh classifier).
    public var notes: [String]
    public var hash: String
}

public enum Checkpoint {
    public static let configFile = "config.json", weightsFile = "model.safetensors"
    /// Metadata key of the parameters' content hash, written by `save` and checked by `load`.
    public static let parametersHashKey = "tianalyze.parameters_hash"

    /// Content hash of a parameter vector (written into every run's metadata).
    public static func hash<T: BLASScalar>(_ θ: [T]) -> String {
        var h = StableHash()
        h.add(θ.map { Float($0) })
        return h.hex
    }

    public static func save(_ θ: [Float], config: BertConfig, to dir: URL, metadata: [String: String] = [:]) throws {
        let layout = config.parameterLayout
        precondition(θ.count == layout.count)
        try config.huggingFace.write(to: dir.appendingPathComponent(configFile))
        let tensors = layout.slots.map { s in (name: s.name, shape: s.shape, values: Array(θ[s.range])) }
        var meta = metadata
        meta["format"] = "pt"
        meta[parametersHashKey] = hash(θ)
        try SafeTensorsWriter.write(tensors: tensors, metadata: meta, to: dir.appendingPathComponent(weightsFile))
    }

    /// Loads a directory holding config.json and model.safetensors (or pytorch_model.bin). Missing
    /// pooler/classifier get a seeded fresh initialization (reported in `notes`); extra tensors such
    /// as position_ids are ignored.
    public static func load(_ dir: URL, seed: UInt64 = 1, numLabelsOverride: Int? = nil) throws -> LoadedCheckpoint {
        let configURL = dir.appendingPathComponent(configFile)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw DataError.io(file: configURL.path, reason: "not found (a checkpoint directory holds config.json and model.safetensors)")
        }
        var config = try BertConfig(huggingFace: HFBertConfig.load(url: configURL), file: configURL.path)
        if let n = numLabelsOverride { config.numLabels = n }
        let (weightsURL, file, weightNotes) = try CheckpointWeights.read(in: dir)
        let model = BertModel(config: config)
        var θ: [Float] = model.initialParameters(seed: seed)
        var notes: [String] = weightNotes
        var missing: [String] = []
        for slot in model.layout.slots {
            let candidates = [slot.name, slot.name.hasPrefix("bert.") ? String(slot.name.dropFirst(5)) : "bert." + slot.name]
            guard let name = candidates.first(where: { file.info($0) != nil }), let info = file.info(name) else {
                missing.append(slot.name); continue
            }
            guard info.shape == slot.shape else {
                throw DataError.mismatch(file: weightsURL.path, reason: "tensor '\(name)' has shape \(info.shape), config.json implies \(slot.shape)")
            }
            let values = try file.values(name, as: Float.self)
            θ.replaceSubrange(slot.range, with: values)
        }
        let headless = missing.allSatisfy { $0.hasPrefix("classifier.") || $0.hasPrefix("bert.pooler.") }
        guard headless else {
            throw DataError.mismatch(file: weightsURL.path, reason: "missing tensors \(missing.prefix(3).joined(separator: ", "))\(missing.count > 3 ? " and \(missing.count - 3) more" : "")")
        }
        if !missing.isEmpty {
            notes.append("initialized \(missing.joined(separator: ", ")) freshly (seed \(seed)): not in \(weightsURL.lastPathComponent)")
        }
        guard Vec.isFinite(θ) else { throw DataError.malformed(file: weightsURL.path, reason: "non-finite parameter values") }
        let h = hash(θ)
        // The hash `save` records: a file changed after it was written is refused, not analysed.
        if missing.isEmpty, let recorded = file.metadata[parametersHashKey], recorded != h {
            throw DataError.mismatch(file: weightsURL.path, reason: "checksum mismatch: the parameters hash to \(h), the file recorded \(recorded) when it was written (changed afterwards?)")
        }
        return LoadedCheckpoint(config: config, parameters: θ, metadata: file.metadata, notes: notes, hash: h)
    }
}
