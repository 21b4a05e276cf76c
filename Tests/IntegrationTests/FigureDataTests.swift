// The data behind the convergence figures: Figure 1's relative fine-tuning time and ratio against
// KD (hand values on synthetic evaluations), and the study folder FigureAssembly writes from real
// tiny QAT runs (training cross-entropy curves, relative-time columns, the step-1 intervened series).
import XCTest
import Foundation
import TIStudies
import TICore
import TILinalg

final class FigureDataTests: XCTestCase {
    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-figdata-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testStepsToTargetIsTheFirstEvaluationAtOrAboveTheTarget() {
        XCTAssertEqual(ConvergenceReport.stepsToTarget(steps: [0, 10, 20, 30], metric: [0.1, 0.5, 0.4, 0.6], target: 0.5), 10)
        XCTAssertEqual(ConvergenceReport.stepsToTarget(steps: [0, 10, 20, 30], metric: [0.1, 0.49, 0.4, 0.6], target: 0.5), 30)
        XCTAssertNil(ConvergenceReport.stepsToTarget(steps: [0, 10], metric: [0.1, 0.2], target: 0.5))
        XCTAssertEqual(ConvergenceReport.defaultTarget(teacherMetric: 0.6), 0.594, accuracy: 1e-15)
    }

    func testRelativeTimeAndRatioAgainstHandValues() throws {
        let runs = [
            // Seed 1: KD's budget is 100 iterations and it reaches 0.5 at iteration 80 (equality counts).
            RelativeTimeRun(mode: "KD", seed: 1, steps: [0, 10, 20, 40, 60, 80, 100], metric: [0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.52], totalSteps: 100),
            RelativeTimeRun(mode: "TI-G", seed: 1, steps: [0, 10, 20, 40, 60, 80, 100], metric: [0.1, 0.35, 0.51, 0.55, 0.5, 0.56, 0.57], totalSteps: 100),
            RelativeTimeRun(mode: "MI", seed: 1, steps: [0, 50, 100], metric: [0.1, 0.3, 0.49], totalSteps: 100),
            // Seed 2: its own KD run (budget 200, reached at 150) is the unit.
            RelativeTimeRun(mode: "TI-G", seed: 2, steps: [0, 25, 50], metric: [0.2, 0.6, 0.6], totalSteps: 200),
            RelativeTimeRun(mode: "KD", seed: 2, steps: [0, 50, 100, 150, 200], metric: [0, 0.3, 0.49, 0.6, 0.6], totalSteps: 200),
        ]
        let rows = try RelativeTime.rows(runs, baseline: "KD", target: 0.5)
        XCTAssertEqual(rows, [
            RelativeTimeRow(mode: "KD", seed: 1, stepsToTarget: 80, totalSteps: 100, relativeTime: 0.8, ratioVsBaseline: 1),
            RelativeTimeRow(mode: "TI-G", seed: 1, stepsToTarget: 20, totalSteps: 100, relativeTime: 0.2, ratioVsBaseline: 0.25),
            RelativeTimeRow(mode: "MI", seed: 1, stepsToTarget: nil, totalSteps: 100, relativeTime: nil, ratioVsBaseline: nil),
            RelativeTimeRow(mode: "TI-G", seed: 2, stepsToTarget: 25, totalSteps: 200, relativeTime: 0.125, ratioVsBaseline: 25.0 / 150),
            RelativeTimeRow(mode: "KD", seed: 2, stepsToTarget: 150, totalSteps: 200, relativeTime: 0.75, ratioVsBaseline: 1),
        ])
        let csv = tempDir().appendingPathComponent("fig1.csv")
        try RelativeTime.writeCSV(Array(rows.prefix(3)), to: csv)
        XCTAssertEqual(try String(contentsOf: csv, encoding: .utf8), """
            mode,seed,steps_to_target,total_steps,relative_time,ratio_vs_kd
            KD,1,80,100,0.8,1
            TI-G,1,20,100,0.2,0.25
            MI,1,,100,,

            """)
        let table = RelativeTime.table(rows, target: 0.5, targetSource: "--target", baseline: "KD", metricName: "mcc")
        XCTAssertTrue(table.contains("budget of 100 iterations"), table)
        XCTAssertTrue(table.contains("4.0×"), "TI-G needs a quarter of KD's iterations: \(table)")

        // A baseline that never reaches the target: times stay, ratios go.
        let late = try RelativeTime.rows([runs[2].with(mode: "KD"), runs[1]], baseline: "KD", target: 0.5)
        XCTAssertEqual(late.map(\.relativeTime), [nil, 0.2])
        XCTAssertEqual(late.map(\.ratioVsBaseline), [nil, nil])
        // A baseline at the target before training (step 0): no ratio either; times may pass its budget.
        let start = try RelativeTime.rows([RelativeTimeRun(mode: "KD", seed: 1, steps: [0, 10], metric: [0.6, 0.6], totalSteps: 10), runs[1]],
                                          baseline: "KD", target: 0.5)
        XCTAssertEqual(start.map(\.relativeTime), [0, 2])
        XCTAssertEqual(start.map(\.ratioVsBaseline), [nil, nil])
        XCTAssertTrue(RelativeTime.table(start, target: 0.5, targetSource: "x", baseline: "KD", metricName: "m").contains("before training"))
        XCTAssertThrowsError(try RelativeTime.rows([runs[1]], baseline: "KD", target: 0.5)) { error in
            XCTAssertEqual(error as? MissingBaselineError, MissingBaselineError(baseline: "KD", seed: 1, modes: ["TI-G"]))
            XCTAssertTrue("\(error)".contains("KD run of seed 1"), "\(error)")
        }
    }

