// The dynamics study's table: a tracked tiny TI-G run read back (eigenvalues at start, end of step 1
// and end picked from its curvature.csv rows, roughness means from a roughness.csv), and the
// per-mode summary against intervals computed by hand.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIData
import TILandscape

final class DynamicsTableTests: XCTestCase {
    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-dyn-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testRecordOfATrackedRun() throws {
        var data = SyntheticTaskGenerator(task: .count).make(train: 48, dev: 24)
        data.seqLen = 20
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 8, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 8; cfg.evalEvery = 2; cfg.stepOneLength = 6; cfg.devProbeSize = 16; cfg.learningRate = 1e-3
        var tracking = CurvatureTrackingOptions()
        tracking.every = 4; tracking.probeExamples = 16; tracking.batchSize = 8
        var run = QATRun(model: model, task: data, teacher: model.initialParameters(seed: 4, std: 0.4), config: cfg)
        run.observers = [CurvatureTracker(options: tracking)]
        let dir = tempDir()
        _ = try run.run(outDir: dir, teacherPath: "memory", teacherDevMetric: nil)
        // A roughness.csv as `landscape --direction-seeds` writes it, with a second mode that must be ignored.
        var lines = ["mode,metric,n,mean,ci95_low,ci95_high"]
        for (k, name) in RoughnessMetrics.names.enumerated() {
            lines.append("KD,\(name),5,\(Double(k) + 0.5),0,1")
            lines.append("TI-G,\(name),5,99,0,1")
        }
        let rough = dir.appendingPathComponent("roughness.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: rough, atomically: true, encoding: .utf8)

        let r = try DynamicsTable.record(runDir: dir, teacherMetric: 1, stepOneEnd: nil, roughness: rough)
        // The task-loss rows, read independently: (step, phase, λ).
        let t = try CSVTable.read(dir.appendingPathComponent(CurvatureFiles.curvature))
        let task = t.rows.filter { $0[2] == "task" }.map { (Int($0[0])!, Int($0[1])!, Double($0[3])!) }
        XCTAssertEqual(task.first!.0, 0)
        XCTAssertEqual(r.lambdaStart, task.first!.2)
        XCTAssertEqual(r.lambdaEnd, task.last!.2)
        XCTAssertEqual(task.last!.0, 12)
        // End of step 1: the row closing phase 1 at step 6.
        let end1 = try XCTUnwrap(task.first { $0.0 == 6 && $0.1 == 1 })
        XCTAssertEqual(r.lambdaStepOneEnd, end1.2)
        let c = try ConvergenceReport.row(runDir: dir, teacherMetric: 1)
        XCTAssertEqual(r.stepsToHalfProbeLoss, c.stepsToHalfProbeLoss)
        XCTAssertEqual(r.finalProbeLoss, c.finalProbeLoss)
        for (k, name) in RoughnessMetrics.names.enumerated() { XCTAssertEqual(r.roughness[name], Double(k) + 0.5) }
        // A single-phase run compares at the TI runs' step: a row at exactly that step, else none.
        let at4 = try DynamicsTable.record(runDir: dir, teacherMetric: 1, stepOneEnd: 4, roughness: nil)
        XCTAssertEqual(at4.lambdaStepOneEnd, try XCTUnwrap(task.first { $0.0 == 4 }).2)
        XCTAssertEqual(at4.roughness, [:])
        XCTAssertNil(try DynamicsTable.record(runDir: dir, teacherMetric: 1, stepOneEnd: 5, roughness: nil).lambdaStepOneEnd)
    }

    func record(_ mode: String, _ seed: UInt64, steps: Int?, loss: Double, lambda: Double) -> DynamicsRecord {
        DynamicsRecord(mode: mode, seed: seed, stepsToHalfProbeLoss: steps, finalProbeLoss: loss, finalMetric: 0.9,
                       lambdaStart: lambda, lambdaStepOneEnd: nil, lambdaEnd: 2 * lambda, roughness: ["laplacian": lambda / 10])
    }

    func testSummaryAgainstHandIntervals() {
        let records = [record("KD", 1, steps: 10, loss: 1, lambda: 2), record("TI-G", 1, steps: 8, loss: 0.5, lambda: 1),
                       record("KD", 2, steps: 14, loss: 2, lambda: 4), record("TI-G", 2, steps: nil, loss: 0.7, lambda: 1),
                       record("KD", 3, steps: 12, loss: 3, lambda: 6), record("TI-G", 3, steps: 6, loss: 0.9, lambda: 1)]
        let s = DynamicsTable.summarize(records)
        XCTAssertEqual(s.map(\.mode), ["KD", "TI-G"])
        XCTAssertEqual(s.map(\.runs), [3, 3])
        func cell(_ m: Int, _ q: String) -> MeanInterval? { s[m].cells.first { $0.quantity == q }?.interval }
        // KD final probe loss 1, 2, 3: mean 2, s = 1, half-width t(0.975, 2)·1/√3 with t = 4.302652729911275.
        let kdLoss = try! XCTUnwrap(cell(0, "final_probe_loss"))
        XCTAssertEqual(kdLoss.mean, 2, accuracy: 1e-12)
        XCTAssertEqual(kdLoss.halfWidth, 4.302652729911275 / 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(cell(0, "lambda_end")!.mean, 8, accuracy: 1e-12)
        XCTAssertEqual(cell(0, "laplacian")!.mean, 0.4, accuracy: 1e-12)
        // TI-G reached half its probe loss in two runs of three: the steps average over those two.
        let tiSteps = try! XCTUnwrap(cell(1, "steps_to_half_probe_loss"))
        XCTAssertEqual(tiSteps.count, 2)
        XCTAssertEqual(tiSteps.mean, 7, accuracy: 1e-12)
        // Identical values: zero spread.
        XCTAssertEqual(cell(1, "lambda_start")!.halfWidth, 0)
        XCTAssertNil(cell(0, "lambda_step1_end"), "no run has the quantity: no cell")
        let md = DynamicsTable.markdown(s)
        XCTAssertTrue(md.contains("| final_probe_loss | 2 ± 2.48 | 0.7 ± 0.497 |"), md)
        XCTAssertTrue(md.contains("| steps_to_half_probe_loss | 12 ± 4.97 | 7 ± 12.7 (2) |"), md)
        XCTAssertFalse(md.contains("lambda_step1_end"))
    }
}
