import Foundation
import TIData
import XCTest

/// Compares against ids produced by the reference `tokenizers` BertWordPieceTokenizer
/// (notebooks-cli/fixtures-tokenizer.py) under the fast tokenizer's truncation. The few inputs whose
/// words the slow tokenizer (the one tianalyze follows) splits or lowercases differently, listed by
/// notebooks-cli/fixtures-seed-tokenization.py, are checked against the slow one in
/// SeedTokenizationTests instead.
final class TokenizerTests: XCTestCase {
    struct Case: Decodable {
        let a: String
        let b: String?
        let max_length: Int
        let ids: [Int]
        let type_ids: [Int]
        let mask: [Int]
        let tokens: [String]
    }
    struct Setting: Decodable { let lowercase: Bool; let cases: [Case] }

    private func expected() throws -> [Setting] {
        try JSONDecoder().decode([Setting].self, from: Fixture.data("tokenizer/expected.json"))
    }

    private func check(_ tok: WordPieceTokenizer, _ setting: Setting, label: String) {
        XCTAssertGreaterThan(setting.cases.count, 30)
        let slowDiffers = Set(SeedTokenizationTests.expected.base_vocab_differences[setting.lowercase ? "uncased" : "cased"]!)
        XCTAssertLessThan(slowDiffers.count, 5, "the slow and fast tokenizers should differ on a handful of inputs only")
        var failures = 0
        for c in setting.cases where !slowDiffers.contains(c.a) && !slowDiffers.contains(c.b ?? "") {
            let e = tok.encode(c.a, c.b, maxLength: c.max_length, truncation: .longestFirst)
            if e.inputIds != c.ids || e.tokenTypeIds != c.type_ids || e.attentionMask != c.mask {
                failures += 1
                XCTFail("\(label) \(c.a.debugDescription) / \(c.b?.debugDescription ?? "-") max \(c.max_length):\n got  \(tok.decodeTokens(e.inputIds))\n want \(c.tokens)\n types \(e.tokenTypeIds) vs \(c.type_ids)")
            }
            XCTAssertEqual(tok.decodeTokens(c.ids), c.tokens)
        }
        XCTAssertEqual(failures, 0, label)
    }

    func testUncasedVocabTxtMatchesReference() throws {
        let tok = try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/vocab.txt"))
        let setting = try XCTUnwrap(expected().first { $0.lowercase })
        check(tok, setting, label: "uncased")
    }

    func testCasedVocabTxtMatchesReference() throws {
        let tok = try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/vocab.txt"), doLowerCase: false, stripAccents: false)
        let setting = try XCTUnwrap(expected().first { !$0.lowercase })
        check(tok, setting, label: "cased")
    }

    func testTokenizerJSONMatchesReference() throws {
        let tok = try WordPieceTokenizer.load(tokenizerJSON: Fixture.url("tokenizer/tokenizer.json"))
        XCTAssertTrue(tok.basic.doLowerCase)
        XCTAssertEqual(tok.vocabSize, try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/vocab.txt")).vocabSize)
        let setting = try XCTUnwrap(expected().first { $0.lowercase })
        check(tok, setting, label: "tokenizer.json")
    }

    func testLongestFirstLengths() {
        XCTAssertEqual(WordPieceTokenizer.longestFirstLengths(3, 4, budget: 10).0, 3)
        XCTAssertTrue(WordPieceTokenizer.longestFirstLengths(4, 14, budget: 9) == (4, 5))
        XCTAssertTrue(WordPieceTokenizer.longestFirstLengths(14, 4, budget: 9) == (5, 4))
        XCTAssertTrue(WordPieceTokenizer.longestFirstLengths(14, 13, budget: 13) == (7, 6))
        XCTAssertTrue(WordPieceTokenizer.longestFirstLengths(15, 15, budget: 15) == (7, 8))
        XCTAssertTrue(WordPieceTokenizer.longestFirstLengths(5, 9, budget: 0) == (0, 0))
    }

    func testBasicTokenizerAndDecode() throws {
        let basic = BertBasicTokenizer()
        XCTAssertEqual(basic.split("Héllo,\u{00A0}WORLD!! 中文x"), ["hello", ",", "world", "!", "!", "中", "文", "x"])
        XCTAssertEqual(BertBasicTokenizer(doLowerCase: false).split("Héllo"), ["Héllo"])
        let tok = try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/vocab.txt"))
        let e = tok.encode("How are you?", "I am fine.", maxLength: 32)
        XCTAssertEqual(tok.decode(e.inputIds), "how are you ? i am fine .")
        XCTAssertEqual(tok.decodeTokens([tok.clsId, -5]), ["[CLS]", "[UNK]"])
        XCTAssertEqual(tok.tokenize("[MASK]"), ["[MASK]"])
    }

    func testModelDirectoryPrefersTokenizerJSONAndReadsConfig() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Fixture.url("tokenizer/vocab.txt"), to: dir.appendingPathComponent("vocab.txt"))
        XCTAssertEqual(try WordPieceTokenizer.load(modelDirectory: dir).tokenize("Hello"), ["hello"])
        try #"{"do_lower_case": false}"#.write(to: dir.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try WordPieceTokenizer.load(modelDirectory: dir).tokenize("Hello"), ["Hello"])
        try FileManager.default.copyItem(at: Fixture.url("tokenizer/tokenizer.json"), to: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(try WordPieceTokenizer.load(modelDirectory: dir).tokenize("Hello"), ["hello"])
        try #"{"do_lower_case": "yes"}"#.write(to: dir.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
        assertDataError(["tokenizer_config.json", "do_lower_case"]) { try WordPieceTokenizer.load(modelDirectory: dir) }
        assertDataError(["no tokenizer.json or vocab.txt"]) { try WordPieceTokenizer.load(modelDirectory: dir.appendingPathComponent("none")) }
    }

    func testBadVocabularies() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = dir.appendingPathComponent("vocab.txt")
        try "[PAD]\n[CLS]\n[SEP]\nhello\n".write(to: v, atomically: true, encoding: .utf8)
        assertDataError(["vocab.txt", "no '[UNK]' token"]) { try WordPieceTokenizer.load(vocabTxt: v) }
        assertDataError(["missing.txt", "cannot read"]) { try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("missing.txt")) }
        let j = dir.appendingPathComponent("tokenizer.json")
        try #"{"model":{"type":"BPE","vocab":{}}}"#.write(to: j, atomically: true, encoding: .utf8)
        assertDataError(["tokenizer.json", "model.type", "BPE"]) { try WordPieceTokenizer.load(tokenizerJSON: j) }
        try #"{"model":{"type":"WordPiece","vocab":{"[UNK]":-1}}}"#.write(to: j, atomically: true, encoding: .utf8)
        assertDataError(["tokenizer.json", "'[UNK]'", "non-negative integer"]) { try WordPieceTokenizer.load(tokenizerJSON: j) }
        try #"{"model":{"type":"WordPiece","vocab":{"[UNK]":0"#.write(to: j, atomically: true, encoding: .utf8)
        assertDataError(["tokenizer.json", "not valid JSON"]) { try WordPieceTokenizer.load(tokenizerJSON: j) }
        try #"{"normalizer":{"type":"Sequence"},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}"#.write(to: j, atomically: true, encoding: .utf8)
        assertDataError(["normalizer.type", "Sequence"]) { try WordPieceTokenizer.load(tokenizerJSON: j) }
    }
}
