// A tiny BERT and batch for exact numerical checks in Double.
import TICore
import TILinalg
import TITestSupport

enum Tiny {
    static func config(labels: Int = 3, layers: Int = 2) -> BertConfig {
        BertConfig(vocabSize: 11, hiddenSize: 8, numLayers: layers, numHeads: 2, intermediateSize: 12,
                   maxPositions: 8, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: labels,
                   hiddenDropout: 0.1, attentionDropout: 0.1)
    }

    /// Three sequences of length 5, the last two padded, with two token types.
    static func batch(labels: Int = 3) -> Batch {
        Batch(size: 3, seqLen: 5,
              tokens: [1, 4, 7, 2, 9, 1, 3, 3, 0, 0, 1, 10, 5, 6, 0],
              tokenTypes: [0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0],
              attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0],
              labels: labels == 1 ? [] : [0, 2, 1].map { $0 % labels },
              targets: labels == 1 ? [0.3, -1.2, 2.0] : [])
    }

    /// Parameters with a larger spread than BERT's 0.02 init so that every nonlinearity is exercised.
    static func parameters(_ model: BertModel, seed: UInt64, std: Double = 0.5) -> [Double] {
        var θ: [Double] = model.initialParameters(seed: seed, std: std)
        var rng = SeededRandom(seed: seed ^ 0xABCD)
        for s in model.layout.slots where s.role == .bias || s.role == .layerNormBias || s.role == .layerNormGain {
            for i in s.range { θ[i] += 0.3 * rng.normal() }
        }
        return θ
    }

    static func direction(_ n: Int, seed: UInt64) -> [Double] { randomUnitVector(n, seed: seed) }
}

/// The task loss of a model on `Tiny.batch()` at θ: its gradient with the quantization noise recorded,
/// and central differences of the frozen stand-in (the noise replayed) along a direction.
struct FrozenStandIn {
    let objective: BertObjective<Double>
    let θ: [Double]
    let frozen = FrozenPoint<Double>()
    let gradient: [Double]

    init(model: BertModel, quantization: QuantConfig, at θ: [Double]) {
        objective = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: quantization, loss: .task))
        self.θ = θ
        gradient = objective.evaluate(θ, batch: Tiny.batch(), teacher: nil, gradient: true, frozen: frozen).gradient!
    }

    func difference(along v: [Double], step: Double) -> Double {
        centralDifference(step: step) { h in
            frozen.beginReplay()
            return objective.evaluate(Vec.adding(θ, v, scaledBy: h), batch: Tiny.batch(), teacher: nil, gradient: false, frozen: frozen).terms.total
        }
    }
}
