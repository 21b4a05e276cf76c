// `tianalyze eval --checkpoint` run as a built binary on a tiny teacher checkpoint and a tiny QAT
// run: one line per GLUE score, each equal to the Evaluator's score of the same model on the same
// examples (the student under its run's saved quantization), and bad splits as one-line errors.
import XCTest
import TITestSupport
import Foundation
import TICore
import TIData

final class EvalCommandTests: XCTestCase {
    private func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try BuiltExecutable.run(["eval", "--quiet"] + args)
    }

    private func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-evalcmd-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// "name value" lines of the output, by name.
    private func scores(_ stdout: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2 { out[String(f[0])] = String(f[1]) }
        }
        return out
    }

    private func assertPrinted(_ stdout: String, _ want: EvaluationResult, line: UInt = #line) {
        let got = scores(stdout)
        XCTAssertEqual(Set(got.keys), Set(want.extra.keys).union(["loss"]), stdout, line: line)
        for (name, value) in want.extra { XCTAssertEqual(got[name], String(format: "%.4f", value), name, line: line) }
        XCTAssertEqual(got["loss"], String(format: "%.4f", want.loss), line: line)
        XCTAssertTrue(stdout.contains(String(format: "headline %@ %.4f", want.metricName, want.metric)), stdout, line: line)
    }

    func testTeacherAndStudentRun() throws {
        let dir = tempDir()
        // The CLI reads the embedded count task at the workspace's sizes; the models are tiny.
        let cliData = SyntheticTaskGenerator(task: .count).make(train: Workspace.defaultTrainSize, dev: Workspace.defaultDevSize)
        let config = BertConfig(vocabSize: cliData.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                intermediateSize: 32, maxPositions: 32, numLabels: cliData.numLabels)
        let model = BertModel(config: config)
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let teacherDir = dir.appendingPathComponent("teacher")
        try Checkpoint.save(teacher, config: config, to: teacherDir)
        let dev = Array(cliData.dev.prefix(300))

        let t = try run(["--checkpoint", teacherDir.path, "--task", "count", "--samples", "300"])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.hasPrefix("full-precision checkpoint on count dev (300 examples)"), t.stdout)
        assertPrinted(t.stdout, Evaluator<Float>(model: model, task: cliData).evaluate(teacher, quantization: .fullPrecision, examples: dev))

        // A QAT run (trained on a small set of the same task), read as its student.
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 1; cfg.batchSize = 16; cfg.evalEvery = 4; cfg.devProbeSize = 16
        let small = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let runDir = dir.appendingPathComponent("run")
        _ = try QATRun(model: model, task: small, teacher: teacher, config: cfg).run(outDir: runDir, teacherPath: teacherDir.path, teacherDevMetric: nil)
        let s = try QATRun.loadStudent(runDir)
        XCTAssertFalse(s.quantization.weights.isEmpty, "the student is scored quantized")
        let st = try run(["--checkpoint", runDir.path, "--task", "count", "--samples", "300"])
        XCTAssertEqual(st.status, 0, st.stderr)
        XCTAssertTrue(st.stdout.hasPrefix("TI-G student on count dev"), st.stdout)
        let want = Evaluator<Float>(model: s.model, task: cliData).evaluate(s.parameters, quantization: s.quantization, examples: dev)
        assertPrinted(st.stdout, want)
        XCTAssertNotEqual(scores(st.stdout)["loss"], scores(t.stdout)["loss"], "student and teacher were not told apart")

        // The train split.
        let tr = try run(["--checkpoint", runDir.path, "--task", "count", "--split", "train", "--samples", "100"])
        XCTAssertEqual(tr.status, 0, tr.stderr)
        assertPrinted(tr.stdout, Evaluator<Float>(model: s.model, task: cliData)
            .evaluate(s.parameters, quantization: s.quantization, examples: Array(cliData.train.prefix(100))))

        // Only MNLI has a mismatched dev set: one line naming the flag.
        let mm = try run(["--checkpoint", teacherDir.path, "--task", "count", "--split", "dev-mismatched"])
        XCTAssertNotEqual(mm.status, 0)
        XCTAssertTrue(mm.stderr.contains("--split") && mm.stderr.contains("MNLI"), mm.stderr)
        XCTAssertEqual(mm.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, mm.stderr)
        let both = try run(["--checkpoint", teacherDir.path, "--load-quantized", teacherDir.path])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("exactly one of --checkpoint and --load-quantized"), both.stderr)
    }
}
