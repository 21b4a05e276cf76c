// The model code is built from HuggingFace `config.json` files, so a typo'd or foreign config
// must fail at load with the field named, not as a shape mismatch deep inside a forward pass.
// Fields HF treats as optional get HF's BertConfig defaults; sizes have none, because guessing
// a hidden size silently builds the wrong network.
import Foundation

public struct HFBertConfig: Codable, Equatable, Sendable {
    public static let supportedActivations: Set<String> = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"]
    public static let supportedProblemTypes: Set<String> = ["regression", "single_label_classification", "multi_label_classification"]

    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var hiddenAct: String = "gelu"
    public var typeVocabSize: Int = 2
    public var layerNormEps: Double = 1e-12
    public var hiddenDropoutProb: Double = 0.1
    public var attentionProbsDropoutProb: Double = 0.1
    public var initializerRange: Double = 0.02
    public var padTokenId: Int = 0
    public var positionEmbeddingType: String = "absolute"
    public var modelType: String = "bert"
    public var architectures: [String]? = nil
    public var problemType: String? = nil
    /// Label names by class index; HF stores the keys as strings ("0", "1", ...).
    public var id2label: [Int: String]? = nil
    /// Explicit `num_labels`, else the size of `id2label`, else HF's default of 2.
    public var numLabels: Int = 2

