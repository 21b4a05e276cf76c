import Foundation
import TIData
import XCTest

final class GLUEReaderTests: XCTestCase {
    private var glueRoot: URL { Fixture.url("glue") }

    private func read(_ task: GLUETask, _ split: String) throws -> [TextExample] {
        let r = try GLUEReader.read(task: task, split: split, dataDir: glueRoot.appendingPathComponent(task.directoryName))
        XCTAssertEqual(r.skipped, 0)
        return r.examples
    }

    func testTaskProperties() {
        XCTAssertEqual(GLUETask.allCases.count, 9)
        XCTAssertEqual(GLUETask.mnli.labels, ["contradiction", "entailment", "neutral"])
        XCTAssertEqual(GLUETask.stsb.numLabels, 1)
        XCTAssertTrue(GLUETask.stsb.isRegression)
        XCTAssertFalse(GLUETask.rte.isRegression)
        // Headline first, as the seeds report and select: MRPC/QQP acc_and_f1, STS-B corr.
        XCTAssertEqual(GLUETask.cola.metrics, [.matthews])
        XCTAssertEqual(GLUETask.mrpc.metrics, [.accAndF1, .f1, .accuracy])
        XCTAssertEqual(GLUETask.qqp.metrics, [.accAndF1, .f1, .accuracy])
        XCTAssertEqual(GLUETask.stsb.metrics, [.corr, .pearson, .spearman])
        XCTAssertEqual(GLUETask.sst2.metrics, [.accuracy])
        XCTAssertEqual(GLUETask.mnli.metrics, [.accuracy])
        let s = GLUETask.mrpc.score(predictions: [1, 0, 1, 1, 0], labels: [1, 1, 0, 1, 0])
        XCTAssertEqual(Set(s.keys), [.accAndF1, .f1, .accuracy])
        XCTAssertEqual(s[.f1]!, 4.0 / 6.0, accuracy: 1e-15)
        XCTAssertEqual(s[.accuracy]!, 0.6, accuracy: 1e-15)
        XCTAssertEqual(s[.accAndF1]!, (0.6 + 4.0 / 6.0) / 2, accuracy: 1e-15)
        let r = GLUETask.stsb.score(predictions: [1, 2, 3], targets: [2, 4, 6])
        XCTAssertEqual(r[.pearson]!, 1, accuracy: 1e-12)
        XCTAssertEqual(r[.spearman]!, 1, accuracy: 1e-12)
        XCTAssertEqual(r[.corr]!, 1, accuracy: 1e-12)
    }

    func testSingleSentenceTasks() throws {
        let cola = try read(.cola, "train")
        XCTAssertEqual(cola, [
            TextExample(textA: "The cat sat on the mat.", label: 1),
            TextExample(textA: "Cat the mat on sat the.", label: 0),
            TextExample(textA: "She said \"hello\" and left.", label: 1),
        ])
        XCTAssertEqual(try read(.cola, "dev").count, 2)
        let sst = try read(.sst2, "train")
        XCTAssertEqual(sst.map(\.label), [1, 0, 1])
        XCTAssertEqual(sst[2].textA, "it 's \"fine\" ")
        XCTAssertNil(sst[0].textB)
        XCTAssertEqual(try read(.sst2, "dev"), [TextExample(textA: "not worth the ticket .", label: 0)])
    }

    func testPairTasks() throws {
        let mrpc = try read(.mrpc, "train")  // file starts with a UTF-8 BOM like the real one
        XCTAssertEqual(mrpc[0], TextExample(textA: "The firm reported higher profits.", textB: "Profits at the firm rose.", label: 1))
        XCTAssertEqual(mrpc[1].label, 0)
        let stsb = try read(.stsb, "train")
        XCTAssertEqual(stsb[0], TextExample(textA: "A man is playing a flute.", textB: "A man plays the flute.", target: 3.8))
        XCTAssertEqual(stsb[1].target, 0)
        XCTAssertNil(stsb[0].label)
        XCTAssertEqual(try read(.stsb, "dev")[0].target, 5)
        let qqp = try read(.qqp, "train")
        XCTAssertEqual(qqp[1], TextExample(textA: "Why is the sky blue?", textB: "How tall is Everest?", label: 0))
        let qnli = try read(.qnli, "train")
        XCTAssertEqual(qnli.map(\.label), [0, 1])
        XCTAssertEqual(qnli[0].textB, "The bridge was built in 1890.")
        XCTAssertEqual(try read(.rte, "train").map(\.label), [0, 1])
        XCTAssertEqual(try read(.rte, "dev")[0].textA, "All cats purr.")
        let wnli = try read(.wnli, "train")
        XCTAssertEqual(wnli.map(\.label), [1, 0])
        XCTAssertEqual(wnli[1].textB, "The case was too big.")
        XCTAssertEqual(try read(.qqp, "dev").count, 1)
        XCTAssertEqual(try read(.qnli, "dev").count, 1)
        XCTAssertEqual(try read(.wnli, "dev").count, 1)
        XCTAssertEqual(try read(.mrpc, "dev").count, 1)
    }

