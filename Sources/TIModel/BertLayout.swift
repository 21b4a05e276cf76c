// The ordered parameter table of BertForSequenceClassification with HuggingFace names. Offsets
// into the flat buffer are resolved once into `BertParameterOffsets` so the kernels never look up strings.
// Each quantizable weight carries its `WeightSite` from here, where the name is made; nothing parses
// names to find a tensor's quantizer.
import TILinalg
import TIQuant

public enum BertNames {
    public static func layer(_ l: Int) -> String { "bert.encoder.layer.\(l)" }
}

extension BertConfig {
    public var parameterLayout: ParameterLayout {
        var t = ParameterLayout()
        let h = hiddenSize, f = intermediateSize
        func weight(_ name: String, _ shape: [Int], _ role: ParameterRole, _ site: WeightSite) {
            t.append(name, shape: shape, role: role, site: site.rawValue)
        }
        weight("bert.embeddings.word_embeddings.weight", [vocabSize, h], .embedding, .wordEmbeddings)
        weight("bert.embeddings.position_embeddings.weight", [maxPositions, h], .embedding, .positionEmbeddings)
        weight("bert.embeddings.token_type_embeddings.weight", [typeVocabSize, h], .embedding, .tokenTypeEmbeddings)
        t.append("bert.embeddings.LayerNorm.weight", shape: [h], role: .layerNormGain)
        t.append("bert.embeddings.LayerNorm.bias", shape: [h], role: .layerNormBias)
        for l in 0..<numLayers {
            let p = BertNames.layer(l)
            for (m, site) in [("query", WeightSite.query), ("key", .key), ("value", .value)] {
                weight("\(p).attention.self.\(m).weight", [h, h], .matrix, site)
                t.append("\(p).attention.self.\(m).bias", shape: [h], role: .bias)
            }
            weight("\(p).attention.output.dense.weight", [h, h], .matrix, .attentionOutput)
            t.append("\(p).attention.output.dense.bias", shape: [h], role: .bias)
            t.append("\(p).attention.output.LayerNorm.weight", shape: [h], role: .layerNormGain)
            t.append("\(p).attention.output.LayerNorm.bias", shape: [h], role: .layerNormBias)
            weight("\(p).intermediate.dense.weight", [f, h], .matrix, .intermediate)
            t.append("\(p).intermediate.dense.bias", shape: [f], role: .bias)
            weight("\(p).output.dense.weight", [h, f], .matrix, .output)
            t.append("\(p).output.dense.bias", shape: [h], role: .bias)
            t.append("\(p).output.LayerNorm.weight", shape: [h], role: .layerNormGain)
            t.append("\(p).output.LayerNorm.bias", shape: [h], role: .layerNormBias)
        }
        weight("bert.pooler.dense.weight", [h, h], .matrix, .pooler)
        t.append("bert.pooler.dense.bias", shape: [h], role: .bias)
        weight("classifier.weight", [numLabels, h], .matrix, .classifier)
        t.append("classifier.bias", shape: [numLabels], role: .bias)
        return t
    }
}

public struct LinearOffsets: Sendable { public let weight: Int, bias: Int }
public struct NormOffsets: Sendable { public let gain: Int, bias: Int }

public struct LayerOffsets: Sendable {
    public let query, key, value, attentionOutput: LinearOffsets
    public let attentionNorm: NormOffsets
    public let intermediate, output: LinearOffsets
    public let outputNorm: NormOffsets
}

/// Offsets of every tensor in the flat buffer, resolved from the layout once.
public struct BertParameterOffsets: Sendable {
    public let wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings: Int
    public let embeddingNorm: NormOffsets
    public let layers: [LayerOffsets]
    public let pooler, classifier: LinearOffsets

    public init(config c: BertConfig, layout t: ParameterLayout) {
        func lin(_ n: String) -> LinearOffsets { .init(weight: t.slot(n + ".weight").offset, bias: t.slot(n + ".bias").offset) }
        func norm(_ n: String) -> NormOffsets { .init(gain: t.slot(n + ".weight").offset, bias: t.slot(n + ".bias").offset) }
        wordEmbeddings = t.slot("bert.embeddings.word_embeddings.weight").offset
        positionEmbeddings = t.slot("bert.embeddings.position_embeddings.weight").offset
        tokenTypeEmbeddings = t.slot("bert.embeddings.token_type_embeddings.weight").offset
        embeddingNorm = norm("bert.embeddings.LayerNorm")
        layers = (0..<c.numLayers).map { l in
            let p = BertNames.layer(l)
            return LayerOffsets(
                query: lin("\(p).attention.self.query"), key: lin("\(p).attention.self.key"),
                value: lin("\(p).attention.self.value"), attentionOutput: lin("\(p).attention.output.dense"),
                attentionNorm: norm("\(p).attention.output.LayerNorm"),
                intermediate: lin("\(p).intermediate.dense"), output: lin("\(p).output.dense"),
                outputNorm: norm("\(p).output.LayerNorm"))
        }
        pooler = lin("bert.pooler.dense")
        classifier = lin("classifier")
    }
}
