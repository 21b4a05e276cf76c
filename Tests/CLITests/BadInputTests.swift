// The built executable on bad input: one clear line naming the file or value, a non-zero exit,
// and nothing written over what was there.
import XCTest
import Foundation
import TICore
import TIData
import TITestSupport

final class BadInputTests: XCTestCase {
    /// The binary's exit status and stderr (stdout is not asserted on here).
    func run(_ args: [String]) throws -> (status: Int32, stderr: String) {
        let r = try BuiltExecutable.run(args)
        return (r.status, r.stderr)
    }

    func tempRuns() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("teacher-count"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testLoadQuantizedOfAMissingFileNamesIt() throws {
        let runs = try tempRuns()
        let r = try run(["eval", "--runs", runs.path, "--quiet", "--load-quantized", runs.appendingPathComponent("gone-int8.safetensors").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("gone-int8.safetensors"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
    }

    func testUnknownModeIsAnArgumentError() throws {
        let r = try run(["qat", "--mode", "TI-X", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("TI-X"), r.stderr)
    }

    func testMalformedConfigNamesTheFile() throws {
        let runs = try tempRuns()
        let teacher = runs.appendingPathComponent("teacher-count")
        try Data("{\"hidden_size\": 128,".utf8).write(to: teacher.appendingPathComponent("config.json"))
        try Data(count: 16).write(to: teacher.appendingPathComponent("model.safetensors"))
        let r = try run(["qat", "--runs", runs.path, "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("config.json"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
    }

    func testTruncatedSafetensorsNamesTheFileAndLeavesItAlone() throws {
        let runs = try tempRuns()
        let teacher = runs.appendingPathComponent("teacher-count")
        let cfg = BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 64, numLabels: 8)
        try cfg.huggingFace.write(to: teacher.appendingPathComponent("config.json"))
        let junk = Data([200, 0, 0, 0, 0, 0, 0, 0]) + Data("{\"a\":".utf8)
        let weights = teacher.appendingPathComponent("model.safetensors")
        try junk.write(to: weights)
        let r = try run(["hessian", "--runs", runs.path, "--at", "init", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("model.safetensors"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: weights), junk, "a failed read must not touch the file")
    }

    func testUnknownLandscapeModeNamesIt() throws {
        let r = try run(["landscape", "--compare", "KD,XX", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(oneLine(r.stderr), "Error: --mode/--compare 'XX': unknown mode (expected one of \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")), optionally :OI|:CI|:MI)")
    }

    private func oneLine(_ stderr: String, line: UInt = #line) -> String {
        let lines = stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, stderr, line: line)
        return lines.first.map(String.init) ?? ""
    }

    /// Library option errors reach the user as one line naming the flag, before any training starts.
    func testBadOptionValuesNameTheirFlags() throws {
        let runs = try tempRuns()
        let cases: [([String], String)] = [
            (["finetune", "--task", "nope"], "Error: --task 'nope': unknown task (expected one of "),
            (["finetune", "--task", "cola"], "Error: --data-dir: GLUE task 'cola' needs its data directory"),
            (["probe", "--bench", "xl"], "Error: --bench 'xl': expected default, minilm or base"),
            (["hessian", "--top-k", "0"], "Error: --top-k '0': expected 1...100 eigenvalues"),
            (["hessian", "--trace-probes", "2"], "Error: --trace-probes '2': expected 0 (skip) or 3...1000000 probes"),
            (["probe", "--top-k", "1", "--tol=-1"], "Error: --tol '-1.0': expected a finite tolerance in (0, 1)"),
        ]
        for (args, prefix) in cases {
            let r = try run(args + ["--runs", runs.path, "--quiet"])
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(oneLine(r.stderr).hasPrefix(prefix), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs.path), ["teacher-count"], "nothing trained or written")
    }

    func testUnknownPrecisionIsAnArgumentError() throws {
        let r = try run(["hessian", "--precision", "f16", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'f16' is invalid for '--precision"), r.stderr)
    }

    /// Progress and notes reach stderr through the CLI's receiver, in the established line format
    /// (a tiny teacher in place, so that nothing is trained on demand).
    func testHessianProgressLinesAndNotes() throws {
        let runs = try tempRuns()
        let cfg = BertConfig(vocabSize: SymbolVocabulary.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8,
                             maxPositions: 64, numLabels: 8)
        try Checkpoint.save(BertModel(config: cfg).initialParameters(seed: 1, std: 0.3), config: cfg, to: runs.appendingPathComponent("teacher-count"))
        let r = try run(["hessian", "--runs", runs.path, "--at", "init", "--mode", "KD", "--samples", "4", "--batch-size", "4",
                         "--top-k", "1", "--max-iter", "3", "--tol", "1e-12", "--lanczos-steps", "0", "--trace-probes", "3", "--per-layer"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let progress = lines.filter { $0.hasPrefix("hessian KD ") }
        let counted = try NSRegularExpression(pattern: #"^hessian KD [1-9]/9 \(\d+%\) elapsed \d+:\d\d eta \d+:\d\d \S.*$"#)
        XCTAssertFalse(progress.isEmpty, r.stderr)
        for l in progress { XCTAssertEqual(counted.numberOfMatches(in: l, range: NSRange(l.startIndex..., in: l)), 1, l) }
        XCTAssertTrue(progress.last!.hasPrefix("hessian KD 9/9 (100%)"), r.stderr)
        let notes = lines.filter { !$0.hasPrefix("hessian KD ") }
        XCTAssertEqual(notes.map { $0.split(separator: ":")[0] }, ["per-layer embeddings", "per-layer layer.0", "per-layer head"], r.stderr)
    }
}