    func testMNLISplits() throws {
        let train = try read(.mnli, "train")
        XCTAssertEqual(train.map(\.label), [1, 0, 2])  // entailment, contradiction, neutral
        XCTAssertEqual(train[0].textA, "A man is cooking.")
        XCTAssertEqual(train[0].textB, "Someone is making food.")
        let matched = try read(.mnli, "dev_matched")
        XCTAssertEqual(matched, [TextExample(textA: "It rained.", textB: "The ground is wet.", label: 1)])
        XCTAssertEqual(try read(.mnli, "dev"), matched)
        XCTAssertEqual(try read(.mnli, "dev_mismatched").map(\.label), [0, 2])
        // dataDir may also be the glue_data root.
        XCTAssertEqual(try GLUEReader.read(task: .mnli, split: "train", dataDir: glueRoot).examples, train)
    }

    private func parse(_ task: GLUETask, _ text: String, skip: Bool = false) throws -> (examples: [TextExample], skipped: Int) {
        try GLUEReader.parse(task: task, data: Data(text.utf8), file: "bad.tsv", skipBadRows: skip)
    }

    func testMalformedRows() throws {
        let rte = "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n2\ta\tb\tmaybe\n3\ta\tb\tnot_entailment\r\n"
        assertDataError(["bad.tsv", "line 3", "expected 4 tab-separated columns, found 3"]) { try parse(.rte, rte) }
        let skipped = try parse(.rte, rte, skip: true)
        XCTAssertEqual(skipped.skipped, 2)
        XCTAssertEqual(skipped.examples.map(\.label), [0, 1])
        assertDataError(["bad.tsv", "line 2", "unknown label 'maybe'", "entailment, not_entailment"]) {
            try parse(.rte, "index\tsentence1\tsentence2\tlabel\n2\ta\tb\tmaybe\n")
        }
        let stsb = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\tfive\n"
        assertDataError(["bad.tsv", "line 2", "score 'five'"]) { try parse(.stsb, stsb) }
        assertDataError(["line 2", "score 'nan'"]) { try parse(.stsb, stsb.replacingOccurrences(of: "five", with: "nan")) }
        assertDataError(["bad.tsv", "line 1", "'sentence1'"]) { try parse(.rte, "index\tquestion\tsentence\tlabel\n") }
        assertDataError(["bad.tsv", "line 1", "only 2 columns"]) { try parse(.mnli, "a\tb\n") }
        assertDataError(["bad.tsv", "line 2", "found 1"]) { try parse(.cola, "s\t1\t\tok\n\ns\t0\t*\tbad\n") }
        assertDataError(["bad.tsv", "empty"]) { try parse(.sst2, "") }
        assertDataError(["bad.tsv", "line 2", "UTF-8"]) {
            try GLUEReader.parse(task: .sst2, data: Data("sentence\tlabel\n".utf8) + Data([0xFF, 0x09, 0x31, 0x0A]), file: "bad.tsv")
        }
        // Quotes are plain text (QUOTE_NONE): a quote does not swallow the tab after it.
        XCTAssertEqual(try parse(.sst2, "sentence\tlabel\n\"unbalanced \\ quote\t1\n").examples,
                       [TextExample(textA: "\"unbalanced \\ quote", label: 1)])
    }

    func testMissingFileAndSplit() {
        assertDataError(["train.tsv", "cannot read"]) {
            try GLUEReader.read(task: .rte, split: "train", dataDir: URL(fileURLWithPath: "/nonexistent"))
        }
        assertDataError(["no split 'dev_matched'"]) { try GLUEReader.read(task: .rte, split: "dev_matched", dataDir: glueRoot) }
    }

    /// A split with a header and no rows, or whose rows were all skipped, would train on nothing or
    /// report a metric over nothing: refused naming the file. A CRLF file reads as its LF twin.
    func testEmptySplitsAreRefusedAndCRLFIsRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-glue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let header = "index\tsentence1\tsentence2\tlabel\n"
        try Data(header.utf8).write(to: dir.appendingPathComponent("train.tsv"))
        assertDataError(["train.tsv", "no examples (only a header)"]) { try GLUEReader.read(task: .rte, split: "train", dataDir: dir) }
        try Data((header + "0\ta\tb\tmaybe\n1\tc\n").utf8).write(to: dir.appendingPathComponent("train.tsv"))
        assertDataError(["train.tsv", "no examples (all 2 rows were malformed and skipped)"]) {
            try GLUEReader.read(task: .rte, split: "train", dataDir: dir, skipBadRows: true)
        }
        let rows = "0\ta b\tc\tentailment\n1\td\te f\tnot_entailment\n"
        try Data((header + rows).utf8).write(to: dir.appendingPathComponent("train.tsv"))
        try Data((header + rows).replacingOccurrences(of: "\n", with: "\r\n").utf8).write(to: dir.appendingPathComponent("dev.tsv"))
        XCTAssertEqual(try GLUEReader.read(task: .rte, split: "dev", dataDir: dir).examples, try GLUEReader.read(task: .rte, split: "train", dataDir: dir).examples)
    }
}
