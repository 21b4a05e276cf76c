// GLUE TSVs → TaskData: embedded tasks rendered as GLUE files read back exactly, the GLUE fixture
// folders load with the right framing and truncation, and bad rows and wrong models are refused
// with errors that name the file.
import XCTest
import Foundation
import TICore
import TIData

final class GLUETaskDataTests: XCTestCase {
    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glue-taskdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// The TIDataTests fixtures, found from this file because only that target bundles them.
    private func fixture(_ relative: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TIDataTests/Fixtures").appendingPathComponent(relative)
    }

    private func assertDataError(_ fragments: [String], line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a DataError mentioning \(fragments)", line: line)
        } catch let e as DataError {
            XCTAssertFalse(e.description.contains("\n"), "not one line: \(e)", line: line)
            for f in fragments { XCTAssertTrue(e.description.contains(f), "'\(e)' does not mention '\(f)'", line: line) }
        } catch {
            XCTFail("expected DataError, got \(error)", line: line)
        }
    }

    func testRenderedEmbeddedTasksReadBackExactly() throws {
        for task in EmbeddedTask.allCases {
            let dir = try tempDir()
            let layout = try GLUETaskData.renderEmbedded(task: task, to: dir, train: 60, dev: 20, seed: 99)
            XCTAssertEqual(layout, .stsb)
            let want = SyntheticTaskGenerator(task: task, seed: 99).make(train: 60, dev: 20)
            let (got, skipped) = try GLUETaskData.loadEmbedded(task: task, dataDir: dir)
            XCTAssertEqual(skipped, 0)
            XCTAssertEqual(got.train, want.train, "\(task) train")
            XCTAssertEqual(got.dev, want.dev, "\(task) dev")
            XCTAssertEqual(got.hash, want.hash, "\(task)")
            XCTAssertEqual([got.numLabels, got.seqLen, got.vocabSize], [want.numLabels, want.seqLen, want.vocabSize], "\(task)")
            XCTAssertEqual(got.metricName, want.metricName)
            // Not vacuous: both classes/targets and both segment types occur.
            XCTAssertGreaterThan(Set(got.train.map { task.numLabels == 1 ? Int($0.target) : $0.label }).count, 2, "\(task)")
            XCTAssertEqual(Set(got.train.flatMap(\.tokenTypes)), task == .count ? [0] : [0, 1], "\(task)")
        }
    }

    func testRegressionRenderIsPlainSTSB() throws {
        let dir = try tempDir()
        try GLUETaskData.renderEmbedded(task: .pairDistance, to: dir, train: 30, dev: 10)
        let want = SyntheticTaskGenerator(task: .pairDistance).make(train: 30, dev: 10)
        let tok = try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("vocab.txt"))
        let (got, _) = try GLUETaskData.load(task: .stsb, dataDir: dir, tokenizer: tok, maxSeqLength: 27, skipBadRows: false)
        XCTAssertEqual(got.train, want.train)
        XCTAssertEqual(got.dev, want.dev)
        XCTAssertEqual(got.name, "glue-stsb")
        XCTAssertEqual(got.numLabels, 1)
        XCTAssertEqual(got.metricName, "corr")
    }

    func testTruncationKeepsFramingAndFollowsTheChosenRule() throws {
        let dir = try tempDir()
        try GLUETaskData.renderEmbedded(task: .pairCount, to: dir, train: 40, dev: 5)
        let full = SyntheticTaskGenerator(task: .pairCount).make(train: 40, dev: 5)
        var builds: [[Example]] = []
        for truncation in PairTruncation.allCases {
            let (cut, _) = try GLUETaskData.loadEmbedded(task: .pairCount, dataDir: dir, maxSeqLength: 12, truncation: truncation)
            builds.append(cut.train)
            XCTAssertEqual(cut.seqLen, 12)
            XCTAssertEqual(cut.name, truncation == .seeds ? "pair-count" : "pair-count+longest-first")
            for (c, f) in zip(cut.train, full.train) {
                let sep = f.tokens.firstIndex(of: SymbolVocabulary.sep)!
                let a = Array(f.tokens[1..<sep]), b = Array(f.tokens[(sep + 1)..<(f.tokens.count - 1)])
                let (na, nb) = truncation.keptLengths(a.count, b.count, budget: 9)
                XCTAssertEqual(c.tokens, [SymbolVocabulary.cls] + a.prefix(na) + [SymbolVocabulary.sep] + b.prefix(nb) + [SymbolVocabulary.sep])
                XCTAssertEqual(c.tokenTypes, [Int](repeating: 0, count: na + 2) + [Int](repeating: 1, count: nb + 1))
                XCTAssertEqual(c.label, f.label)
            }
        }
        XCTAssertNotEqual(builds[0], builds[1], "no tie in the data: the rules were not told apart")
        assertDataError(["leaves no room"]) { _ = try GLUETaskData.loadEmbedded(task: .pairCount, dataDir: dir, maxSeqLength: 2) }
    }

    func testGLUEFixtureFoldersLoad() throws {
        let tok = try WordPieceTokenizer.load(vocabTxt: fixture("tokenizer/vocab.txt"))
        let root = fixture("glue")
        for task in GLUETask.allCases {
            let (data, skipped) = try GLUETaskData.load(task: task, dataDir: root, tokenizer: tok, maxSeqLength: 16, skipBadRows: false)
            XCTAssertEqual(skipped, 0, "\(task)")
            let texts = try GLUEReader.read(task: task, split: "train", dataDir: root).examples
            XCTAssertEqual(data.train.count, texts.count, "\(task)")
            XCTAssertFalse(data.dev.isEmpty, "\(task)")
            XCTAssertEqual(data.name, "glue-\(task.rawValue)")
            XCTAssertEqual(data.numLabels, task.numLabels)
            XCTAssertEqual(data.vocabSize, tok.vocabSize)
            for (e, t) in zip(data.train, texts) {
                let enc = tok.encode(t.textA, t.textB, maxLength: 16)
                let n = enc.attentionMask.reduce(0, +)
                XCTAssertEqual(e.tokens, Array(enc.inputIds.prefix(n)), "\(task)")  // no padding stored
                XCTAssertEqual(e.tokenTypes, Array(enc.tokenTypeIds.prefix(n)), "\(task)")
                XCTAssertEqual(e.tokens.first, tok.clsId)
                XCTAssertEqual(e.tokens.last, tok.sepId)
                XCTAssertEqual(e.tokens.filter { $0 == tok.sepId }.count, task.isPair ? 2 : 1, "\(task)")
                if task.isRegression { XCTAssertEqual(e.target, t.target) } else { XCTAssertEqual(e.label, t.label) }
            }
        }
        let metrics = Dictionary(uniqueKeysWithValues: GLUETask.allCases.map { ($0, GLUETaskData.metricName($0)) })
        XCTAssertEqual(metrics, [.cola: "mcc", .sst2: "accuracy", .mrpc: "acc_and_f1", .stsb: "corr", .qqp: "acc_and_f1",
                                 .mnli: "accuracy", .qnli: "accuracy", .rte: "accuracy", .wnli: "accuracy"])
        let mnli = try GLUETaskData.load(task: .mnli, dataDir: root, tokenizer: tok, maxSeqLength: 16, skipBadRows: false,
                                         devSplit: "dev_mismatched").data
        XCTAssertEqual(mnli.dev.count, try GLUEReader.read(task: .mnli, split: "dev_mismatched", dataDir: root).examples.count)
    }

    /// A small MNLI folder: train.tsv, dev_matched.tsv and dev_mismatched.tsv in GLUE's layout, a vocabulary.
    private func writeMNLI(to dir: URL, mismatched: Bool = true) throws -> [String: [(String, String, String)]] {
        let header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label"
        let rows: [String: [(String, String, String)]] = [
            "train": [("a cat sat", "a cat is here", "entailment"), ("the dog ran", "the dog sat", "contradiction")],
            "dev_matched": [("a dog sat", "the cat ran", "neutral"), ("the cat sat", "a cat sat", "entailment")],
            "dev_mismatched": [("the dog is here", "a dog ran", "neutral"), ("a cat ran", "the cat sat", "contradiction"),
                               ("the cat is here", "a cat is here", "entailment")],
        ]
        for (split, examples) in rows where mismatched || split != "dev_mismatched" {
            let lines = [header] + examples.enumerated().map { i, e in "\(i)\tp\(i)\t\(i)e\tfiction\t( x )\t( y )\t(ROOT x)\t(ROOT y)\t\(e.0)\t\(e.1)\t\(e.2)\t\(e.2)" }
            try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("\(split).tsv"), atomically: true, encoding: .utf8)
        }
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "the", "cat", "dog", "sat", "ran", "is", "here"]
        try (vocab.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        return rows
    }

    func testMNLILoadsBothDevSets() throws {
        let dir = try tempDir()
        let rows = try writeMNLI(to: dir)
        let tok = try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("vocab.txt"))
        let (data, skipped) = try GLUETaskData.load(task: .mnli, dataDir: dir, tokenizer: tok, maxSeqLength: 16, skipBadRows: false)
        XCTAssertEqual(skipped, 0)
        func check(_ got: [Example], _ want: [(String, String, String)], line: UInt = #line) {
            XCTAssertEqual(got.count, want.count, line: line)
            for (e, w) in zip(got, want) {
                let enc = tok.encode(w.0, w.1, maxLength: 16)
                XCTAssertEqual(e.tokens, Array(enc.inputIds.prefix(enc.attentionMask.reduce(0, +))), line: line)
                XCTAssertEqual(e.label, GLUETask.mnli.labels.firstIndex(of: w.2), line: line)
            }
        }
        check(data.dev, rows["dev_matched"]!)
        check(data.devMismatched, rows["dev_mismatched"]!)
        XCTAssertEqual(data.devMismatched.map(\.label), [2, 0, 1])  // neutral, contradiction, entailment
        // The second dev set is part of the data's fingerprint; tasks without one keep theirs.
        var without = data
        without.devMismatched = []
        XCTAssertNotEqual(data.hash, without.hash)
        // TaskSource reads it too (what every command does).
        let viaSource = try TaskSource(name: "mnli", dataDir: dir.path, maxSeqLength: 16, skipBadRows: false).load(tokenizerDir: dir)
        XCTAssertEqual(viaSource.devMismatched, data.devMismatched)
        // Asking for the mismatched set as the dev split reads it there and nothing beside it.
        let asDev = try GLUETaskData.load(task: .mnli, dataDir: dir, tokenizer: tok, maxSeqLength: 16, skipBadRows: false,
                                          devSplit: "dev_mismatched").data
        XCTAssertEqual(asDev.dev, data.devMismatched)
        XCTAssertTrue(asDev.devMismatched.isEmpty)
        // Other tasks have none.
        XCTAssertTrue(try GLUETaskData.load(task: .rte, dataDir: fixture("glue"), tokenizer: try WordPieceTokenizer.load(vocabTxt: fixture("tokenizer/vocab.txt")),
                                            maxSeqLength: 16, skipBadRows: false).data.devMismatched.isEmpty)
        // A folder without dev_mismatched.tsv is refused with the file named.
        let partial = try tempDir()
        _ = try writeMNLI(to: partial, mismatched: false)
        assertDataError(["dev_mismatched.tsv"]) {
            _ = try GLUETaskData.load(task: .mnli, dataDir: partial, tokenizer: tok, maxSeqLength: 16, skipBadRows: false)
        }
    }

    func testMalformedRowNamesFileAndLine() throws {
        let dir = try tempDir()
        try GLUETaskData.renderEmbedded(task: .count, to: dir, train: 20, dev: 5)
        let url = dir.appendingPathComponent("train.tsv")
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        lines[4] = lines[4].replacingOccurrences(of: "\t", with: " ")  // line 5: columns run together
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        assertDataError(["train.tsv", "line 5", "columns"]) { _ = try GLUETaskData.loadEmbedded(task: .count, dataDir: dir) }
        let tok = try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("vocab.txt"))
        assertDataError(["train.tsv", "line 5"]) {
            _ = try GLUETaskData.load(task: .stsb, dataDir: dir, tokenizer: tok, maxSeqLength: 26, skipBadRows: false)
        }
        let (kept, skipped) = try GLUETaskData.loadEmbedded(task: .count, dataDir: dir, skipBadRows: true)
        XCTAssertEqual(skipped, 1)
        var want = SyntheticTaskGenerator(task: .count).make(train: 20, dev: 5).train
        want.remove(at: 3)  // line 5 = header + data rows 0...3
        XCTAssertEqual(kept.train, want)

        // A score that is not a class index is refused with its line too.
        try GLUETaskData.renderEmbedded(task: .count, to: dir, train: 20, dev: 5)
        lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        var fields = lines[2].components(separatedBy: "\t")
        fields[fields.count - 1] = "2.5"
        lines[2] = fields.joined(separator: "\t")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        assertDataError(["train.tsv", "line 3", "2.5", "class index"]) { _ = try GLUETaskData.loadEmbedded(task: .count, dataDir: dir) }
    }

    func testModelMismatchRefused() throws {
        let dir = try tempDir()
        try GLUETaskData.renderEmbedded(task: .pairCount, to: dir, train: 10, dev: 5)
        let data = try GLUETaskData.loadEmbedded(task: .pairCount, dataDir: dir).data
        let fits = BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 32, numLabels: 5)
        XCTAssertNoThrow(try data.validate(against: fits))
        var wrongVocab = fits
        wrongVocab.vocabSize = 30522  // e.g. a real BERT checkpoint with the symbol vocabulary's ids
        assertDataError(["/m/config.json", "vocab_size", "30522", "25"]) { try data.validate(against: wrongVocab, configFile: "/m/config.json") }
        var short = fits
        short.maxPositions = 16
        assertDataError(["max_position_embeddings", "27"]) { try data.validate(against: short) }
        var head = fits
        head.numLabels = 2
        assertDataError(["num_labels", "5"]) { try data.validate(against: head) }
        var oneType = fits
        oneType.typeVocabSize = 1
        assertDataError(["type_vocab_size"]) { try data.validate(against: oneType) }
    }
}