    public var headDim: Int { hiddenSize / max(numAttentionHeads, 1) }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                intermediateSize: Int, maxPositionEmbeddings: Int = 512, numLabels: Int = 2) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.numLabels = numLabels
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", hiddenAct = "hidden_act"
        case typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps"
        case hiddenDropoutProb = "hidden_dropout_prob", attentionProbsDropoutProb = "attention_probs_dropout_prob"
        case initializerRange = "initializer_range", padTokenId = "pad_token_id"
        case positionEmbeddingType = "position_embedding_type", modelType = "model_type"
        case architectures, problemType = "problem_type", id2label, label2id, numLabels = "num_labels"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maxPositionEmbeddings = try c.decode(Int.self, forKey: .maxPositionEmbeddings)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? typeVocabSize
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
        hiddenDropoutProb = try c.decodeIfPresent(Double.self, forKey: .hiddenDropoutProb) ?? hiddenDropoutProb
        attentionProbsDropoutProb = try c.decodeIfPresent(Double.self, forKey: .attentionProbsDropoutProb) ?? attentionProbsDropoutProb
        initializerRange = try c.decodeIfPresent(Double.self, forKey: .initializerRange) ?? initializerRange
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? padTokenId
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? positionEmbeddingType
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? modelType
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        problemType = try c.decodeIfPresent(String.self, forKey: .problemType)
        if let raw = try c.decodeIfPresent([String: String].self, forKey: .id2label) {
            var map: [Int: String] = [:]
            for (k, v) in raw {
                guard let i = Int(k) else {
                    throw DecodingError.dataCorruptedError(forKey: .id2label, in: c, debugDescription: "key '\(k)' is not an integer class index")
                }
                map[i] = v
            }
            id2label = map
        }
        numLabels = try c.decodeIfPresent(Int.self, forKey: .numLabels) ?? id2label?.count ?? numLabels
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(typeVocabSize, forKey: .typeVocabSize)
        try c.encode(layerNormEps, forKey: .layerNormEps)
        try c.encode(hiddenDropoutProb, forKey: .hiddenDropoutProb)
        try c.encode(attentionProbsDropoutProb, forKey: .attentionProbsDropoutProb)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encode(padTokenId, forKey: .padTokenId)
        try c.encode(positionEmbeddingType, forKey: .positionEmbeddingType)
        try c.encode(modelType, forKey: .modelType)
        try c.encodeIfPresent(architectures, forKey: .architectures)
        try c.encodeIfPresent(problemType, forKey: .problemType)
        if let id2label {
            try c.encode(Dictionary(uniqueKeysWithValues: id2label.map { (String($0.key), $0.value) }), forKey: .id2label)
            // HF writes both directions; readers such as pipelines look up label2id.
            try c.encode(Dictionary(id2label.map { ($0.value, $0.key) }, uniquingKeysWith: min), forKey: .label2id)
        }
        try c.encode(numLabels, forKey: .numLabels)
    }

    /// Loads and validates; every failure is one DataError line naming the file and field.
    public static func load(url: URL) throws -> HFBertConfig {
        // Real configs are a few kB; the bound keeps a hostile path from being read whole.
        try decode(InputFile.read(url, limit: 16 << 20), file: url.path)
    }

    /// Integer fields, whose JSON numbers must be integers that fit in 64 bits (Foundation would
    /// reject "1e400" only as "not valid JSON", naming no field).
    static let integerFields: [CodingKeys] = [.vocabSize, .hiddenSize, .numHiddenLayers, .numAttentionHeads, .intermediateSize,
                                              .maxPositionEmbeddings, .typeVocabSize, .padTokenId, .numLabels]

    /// Syntax and integer fields checked with the project's own parser, which keeps number text.
    static func precheck(_ data: Data, file: String) throws {
        let root: JSONValue
        do { root = try JSONParser.parse([UInt8](data)) } catch let e as JSONSyntaxError {
            throw DataError.malformed(file: file, reason: "not valid JSON: \(e.message) at byte \(e.offset)")
        }
        guard case .object(let members) = root else { throw DataError.malformed(file: file, reason: "expected a JSON object, found \(root.kind)") }
        for key in integerFields {
            guard case .number(let text)? = members.last(where: { $0.key == key.rawValue })?.value, Int(text) == nil else { continue }
            throw DataError.malformed(file: file, reason: "field '\(key.rawValue)': expected an integer that fits in 64 bits, found \(text.prefix(40))")
        }
    }

    public static func decode(_ data: Data, file: String) throws -> HFBertConfig {
        try precheck(data, file: file)
        let config: HFBertConfig
        do {
            config = try JSONDecoder().decode(HFBertConfig.self, from: data)
        } catch let e as DecodingError {
            throw DataError.malformed(file: file, reason: FileErrors.describe(e))
        }
        try config.validate(file: file)
        return config
    }

    /// Writes pretty, key-sorted JSON atomically.
    public func write(to url: URL) throws {
        try validate(file: url.path)
        try AtomicFile.writeJSON(self, to: url)
    }

    public func validate(file: String) throws {
        func bad(_ field: String, _ reason: String) -> DataError { .mismatch(file: file, reason: "field '\(field)': \(reason)") }
        let positives: [(String, Int)] = [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
            ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
            ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize), ("num_labels", numLabels),
        ]
        for (field, v) in positives where v <= 0 { throw bad(field, "must be positive, got \(v)") }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw bad("hidden_size", "\(hiddenSize) is not divisible by num_attention_heads \(numAttentionHeads)")
        }
        guard Self.supportedActivations.contains(hiddenAct) else {
            throw bad("hidden_act", "unsupported activation '\(hiddenAct)' (supported: \(Self.supportedActivations.sorted().joined(separator: ", ")))")
        }
        guard modelType == "bert" else { throw bad("model_type", "unsupported model type '\(modelType)' (expected 'bert')") }
        guard positionEmbeddingType == "absolute" else {
            throw bad("position_embedding_type", "unsupported '\(positionEmbeddingType)' (expected 'absolute')")
        }
        guard layerNormEps > 0, layerNormEps.isFinite else { throw bad("layer_norm_eps", "must be positive, got \(layerNormEps)") }
        for (field, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
        where !(p >= 0 && p < 1) {
            throw bad(field, "must be in [0, 1), got \(p)")
        }
        guard (0..<vocabSize).contains(padTokenId) else { throw bad("pad_token_id", "\(padTokenId) is outside the vocabulary of \(vocabSize)") }
        if let problemType, !Self.supportedProblemTypes.contains(problemType) {
            throw bad("problem_type", "unknown '\(problemType)' (expected one of \(Self.supportedProblemTypes.sorted().joined(separator: ", ")))")
        }
        if let id2label, id2label.count != numLabels || !id2label.keys.allSatisfy({ (0..<numLabels).contains($0) }) {
            throw bad("id2label", "keys \(id2label.keys.sorted().prefix(8))\(id2label.count > 8 ? "…" : "") do not match num_labels \(numLabels)")
        }
    }
}
