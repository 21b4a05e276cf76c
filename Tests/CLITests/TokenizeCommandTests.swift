// `tianalyze tokenize` run as a built binary: a pair given on the command line and a GLUE TSV row
// both come out with the ids the slow Python tokenizer and the seed code's truncation produce
// (TIDataTests' seeds-expected.json), and each truncation rule is the one asked for.
import XCTest
import TITestSupport
import Foundation
import TIData

final class TokenizeCommandTests: XCTestCase {
    struct Features: Decodable { let ids: [Int]; let type_ids: [Int] }
    struct Case: Decodable { let a: String; let b: String?; let max_length: Int; let seeds: Features; let fast: Features; let same_words: Bool }
    struct Setting: Decodable { let setting: String; let cases: [Case] }
    struct Expected: Decodable { let settings: [Setting] }

    private var fixtures: URL { BuiltExecutable.packageRoot().appendingPathComponent("Tests/TIDataTests/Fixtures/tokenizer") }

    /// A pair whose ids differ between the two truncation rules (an equal-length tie).
    private func tiePair() throws -> Case {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("seeds-expected.json"))
        let uncased = try XCTUnwrap(try JSONDecoder().decode(Expected.self, from: data).settings.first { $0.setting == "uncased" })
        return try XCTUnwrap(uncased.cases.first { $0.b != nil && $0.same_words && $0.seeds.ids != $0.fast.ids && $0.b != $0.a })
    }

    /// A checkpoint folder holding only the fixture vocabulary (uncased by default).
    private func checkpoint() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("seeds-vocab.txt"), to: dir.appendingPathComponent("vocab.txt"))
        return dir
    }

    private func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try BuiltExecutable.run(["tokenize"] + args)
    }

    private func rows(_ jsonl: String) throws -> [TokenizedRow] {
        try jsonl.split(separator: "\n").map { try JSONDecoder().decode(TokenizedRow.self, from: Data($0.utf8)) }
    }

    private func assertFeatures(_ row: TokenizedRow, _ want: Features, maxLength: Int, line: UInt = #line) {
        let pad = maxLength - want.ids.count
        XCTAssertEqual(row.inputIds, want.ids + [Int](repeating: 0, count: pad), line: line)
        XCTAssertEqual(row.tokenTypeIds, want.type_ids + [Int](repeating: 0, count: pad), line: line)
        XCTAssertEqual(row.attentionMask, [Int](repeating: 1, count: want.ids.count) + [Int](repeating: 0, count: pad), line: line)
        XCTAssertEqual(row.tokens.count, maxLength, line: line)
    }

    func testPairOnTheCommandLine() throws {
        let c = try tiePair(), ckpt = try checkpoint()
        let base = ["--checkpoint", ckpt.path, "--text", c.a, "--text-pair", c.b!, "--max-seq-length", String(c.max_length)]
        let seeds = try run(base + ["--format", "jsonl"])
        XCTAssertEqual(seeds.status, 0, seeds.stderr)
        let row = try XCTUnwrap(try rows(seeds.stdout).first)
        XCTAssertEqual([row.textA, row.textB], [c.a, c.b])
        assertFeatures(row, c.seeds, maxLength: c.max_length)
        let fast = try run(base + ["--format", "jsonl", "--truncation", "longest-first"])
        assertFeatures(try XCTUnwrap(try rows(fast.stdout).first), c.fast, maxLength: c.max_length)

        let table = try run(base)
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("row 0: "), table.stdout)
        XCTAssertEqual(lines.count, 2 + c.seeds.ids.count, "heading, column titles, one line per real token")
        let ids = lines.dropFirst(2).map { Int($0.split(separator: " ")[1])! }
        XCTAssertEqual(ids, c.seeds.ids)
    }

    func testOneRowOfAGLUETSV() throws {
        let c = try tiePair(), ckpt = try checkpoint()
        let data = ckpt.appendingPathComponent("RTE")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let tsv = "index\tsentence1\tsentence2\tlabel\n0\t\(c.a)\t\(c.b!)\tentailment\n1\tsecond row\tnot shown\tnot_entailment\n"
        try tsv.write(to: data.appendingPathComponent("dev.tsv"), atomically: true, encoding: .utf8)
        let r = try run(["--checkpoint", ckpt.path, "--task", "rte", "--data-dir", data.path, "--split", "dev", "--limit", "1",
                         "--max-seq-length", String(c.max_length), "--format", "jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try rows(r.stdout)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0].row, 0)
        assertFeatures(got[0], c.seeds, maxLength: c.max_length)
    }

    func testBadInputIsOneLine() throws {
        let ckpt = try checkpoint()
        let r = try run(["--checkpoint", ckpt.path, "--task", "rtee", "--data-dir", ckpt.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--task") && r.stderr.contains("rtee"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
        let missing = try run(["--checkpoint", ckpt.appendingPathComponent("none").path, "--text", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--checkpoint") && missing.stderr.contains("none': not found"), missing.stderr)
        let empty = ckpt.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let noTokenizer = try run(["--checkpoint", empty.path, "--text", "x"])
        XCTAssertNotEqual(noTokenizer.status, 0)
        XCTAssertTrue(noTokenizer.stderr.contains("no tokenizer.json or vocab.txt"), noTokenizer.stderr)
    }
}
