// Config sizes checked before the model is built: the floating-point parameter count against the
// parameter table itself, and hostile configs refused with the field that makes them too big.
import XCTest
import TICore
import TIData

final class ModelSizeTests: XCTestCase {
    func config(vocab: Int = 30522, hidden: Int = 768, layers: Int = 12, heads: Int = 12, ffn: Int = 3072, positions: Int = 512,
                labels: Int = 2) -> BertConfig {
        BertConfig(vocabSize: vocab, hiddenSize: hidden, numLayers: layers, numHeads: heads, intermediateSize: ffn,
                   maxPositions: positions, numLabels: labels)
    }

    func testTheCountMatchesTheParameterTable() {
        for c in [config(), config(vocab: 25, hidden: 8, layers: 1, heads: 2, ffn: 8, positions: 64, labels: 8),
                  config(vocab: 11, hidden: 16, layers: 3, heads: 4, ffn: 40, positions: 7, labels: 1)] {
            XCTAssertEqual(ModelSize(c).parameters, Double(c.parameterLayout.count), "\(c)")
        }
        // BERT-base for sequence classification with 2 labels, as transformers counts it.
        XCTAssertEqual(ModelSize(config()).parameters, 109_483_778)
    }

    func refusal(_ c: BertConfig) -> String {
        do { try c.checkSize(file: "config.json"); return "accepted" } catch { return "\(error)" }
    }

    func testHostileSizesAreRefusedNamingTheField() {
        let cases: [(BertConfig, String)] = [
            (config(vocab: 1 << 62), "field 'vocab_size' (4611686018427387904)"),
            (config(layers: 1_000_000_000), "field 'num_hidden_layers' (1000000000)"),
            (config(ffn: 1_000_000_000_000), "field 'intermediate_size' (1000000000000)"),
            (config(positions: 1 << 62), "field 'max_position_embeddings'"),
            (config(labels: 1_000_000_000_000), "field 'num_labels'"),
            (config(hidden: 1 << 40, heads: 1), "field 'hidden_size'"),
        ]
        for (c, field) in cases {
            let m = refusal(c)
            XCTAssertTrue(m.hasPrefix("config.json: too large: \(field)") && m.contains("needs an estimated") && m.contains("this machine has"), m)
        }
    }

    func testRealModelsFit() {
        XCTAssertEqual(refusal(config()), "accepted", "BERT-base")
        XCTAssertEqual(refusal(config(hidden: 312, layers: 4, ffn: 1200)), "accepted", "TinyBERT-4L")
    }

    func testTheEstimateCountsParametersAndActivations() {
        let c = config(vocab: 25, hidden: 8, layers: 1, heads: 2, ffn: 8, positions: 64, labels: 8)
        let s = ModelSize(c)
        // Per layer 12h + 3f floats per token plus 3 attention-score tensors, plus 4h per token of embeddings.
        let tokens: Double = 32 * 16
        let scores: Double = 32 * 2 * 16 * 16 * 3
        let perLayer: Double = tokens * (12 * 8 + 3 * 8) + scores
        let embeddings: Double = tokens * 4 * 8
        XCTAssertEqual(s.activations(batch: 32, seqLen: 16), perLayer + embeddings)
        XCTAssertEqual(s.trainingBytes(batch: 32, seqLen: 16), 4 * (6 * s.parameters + s.activations(batch: 32, seqLen: 16)))
    }
}
