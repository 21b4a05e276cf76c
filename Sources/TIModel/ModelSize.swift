// How big a config's model is, computed in floating point so that a hostile config.json
// (vocab_size 2^62, num_hidden_layers 10^9) cannot overflow the count before it is refused, and
// compared with the machine before the parameter table or any buffer is built.
import TIData

public struct ModelSize: Sendable {
    public let config: BertConfig

    public init(_ config: BertConfig) { self.config = config }

    /// Parameters of BertForSequenceClassification (the same tensors as `parameterLayout`).
    public var parameters: Double {
        let h = Double(config.hiddenSize), f = Double(config.intermediateSize)
        let embeddings = (Double(config.vocabSize) + Double(config.maxPositions) + Double(config.typeVocabSize)) * h + 2 * h
        let layer = 4 * (h * h + h) + 2 * h + (f * h + f) + (h * f + h) + 2 * h
        let head = (h * h + h) + Double(config.numLabels) * (h + 1)
        return embeddings + Double(config.numLayers) * layer + head
    }

    /// Floats a training step keeps for its backward pass at `batch` sequences of `seqLen` tokens:
    /// per layer the hidden-size activations, the FFN's intermediate ones and the attention scores.
    public func activations(batch: Int, seqLen: Int) -> Double {
        let bt = Double(batch) * Double(seqLen), h = Double(config.hiddenSize), f = Double(config.intermediateSize)
        let perLayer = bt * (12 * h + 3 * f) + Double(batch) * Double(config.numHeads) * Double(seqLen) * Double(seqLen) * 3
        return Double(config.numLayers) * perLayer + bt * 4 * h
    }

    /// Bytes to train it in f32: `copies` parameter-sized buffers (weights, teacher, gradient,
    /// optimizer moments, best weights) and one step's activations.
    public func trainingBytes(batch: Int, seqLen: Int, copies: Int = 6) -> Double {
        4 * (Double(copies) * parameters + activations(batch: batch, seqLen: seqLen))
    }

    /// The size field that drives `estimate` most: the one whose replacement by BERT-base's value
    /// shrinks it the most. Named in a refusal, so the user knows which number to fix.
    public func dominantField(_ estimate: (BertConfig) -> Double) -> (name: String, value: Int) {
        let reference: [(String, WritableKeyPath<BertConfig, Int>, Int)] = [
            ("vocab_size", \.vocabSize, 30522), ("hidden_size", \.hiddenSize, 768), ("num_hidden_layers", \.numLayers, 12),
            ("intermediate_size", \.intermediateSize, 3072), ("max_position_embeddings", \.maxPositions, 512),
            ("type_vocab_size", \.typeVocabSize, 2), ("num_labels", \.numLabels, 3), ("num_attention_heads", \.numHeads, 12),
        ]
        var best = (name: "hidden_size", value: config.hiddenSize, left: Double.infinity)
        for (name, path, value) in reference where config[keyPath: path] > value {
            var c = config
            c[keyPath: path] = value
            let left = estimate(c)
            if left < best.left { best = (name, config[keyPath: path], left) }
        }
        return (best.name, best.value)
    }
}

extension BertConfig {
    /// Largest parameter count accepted regardless of memory: every offset and size of the flat
    /// parameter buffer must be exact in an Int and in the Double arithmetic that checked it.
    public static let maxParameters = Double(1 << 50)

    /// Refuses a config whose model cannot be trained on this machine (at `batch` sequences of
    /// `seqLen` tokens), naming the field that makes it too big and the estimate. Call it before
    /// building the model: `parameterLayout` would overflow on such configs.
    public func checkSize(file: String, batch: Int = 32, seqLen: Int? = nil) throws {
        let len = Swift.min(seqLen ?? 128, maxPositions)
        let size = ModelSize(self)
        let bytes = { (c: BertConfig) in ModelSize(c).trainingBytes(batch: batch, seqLen: Swift.min(len, c.maxPositions)) }
        let needed = bytes(self)
        let fits = size.parameters <= Self.maxParameters && needed <= MemoryBudget.machineBytes
        guard !fits else { return }
        let field = size.dominantField(bytes)
        let have = MemoryBudget.machineBytes
        throw DataError.tooLarge(file: file, reason: "field '\(field.name)' (\(field.value)): the model has \(String(format: "%.3g", size.parameters)) parameters and needs an estimated \(MemoryBudget.format(needed)) of memory to train, this machine has \(MemoryBudget.format(have))")
    }
}
