// The two-step QAT run end to end on a tiny model: logs, a killed-and-resumed run equal to an
// uninterrupted one, refusal of a different configuration in the same directory.
import XCTest
import Foundation
import TICore
import TILinalg

final class QATRunTests: XCTestCase {
    func setup(mode: QATMode) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-qat-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// The file's lines; with `dropLast`, without the `seconds` column (wall time differs between runs).
    func column(_ url: URL, dropLast: Bool) throws -> [String] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let seconds = lines.first?.split(separator: ",").firstIndex(of: "seconds")
        return lines.map { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if dropLast, let seconds { f.remove(at: seconds) }
            return f.joined(separator: ",")
        }
    }

    /// steps.csv's named column.
    func values(_ name: String, in dir: URL) throws -> [String] {
        let rows = try String(contentsOf: dir.appendingPathComponent("steps.csv"), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let i = try XCTUnwrap(rows[0].firstIndex(of: name), "\(rows[0])")
        return rows.dropFirst().map { $0[i] }
    }

    /// train_ce is the task cross-entropy of the step's own forward: equal to the `task` term when the
    /// objective includes it, and for KD (which does not) equal to a cross-entropy computed by hand
    /// from a replayed forward of the first step (same student, batch and dropout).
    func testTrainCrossEntropyIsTheTaskLossOfTheStepsForward() throws {
        var withTask = setup(mode: .kd)
        var cfg = withTask.config
        cfg.includeTaskLoss = true
        withTask = QATRun(model: withTask.model, task: withTask.task, teacher: withTask.teacher, config: cfg)
        let a = tempDir()
        _ = try withTask.run(outDir: a, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(try values("train_ce", in: a), try values("task", in: a))
        XCTAssertEqual(try String(contentsOf: a.appendingPathComponent("steps.csv"), encoding: .utf8).split(separator: "\n")[0]
            .split(separator: ",").last, "train_ce", "train_ce is appended after the existing columns")

        let run = setup(mode: .kd), b = tempDir()
        _ = try run.run(outDir: b, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertTrue(try values("task", in: b).allSatisfy { Double($0) == 0 }, "KD's objective has no task term")
        let method = run.config.mode.method
        let student = method.initialStudent(teacher: run.model, parameters: run.teacher, config: run.config)
        let obj = BertObjective<Float>(model: student.model, spec: method.objective(
            intervention: nil, quantization: method.quantization(config: run.config, ranges: nil)))
        var stream = BatchStream(examples: run.task.train, batchSize: run.config.batchSize, seqLen: run.task.seqLen,
                                 regression: false, rng: SeededRandom(seed: run.config.seed).derived("shuffle"))
        let batch = stream.next()
        var dropout = SeededRandom(seed: run.config.seed).derived("dropout/0")
        let logits = obj.studentForward(student.parameters, batch: batch, teacher: nil, dropoutSeed: dropout.next()).1.logits.array
        let c = run.model.config.numLabels
        var ce = 0.0
        for r in 0..<batch.size {
            let row = logits[r * c..<(r + 1) * c].map(Double.init), top = row.max()!
            ce += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[batch.labels[r]]
        }
        ce /= Double(batch.size)
        let logged = try XCTUnwrap(Double(try values("train_ce", in: b)[0]))
        XCTAssertGreaterThan(ce, 0.01, "a trivial loss would not test anything")
        XCTAssertEqual(logged, ce, accuracy: 1e-5 * ce)
    }

    func testInterruptedRunResumesToTheSameResult() throws {
        let whole = tempDir(), split = tempDir()
        let (θa, sa, _) = try setup(mode: .tiG).run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        var interrupted = setup(mode: .tiG)
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: split, teacherPath: "t", teacherDevMetric: nil))
        XCTAssertTrue(FileManager.default.fileExists(atPath: split.appendingPathComponent("resume-state.safetensors").path))
        let (θb, sb, _) = try setup(mode: .tiG).run(outDir: split, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(θa.map(\.bitPattern), θb.map(\.bitPattern))
        XCTAssertEqual(sa.finalDevMetric, sb.finalDevMetric)
        XCTAssertEqual(sa.stepOneLossJump, sb.stepOneLossJump)
        XCTAssertEqual(try column(whole.appendingPathComponent("steps.csv"), dropLast: true),
                       try column(split.appendingPathComponent("steps.csv"), dropLast: true))
        XCTAssertEqual(try column(whole.appendingPathComponent("evals.csv"), dropLast: false),
                       try column(split.appendingPathComponent("evals.csv"), dropLast: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: split.appendingPathComponent("resume-state.safetensors").path))
        // Step 1 used the TI-G schedule: OI first, MI last.
        let steps = try column(split.appendingPathComponent("steps.csv"), dropLast: true)
        XCTAssertTrue(steps[1].hasPrefix("1,1,OI,"), steps[1])
        XCTAssertTrue(steps[3].hasPrefix("3,1,MI,"), steps[3])
        XCTAssertTrue(steps[4].hasPrefix("4,2,none,"), steps[4])
    }

    func testDifferentConfigurationInSameDirectoryIsRefused() throws {
        let dir = tempDir()
        var first = setup(mode: .kd)
        first.interruptAfterStep = 2
        XCTAssertThrowsError(try first.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        XCTAssertThrowsError(try setup(mode: .tiG).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)) { e in
            XCTAssertTrue("\(e)".contains("configuration"), "\(e)")
        }
    }
}
