import Foundation
import TIData
import XCTest

/// Compares against features built by the slow Python BertTokenizer with the seed code's
/// `_truncate_seq_pair`, and the fast tokenizer's `longest_first` ones for the same inputs
/// (notebooks-cli/fixtures-seed-tokenization.py).
final class SeedTokenizationTests: XCTestCase {
    struct Features: Decodable { let ids: [Int]; let type_ids: [Int]; let tokens: [String] }
    struct Case: Decodable {
        let a: String
        let b: String?
        let max_length: Int
        let same_words: Bool
        let seeds: Features
        let fast: Features
    }
    struct Setting: Decodable { let setting: String; let lowercase: Bool; let strip_accents: Bool?; let cases: [Case] }
    struct Lowered: Decodable { let text: String; let lower: String }
    struct Expected: Decodable {
        let settings: [Setting]
        let base_vocab_differences: [String: [String]]
        let lowercase: [Lowered]
    }

    static let expected: Expected = try! JSONDecoder().decode(Expected.self, from: Fixture.data("tokenizer/seeds-expected.json"))

    private func tokenizer(_ s: Setting) throws -> WordPieceTokenizer {
        try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/seeds-vocab.txt"), doLowerCase: s.lowercase, stripAccents: s.strip_accents)
    }

    /// Number of mismatching cases; each one is reported with both token lists.
    @discardableResult
    private func check(_ tok: WordPieceTokenizer, _ cases: [Case], _ truncation: PairTruncation, label: String,
                       want: (Case) -> Features) -> Int {
        var failures = 0
        for c in cases {
            let e = tok.encode(c.a, c.b, maxLength: c.max_length, truncation: truncation)
            let f = want(c)
            let pad = c.max_length - f.ids.count
            let ok = e.inputIds == f.ids + [Int](repeating: tok.padId, count: pad)
                && e.tokenTypeIds == f.type_ids + [Int](repeating: 0, count: pad)
                && e.attentionMask == [Int](repeating: 1, count: f.ids.count) + [Int](repeating: 0, count: pad)
            if !ok {
                failures += 1
                XCTFail("\(label) \(c.a.debugDescription) / \(c.b?.debugDescription ?? "-") max \(c.max_length):\n got  \(tok.decodeTokens(e.inputIds))\n want \(f.tokens)")
            }
            XCTAssertEqual(Array(tok.decodeTokens(f.ids)), f.tokens, label)
        }
        return failures
    }

    func testSeedsMatchSlowTokenizerWithTruncateSeqPair() throws {
        XCTAssertEqual(Self.expected.settings.map(\.setting), ["uncased", "cased", "lowercase-keep-accents"])
        for s in Self.expected.settings {
            XCTAssertGreaterThan(s.cases.count, 380)
            XCTAssertEqual(check(try tokenizer(s), s.cases, .seeds, label: s.setting) { $0.seeds }, 0, s.setting)
        }
    }

    func testTokenizerJSONFlagsWithSeedLowercasing() throws {
        let tok = try WordPieceTokenizer.load(tokenizerJSON: Fixture.url("tokenizer/seeds-tokenizer.json"))
        let uncased = try XCTUnwrap(Self.expected.settings.first { $0.setting == "uncased" })
        XCTAssertEqual(check(tok, uncased.cases, .seeds, label: "seeds-tokenizer.json") { $0.seeds }, 0)
    }

    /// Where both tokenizers agree on the words, `.longestFirst` must reproduce the fast
    /// tokenizer exactly, and the two rules must really differ on some of those pairs.
    func testLongestFirstMatchesFastTokenizer() throws {
        for s in Self.expected.settings {
            let agreeing = s.cases.filter(\.same_words)
            XCTAssertGreaterThan(agreeing.count, 350, s.setting)
            XCTAssertEqual(check(try tokenizer(s), agreeing, .longestFirst, label: "\(s.setting) longest-first") { $0.fast }, 0)
            let ties = agreeing.filter { $0.b != nil && $0.seeds.ids != $0.fast.ids }
            XCTAssertGreaterThanOrEqual(ties.count, 4, "\(s.setting): no pair where the truncation rules disagree")
        }
    }

    /// The inputs this suite exists for do change ids: final sigma, NFC and never-split words.
    func testSlowAndFastTokenizersReallyDiffer() {
        let uncased = Self.expected.settings[0].cases.filter { !$0.same_words }.map(\.a)
        XCTAssertTrue(uncased.contains("ΣΊΣΥΦΟΣ."), "\(uncased)")
        XCTAssertTrue(uncased.contains("x[MASK]y [MA\u{200B}SK] [mask] [CLS]abc[SEP]"))
        let cased = Self.expected.settings[1].cases.filter { !$0.same_words }.map(\.a)
        XCTAssertTrue(cased.contains("e\u{301} é A\u{30A} Å \u{212B}"), "\(cased)")
    }

    func testPythonLowercaseMatchesStrLower() {
        XCTAssertGreaterThan(Self.expected.lowercase.count, 300)
        var failures = 0
        for c in Self.expected.lowercase {
            let got = PythonLowercase.lowercase(Array(c.text.unicodeScalars))
            if got.map(\.value) != c.lower.unicodeScalars.map(\.value) {
                failures += 1
                XCTFail("\(c.text.debugDescription): got \(String(String.UnicodeScalarView(got)).debugDescription), want \(c.lower.debugDescription)")
            }
        }
        XCTAssertEqual(failures, 0)
        // Hand-checked: final sigma before an uncased character, medial across '.', İ → i + U+0307.
        XCTAssertEqual(PythonLowercase.lowercase("ΑΣ-Β ΜΑΣ.ΚΑ Σ İ"), "ας-β μασ.κα σ i\u{307}")
        XCTAssertEqual("ΟΔΟΣ".lowercased(), "οδοσ", "Swift's lowercased() grew the final-sigma rule; PythonLowercase may delegate")
    }

    func testSeedTruncationIsThePopLoop() {
        for n1 in 0...14 {
            for n2 in 0...14 {
                for budget in 0...30 {
                    var a = n1, b = n2
                    while a + b > budget { if a > b { a -= 1 } else { b -= 1 } }
                    let kept = PairTruncation.seeds.keptLengths(n1, n2, budget: budget)
                    XCTAssertTrue(kept == (a, b), "\(n1), \(n2) into \(budget): \(kept) vs \((a, b))")
                }
            }
        }
        XCTAssertTrue(PairTruncation.seeds.keptLengths(15, 15, budget: 15) == (8, 7))
        XCTAssertTrue(PairTruncation.longestFirst.keptLengths(15, 15, budget: 15) == (7, 8))
        XCTAssertTrue(PairTruncation.seeds.keptLengths(5, 9, budget: -3) == (0, 0))
        XCTAssertEqual(PairTruncation(rawValue: "longest-first"), .longestFirst)
    }

    func testNeverSplitWordsSurviveCleanUp() throws {
        let tok = try WordPieceTokenizer.load(vocabTxt: Fixture.url("tokenizer/seeds-vocab.txt"))
        XCTAssertEqual(tok.basic.neverSplit.sorted(), ["[CLS]", "[MASK]", "[PAD]", "[SEP]", "[UNK]"])
        XCTAssertEqual(tok.tokenize("[MA\u{200B}SK] [mask]"), ["[MASK]", "[", "mask", "]"])
        XCTAssertEqual(BertBasicTokenizer().split("ΟΔΟΣ, e\u{301}"), ["οδος", ",", "e"])
    }
}