    // MARK: - A study folder from real runs

    func tinyRun(_ mode: QATMode) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16; cfg.learningRate = 1e-3
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func table(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], Array(lines.dropFirst()))
    }

    func values(_ name: String, _ url: URL) throws -> [String] {
        let t = try table(url)
        let i = try XCTUnwrap(t.header.firstIndex(of: name), "\(url.lastPathComponent): \(t.header)")
        return t.rows.map { $0[i] }
    }

    /// Replaces evals.csv's dev_metric column, checking the run evaluated at the steps the values are for.
    func setDevMetric(_ dir: URL, _ metric: [Double]) throws {
        let url = dir.appendingPathComponent("evals.csv")
        var t = try table(url)
        XCTAssertEqual(t.rows.map { $0[0] }, ["0", "1", "2", "3", "4", "6", "8"], "the evaluation steps the hand values assume")
        let i = try XCTUnwrap(t.header.firstIndex(of: "dev_metric"))
        for r in t.rows.indices { t.rows[r][i] = String(metric[r]) }
        try ([t.header] + t.rows).map { $0.joined(separator: ",") }.joined(separator: "\n").appending("\n")
            .write(to: url, atomically: true, encoding: .utf8)
    }

    func testStudyFolderHoldsFigureOneTheTrainingCrossEntropyAndTheStepOneSeries() throws {
        let root = tempDir()
        let kd = root.appendingPathComponent("kd"), ti = root.appendingPathComponent("ti")
        _ = try tinyRun(.kd).run(outDir: kd, teacherPath: "t", teacherDevMetric: nil)
        _ = try tinyRun(.tiG).run(outDir: ti, teacherPath: "t", teacherDevMetric: nil)
        // The step-1 evaluation with the intervention active, in the layout QAT runs write it.
        try "step,intervention,dev_metric,dev_loss\n1,OI,0.41,1.2\n2,MI,0.47,1.1\n3,OI,0.52,1.0\n"
            .write(to: ti.appendingPathComponent("step1-evals.csv"), atomically: true, encoding: .utf8)
        // A tiny random teacher's dev metric is flat, so the runs' dev curves are replaced by hand-made
        // ones at the steps the runs evaluated (training logs and budgets stay the runs' own).
        try setDevMetric(kd, [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6])    // reaches 0.5 at step 6
        try setDevMetric(ti, [0.1, 0.3, 0.45, 0.52, 0.55, 0.6, 0.6])  // reaches 0.5 at step 3
        let study = root.appendingPathComponent("study")
        let found = try FigureAssembly.collectQAT(runs: [("KD", kd), ("TI-G", ti)], into: study, teacherMetric: 0.9, metricName: "accuracy",
                                                  options: ConvergenceFigureOptions(target: 0.5))
        XCTAssertEqual(found.notes, [])
        let conv = study.appendingPathComponent("convergence")
        // KD's budget is 8 steps: 64 examples / 16 per batch × 2 epochs.
        XCTAssertEqual(found.relativeTime, [
            RelativeTimeRow(mode: "KD", seed: 1, stepsToTarget: 6, totalSteps: 8, relativeTime: 0.75, ratioVsBaseline: 1),
            RelativeTimeRow(mode: "TI-G", seed: 1, stepsToTarget: 3, totalSteps: 8, relativeTime: 0.375, ratioVsBaseline: 0.5),
        ])
        XCTAssertEqual(try table(conv.appendingPathComponent(FigureAssembly.relativeTimeFile)).rows,
                       [["KD", "1", "6", "8", "0.75", "1"], ["TI-G", "1", "3", "8", "0.375", "0.5"]])
        for (mode, dir) in [("KD", kd), ("TI-G", ti)] {
            // Fig. 4a draws the logged task cross-entropy of every step.
            XCTAssertEqual(try values("loss", conv.appendingPathComponent("train-\(mode).csv")),
                           try values("train_ce", dir.appendingPathComponent("steps.csv")))
            XCTAssertNotEqual(try values("loss", conv.appendingPathComponent("train-\(mode).csv")),
                              try values("loss", dir.appendingPathComponent("steps.csv")), "the CE, not the objective's total")
            // Fig. 1's x = step / KD's budget.
            let dev = conv.appendingPathComponent("dev-\(mode).csv")
            XCTAssertEqual(try values("relative_time", dev), ["0", "0.125", "0.25", "0.375", "0.5", "0.75", "1"])
        }
        XCTAssertEqual(try table(conv.appendingPathComponent("step1-TI-G.csv")).rows,
                       [["1", "OI", "0.41"], ["2", "MI", "0.47"], ["3", "OI", "0.52"]])
        XCTAssertFalse(FileManager.default.fileExists(atPath: conv.appendingPathComponent("step1-KD.csv").path))
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: conv.appendingPathComponent("figure.json"))) as? [String: Any])
        XCTAssertEqual(info["lossName"] as? String, "training cross-entropy")
        XCTAssertEqual(info["target"] as? Double, 0.5)
        XCTAssertEqual(info["step1"] as? Int, 3)

        // The total as an option; without a KD run Figure 1 is left out with a reason, the rest is written.
        let again = try FigureAssembly.collectQAT(runs: [("TI-G", ti)], into: study, teacherMetric: 0.9, metricName: "accuracy",
                                                  options: ConvergenceFigureOptions(trainingLoss: .total))
        XCTAssertEqual(try values("loss", conv.appendingPathComponent("train-TI-G.csv")), try values("loss", ti.appendingPathComponent("steps.csv")))
        XCTAssertTrue(again.relativeTime.isEmpty)
        XCTAssertTrue(again.notes.contains { $0.contains("KD run of seed") }, "\(again.notes)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: conv.appendingPathComponent(FigureAssembly.relativeTimeFile).path))
        XCTAssertEqual(try table(conv.appendingPathComponent("dev-TI-G.csv")).header, ["step", "phase", "metric"])
        let defaults = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: conv.appendingPathComponent("figure.json"))) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(defaults["target"] as? Double), 0.99 * 0.9, accuracy: 1e-15)
        XCTAssertEqual(defaults["lossName"] as? String, "training loss (objective total)")
    }
}

private extension RelativeTimeRun {
    func with(mode: String) -> RelativeTimeRun { RelativeTimeRun(mode: mode, seed: seed, steps: steps, metric: metric, totalSteps: totalSteps) }
}
