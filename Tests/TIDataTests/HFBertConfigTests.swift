import Foundation
import TIData
import XCTest

final class HFBertConfigTests: XCTestCase {
    func testMiniLMConfig() throws {
        let c = try HFBertConfig.load(url: Fixture.url("config/all-MiniLM-L6-v2.json"))
        XCTAssertEqual(c.vocabSize, 30522)
        XCTAssertEqual(c.hiddenSize, 384)
        XCTAssertEqual(c.numHiddenLayers, 6)
        XCTAssertEqual(c.numAttentionHeads, 12)
        XCTAssertEqual(c.headDim, 32)
        XCTAssertEqual(c.intermediateSize, 1536)
        XCTAssertEqual(c.maxPositionEmbeddings, 512)
        XCTAssertEqual(c.typeVocabSize, 2)
        XCTAssertEqual(c.layerNormEps, 1e-12)
        XCTAssertEqual(c.hiddenAct, "gelu")
        XCTAssertEqual(c.architectures, ["BertModel"])
        XCTAssertEqual(c.numLabels, 2)
        XCTAssertNil(c.problemType)
    }

    func testBertBaseConfigAndRoundTrip() throws {
        var c = try HFBertConfig.load(url: Fixture.url("config/bert-base-uncased.json"))
        XCTAssertEqual([c.hiddenSize, c.numHiddenLayers, c.intermediateSize, c.headDim], [768, 12, 3072, 64])
        c.id2label = [0: "contradiction", 1: "entailment", 2: "neutral"]
        c.numLabels = 3
        c.problemType = "single_label_classification"
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try c.write(to: url)
        XCTAssertEqual(try HFBertConfig.load(url: url), c)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        XCTAssertEqual(json["label2id"] as? [String: Int], ["contradiction": 0, "entailment": 1, "neutral": 2])
        XCTAssertEqual(json["num_hidden_layers"] as? Int, 12)
    }

    func testNumLabelsFromId2Label() throws {
        let c = try decode(#"{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":32,"id2label":{"0":"a","1":"b","2":"c"},"unknown_key":[1,{"x":2}]}"#)
        XCTAssertEqual(c.numLabels, 3)
        XCTAssertEqual(c.id2label?[2], "c")
    }

    private let base = #""vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":32"#

    private func decode(_ json: String) throws -> HFBertConfig {
        try HFBertConfig.decode(Data(json.utf8), file: "cfg.json")
    }

    func testMalformedConfigs() {
        let missing = base.replacingOccurrences(of: #""hidden_size":8,"#, with: "")
        assertDataError(["cfg.json", "missing required field 'hidden_size'"]) { try decode("{\(missing)}") }
        assertDataError(["cfg.json", "'vocab_size'", "Int"]) { try decode("{\(base.replacingOccurrences(of: #""vocab_size":10"#, with: #""vocab_size":"10""#))}") }
        assertDataError(["cfg.json", "not valid JSON"]) { try decode("{\(base)") }
        assertDataError(["'hidden_size'", "not divisible by num_attention_heads 3"]) {
            try decode("{\(base.replacingOccurrences(of: #""num_attention_heads":2"#, with: #""num_attention_heads":3"#))}")
        }
        assertDataError(["'hidden_act'", "unsupported activation 'swish'"]) { try decode(#"{\#(base),"hidden_act":"swish"}"#) }
        assertDataError(["'num_hidden_layers'", "must be positive"]) {
            try decode("{\(base.replacingOccurrences(of: #""num_hidden_layers":1"#, with: #""num_hidden_layers":0"#))}")
        }
        assertDataError(["'model_type'", "distilbert"]) { try decode(#"{\#(base),"model_type":"distilbert"}"#) }
        assertDataError(["'problem_type'"]) { try decode(#"{\#(base),"problem_type":"ranking"}"#) }
        assertDataError(["'id2label'", "not an integer"]) { try decode(#"{\#(base),"id2label":{"x":"a"}}"#) }
        assertDataError(["'id2label'", "num_labels 3"]) { try decode(#"{\#(base),"id2label":{"0":"a","1":"b"},"num_labels":3}"#) }
        assertDataError(["'hidden_dropout_prob'"]) { try decode(#"{\#(base),"hidden_dropout_prob":1.5}"#) }
        assertDataError(["nope.json", "cannot read"]) { try HFBertConfig.load(url: URL(fileURLWithPath: "/nonexistent/nope.json")) }
    }
}
