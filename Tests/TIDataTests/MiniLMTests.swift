import Foundation
import TIData
import XCTest

/// Runs against the real all-MiniLM-L6-v2 files fetched by notebooks-cli/fetch-minilm.sh
/// (or the folder in TIANALYZE_MINILM_DIR); skipped when they are absent.
final class MiniLMTests: XCTestCase {
    struct Expected: Decodable {
        struct Enc: Decodable { let a: String; let b: String?; let max_length: Int; let ids: [Int]; let type_ids: [Int]; let mask: [Int]; let tokens: [String] }
        struct Sample: Decodable { let first: [Double]; let sum: Double }
        let encodings: [Enc]
        let tensor_count: Int
        let samples: [String: Sample]
    }

    private func modelDir() throws -> URL {
        let dir: URL
        if let env = ProcessInfo.processInfo.environment["TIANALYZE_MINILM_DIR"], !env.isEmpty {
            dir = URL(fileURLWithPath: env)
        } else {
            dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("third_party/minilm/model")
        }
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
            throw XCTSkip("MiniLM files not found in \(dir.path); run notebooks-cli/fetch-minilm.sh")
        }
        return dir
    }

    private func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Fixture.data("minilm/expected.json"))
    }

    func testCheckpointMatchesConfig() throws {
        let dir = try modelDir()
        let config = try HFBertConfig.load(url: dir.appendingPathComponent("config.json"))
        XCTAssertEqual([config.numHiddenLayers, config.hiddenSize, config.numAttentionHeads, config.intermediateSize, config.vocabSize],
                       [6, 384, 12, 1536, 30522])
        let file = try SafeTensorsFile.read(url: dir.appendingPathComponent("model.safetensors"))
        let exp = try expected()
        XCTAssertEqual(file.tensorNames.count, exp.tensor_count)
        XCTAssertEqual(file.metadata["format"], "pt")

        let h = config.hiddenSize, ffn = config.intermediateSize
        var want: [String: [Int]] = [
            "embeddings.word_embeddings.weight": [config.vocabSize, h],
            "embeddings.position_embeddings.weight": [config.maxPositionEmbeddings, h],
            "embeddings.token_type_embeddings.weight": [config.typeVocabSize, h],
            "embeddings.LayerNorm.weight": [h], "embeddings.LayerNorm.bias": [h],
            "pooler.dense.weight": [h, h], "pooler.dense.bias": [h],
        ]
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            for m in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                want[p + m + ".weight"] = [h, h]
                want[p + m + ".bias"] = [h]
            }
            want[p + "intermediate.dense.weight"] = [ffn, h]
            want[p + "intermediate.dense.bias"] = [ffn]
            want[p + "output.dense.weight"] = [h, ffn]
            want[p + "output.dense.bias"] = [h]
            for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
                want[p + ln + ".weight"] = [h]
                want[p + ln + ".bias"] = [h]
            }
        }
        for (name, shape) in want {
            let info = try XCTUnwrap(file.info(name), "missing \(name)")
            XCTAssertEqual(info.shape, shape, name)
            XCTAssertEqual(info.dtype, .f32, name)
        }
        // Everything else is the position_ids buffer (I64), which HF stores alongside the weights.
        XCTAssertEqual(Set(file.tensorNames).subtracting(want.keys), ["embeddings.position_ids"])

        for (name, sample) in exp.samples {
            let values = try file.values(name, as: Float.self)
            XCTAssertEqual(values.prefix(sample.first.count).map(Double.init), sample.first, name)
            let sum = values.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, sample.sum, accuracy: 1e-9 * max(1, abs(sample.sum)) + 1e-6, name)
        }
    }

    func testTokenizerMatchesReference() throws {
        let dir = try modelDir()
        let tok = try WordPieceTokenizer.load(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(tok.vocabSize, 30522)
        XCTAssertEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId], [0, 100, 101, 102])
        let exp = try expected()
        XCTAssertGreaterThanOrEqual(exp.encodings.count, 8)
        for c in exp.encodings {
            let e = tok.encode(c.a, c.b, maxLength: c.max_length, truncation: .longestFirst)  // the reference is the fast tokenizer
            XCTAssertEqual(e.inputIds, c.ids, "\(c.a): got \(tok.decodeTokens(e.inputIds)) want \(c.tokens)")
            XCTAssertEqual(e.tokenTypeIds, c.type_ids, c.a)
            XCTAssertEqual(e.attentionMask, c.mask, c.a)
        }
    }
}
