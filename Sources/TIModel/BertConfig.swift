// Shape of a BERT-style encoder; the parameter table and every buffer size derive from it.
import TILinalg
import TIQuant

public struct BertConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Double
    /// 1 means a regression head (MSE), like STS-B.
    public var numLabels: Int
    public var hiddenDropout: Double
    public var attentionDropout: Double

    public init(vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
                maxPositions: Int, typeVocabSize: Int = 2, layerNormEps: Double = 1e-12, numLabels: Int,
                hiddenDropout: Double = 0.1, attentionDropout: Double = 0.1) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numLayers = numLayers
        self.numHeads = numHeads; self.intermediateSize = intermediateSize; self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize; self.layerNormEps = layerNormEps; self.numLabels = numLabels
        self.hiddenDropout = hiddenDropout; self.attentionDropout = attentionDropout
    }

    public var headDim: Int { hiddenSize / numHeads }
    public var isRegression: Bool { numLabels == 1 }

    /// Checks the invariants the kernels rely on; the message names the field.
    public func validate() throws {
        func bad(_ field: String, _ why: String) -> ModelError { .invalidConfig(field: field, reason: why) }
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numLayers),
                          ("num_attention_heads", numHeads), ("intermediate_size", intermediateSize),
                          ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabSize),
                          ("num_labels", numLabels)] where v <= 0 {
            throw bad(name, "must be positive, got \(v)")
        }
        if hiddenSize % numHeads != 0 {
            throw bad("hidden_size", "\(hiddenSize) is not divisible by num_attention_heads \(numHeads)")
        }
        if !(0..<1).contains(hiddenDropout) { throw bad("hidden_dropout_prob", "must be in [0, 1), got \(hiddenDropout)") }
        if !(0..<1).contains(attentionDropout) { throw bad("attention_probs_dropout_prob", "must be in [0, 1), got \(attentionDropout)") }
        if !(layerNormEps > 0) { throw bad("layer_norm_eps", "must be positive, got \(layerNormEps)") }
    }

    /// The embedded default student/teacher: 4 layers, hidden 128, 4 heads, FFN 512.
    public static func small(vocabSize: Int, maxPositions: Int, numLabels: Int) -> BertConfig {
        BertConfig(vocabSize: vocabSize, hiddenSize: 128, numLayers: 4, numHeads: 4, intermediateSize: 512,
                   maxPositions: maxPositions, numLabels: numLabels)
    }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(field: String, reason: String)
    case batch(String)
    case nonFinite(String)
    case invalidTask(String)

    public var description: String {
        switch self {
        case .invalidTask(let r): return r
        case .invalidConfig(let f, let r): return "config field \(f): \(r)"
        case .batch(let r): return "batch: \(r)"
        case .nonFinite(let r): return "non-finite value: \(r)"
        }
    }
}
