// Curvature tracked along a tiny TI-G run (CurvatureTracker) against independent references: the
// `hessian` study at the run's saved checkpoint of the same step on the same probe set, a long
// Lanczos run on one training minibatch, and an uninterrupted run for a killed-and-resumed one.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIData
import TILinalg
import TIAnalysis

final class CurvatureTrackingTests: XCTestCase {
    // 48 training examples in batches of 8 over 2 epochs: 12 steps, step 1 the first 6 (OI, CI, then MI).
    static let data: TaskData = {
        var d = SyntheticTaskGenerator(task: .count).make(train: 48, dev: 24)
        d.seqLen = 20
        return d
    }()
    static let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2,
                                                    intermediateSize: 8, maxPositions: 32, numLabels: data.numLabels))
    static let teacher: [Float] = model.initialParameters(seed: 4, std: 0.4)

    static func tracking() -> CurvatureTrackingOptions {
        var o = CurvatureTrackingOptions()
        o.every = 4
        o.probeExamples = 16
        o.batchSize = 8
        o.minibatchSteps = [1, 5, 9]
        o.lanczosSteps = 4; o.traceProbes = 4  // few: the tests check the rows, not the estimates' spread
        return o
    }

    func run(tracked: Bool = true, interruptAfter: Int? = nil, extra: [QATObserver] = [], dir: URL) throws -> [Float]? {
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 8; cfg.evalEvery = 2; cfg.stepOneLength = 6; cfg.devProbeSize = 16; cfg.learningRate = 1e-3
        var run = QATRun(model: Self.model, task: Self.data, teacher: Self.teacher, config: cfg)
        run.observers = (tracked ? [CurvatureTracker(options: Self.tracking())] : []) + extra
        run.interruptAfterStep = interruptAfter
        do { return try run.run(outDir: dir, teacherPath: "memory", teacherDevMetric: nil).student } catch is CancellationError { return nil }
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-curv-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// The rows of curvature.csv keyed by "step/phase/objective".
    func rows(_ dir: URL, _ file: String = CurvatureFiles.curvature) throws -> [[String]] {
        try CSVTable.read(dir.appendingPathComponent(file)).rows
    }

    func testTrackedEigenvaluesEqualTheHessianStudyAtTheSavedCheckpoint() throws {
        let dir = tempDir()
        XCTAssertNil(try run(interruptAfter: 4, dir: dir))
        let θ = try SafeTensorsFile.read(url: dir.appendingPathComponent("resume-state.safetensors")).values("theta", as: Float.self)
        let table = try CSVTable.read(dir.appendingPathComponent(CurvatureFiles.curvature))
        let steps = try table.strings("step"), objectives = try table.strings("objective"), lambdas = try table.column("lambda_max")
        let errors = try table.column("lambda_max_err")
        let target = AnalysisTarget(model: Self.model, task: Self.data, taskName: .embedded(.count), teacher: Self.teacher, parameters: θ,
                                    checkpointPath: "memory", checkpointHash: Checkpoint.hash(θ))
        // Step 4 is step 1's fourth step, trained with MI: the method's own loss there is MI's.
        for (objective, phase) in [(ObjectiveChoice.task, nil), (.train, InterventionPoint.map)] {
            var h = HessianOptions()
            h.mode = .tiG; h.objective = objective; h.phase = phase
            h.samples = 16; h.batchSize = 8; h.topK = 1; h.tolerance = 1e-6; h.maxIterations = 2000
            h.lanczosSteps = 0; h.traceMinProbes = 0
            let reference = try HessianStudy.run(target: target, options: h, outDir: tempDir()).eigenvalues[0]
            let row = try XCTUnwrap(steps.indices.first { steps[$0] == "4" && objectives[$0] == objective.rawValue })
            XCTAssertEqual(lambdas[row], reference, accuracy: 1e-3 * abs(reference), "\(objective) at step 4")
            XCTAssertLessThanOrEqual(abs(lambdas[row] - reference), errors[row] + 1e-6 * abs(reference),
                                     "lambda_max_err bounds the distance to the top eigenvalue")
        }
        // Warm starts: the first measurement of each objective starts at random, every later one from its predecessor.
        let starts = try table.strings("start")
        for o in ["task", "train"] {
            let mine = starts.indices.filter { objectives[$0] == o }.map { starts[$0] }
            XCTAssertEqual(mine.first, "random")
            XCTAssertEqual(Set(mine.dropFirst()), ["warm"])
        }
    }

    func testAResumedRunWritesTheRowsOfAnUninterruptedOneAndTrainsTheSameStudent() throws {
        let whole = tempDir(), killed = tempDir()
        let student = try XCTUnwrap(try run(dir: whole))
        XCTAssertEqual(try run(tracked: false, dir: tempDir()), student, "tracking does not change the run")
        // Killed after step 8's rows but before its state was saved: the state of step 6 (the end of
        // step 1, saved there) with rows past it, among them step 2's opening row at step 6.
        XCTAssertNil(try run(interruptAfter: 6, dir: killed))
        let saved = [CurvatureFiles.warmStart, "resume-state.safetensors"].map { killed.appendingPathComponent($0) }
        let kept = try saved.map { try Data(contentsOf: $0) }
        XCTAssertNil(try run(interruptAfter: 8, dir: killed))
        XCTAssertTrue(try rows(killed).contains { $0[0] == "8" })
        for (url, data) in zip(saved, kept) { try data.write(to: url) }
        XCTAssertEqual(try run(dir: killed), student)
        func withoutSeconds(_ rows: [[String]]) -> [[String]] { rows.map { r in r.enumerated().filter { $0.offset != 9 }.map(\.element) } }
        let expected = try rows(whole)
        XCTAssertEqual(withoutSeconds(try rows(killed)), withoutSeconds(expected))
        XCTAssertEqual(try rows(killed, CurvatureFiles.minibatch), try rows(whole, CurvatureFiles.minibatch))
        // Steps 0, 4, 6 (end of step 1), 6 (start of step 2: its own loss only), 8, 12; task and train each.
        XCTAssertEqual(expected.map { "\($0[0])/\($0[1])/\($0[2])" }, ["0/1/task", "0/1/train", "4/1/task", "4/1/train", "6/1/task", "6/1/train",
                                                                  "6/2/train", "8/2/task", "8/2/train", "12/2/task", "12/2/train"])
        XCTAssertEqual(try rows(whole, CurvatureFiles.minibatch).map { $0[0] + "/" + $0[1] }, ["1/1", "5/1", "9/2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: whole.appendingPathComponent(CurvatureFiles.warmStart).path),
                       "a finished run needs no warm starts")
    }

    /// Records the minibatch and the starting parameters of one step.
    final class StepCapture: QATObserver {
        let step: Int
        var batch: Batch? = nil, before: [Float] = [], phase = 0
        init(step: Int) { self.step = step }
        func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws {}
        func observe(_ s: QATStepView) throws {
            if s.step == step { batch = s.batch; before = s.parametersBefore; phase = s.phase.number }
        }
    }

    func testMinibatchEigenvalueIsTheLargestMagnitudeEigenvalueOfThatBatch() throws {
        let dir = tempDir(), capture = StepCapture(step: 9)
        _ = try run(extra: [capture], dir: dir)
        let batch = try XCTUnwrap(capture.batch)
        // Another algorithm on the batch's task loss: both ends of the spectrum from 80 Lanczos steps
        // with full reorthogonalization, from its own start; the larger magnitude is the top eigenvalue.
        let spec = ObjectiveSpec(quantization: TeacherIntervention.gradual.defaultQuantization, loss: .task)
        let objective = DatasetObjective<Double>(objective: BertObjective(model: Self.model, spec: spec), batches: [batch], teacher: nil)
        var rng = SeededRandom(seed: 99)
        let ends = try lanczosExtremes(objective.hessianOperator(at: capture.before.map(Double.init)), k: 1, steps: 80, tol: 1e-5, rng: &rng)
        let top = [ends.largest.values[0], ends.smallest.values[0]].max { abs($0) < abs($1) }!
        XCTAssertTrue(ends.largest.converged[0] && ends.smallest.converged[0], "the reference converged: \(ends.largest.residuals) \(ends.smallest.residuals)")
        let row = try XCTUnwrap(try rows(dir, CurvatureFiles.minibatch).first { $0[0] == "9" })
        XCTAssertEqual(row[1], String(capture.phase))
        XCTAssertEqual(try XCTUnwrap(Double(row[2])), top, accuracy: 2e-3 * abs(top), "Lanczos top \(top)")
    }
}

final class CurvatureOptionTests: XCTestCase {
    func testStepListsParseToTheirHandWrittenSets() throws {
        XCTAssertEqual(try StepList.parse("1-3,2,10, 7"), [1, 2, 3, 7, 10])
        XCTAssertEqual(try StepList.parse("5"), [5])
        XCTAssertEqual(try StepList.parse("4-4,1-2"), [1, 2, 4])
        for bad in ["", "3-1", "0", "1,,2", "x", "1-2-3", "-4"] {
            XCTAssertThrowsError(try StepList.parse(bad), bad) { XCTAssertEqual(($0 as? OptionValueError)?.option, .trackMinibatchEigs, bad) }
        }
    }

    func testOptionsAreCheckedAgainstTheRunTheyWatch() throws {
        var o = CurvatureTrackingOptions()
        o.every = 10; o.probeExamples = 25
        XCTAssertThrowsError(try o.check(devExamples: 24, totalSteps: 12)) { XCTAssertEqual(($0 as? OptionValueError)?.option, .probeExamples) }
        o.probeExamples = 24; o.minibatchSteps = [3, 13]
        XCTAssertThrowsError(try o.check(devExamples: 24, totalSteps: 12)) { XCTAssertEqual(($0 as? OptionValueError)?.value, "13") }
        o.minibatchSteps = [12]
        XCTAssertNoThrow(try o.check(devExamples: 24, totalSteps: 12))
        o.every = 0
        XCTAssertThrowsError(try o.validate()) { XCTAssertEqual(($0 as? OptionValueError)?.option, .trackCurvature) }
    }
}

final class CurvatureFigureDataTests: XCTestCase {
    func testEachRunsCurvatureIsSplitByObjectiveAndItsMinibatchEigenvaluesCopied() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tia-curvfig-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let kd = root.appendingPathComponent("kd"), ti = root.appendingPathComponent("ti"), bare = root.appendingPathComponent("bare")
        let study = root.appendingPathComponent("study")
        let header = CurvatureFiles.curvatureColumns.joined(separator: ",")
        for d in [kd, ti, bare] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        try "\(header)\n0,0,task,5,0.1,-1,5,20,2,0.5,random\n10,0,task,4,0.1,-1,4,18,2,0.5,warm\n"
            .write(to: kd.appendingPathComponent(CurvatureFiles.curvature), atomically: true, encoding: .utf8)
        try "\(header)\n0,1,task,5,0.1,-1,5,20,2,0.5,random\n0,1,train,7,0.1,-2,7,30,3,0.5,random\n6,1,task,3,0.1,-1,3,15,2,0.5,warm\n6,1,train,8,0.1,-2,8,33,3,0.5,warm\n6,2,task,3,0.1,-1,3,15,2,0.5,warm\n6,2,train,2,0.1,-2,2,12,3,0.5,warm\n"
            .write(to: ti.appendingPathComponent(CurvatureFiles.curvature), atomically: true, encoding: .utf8)
        let minibatch = "step,phase,lambda_max,iterations\n1,1,9.5,12\n7,2,4.25,8\n"
        try minibatch.write(to: ti.appendingPathComponent(CurvatureFiles.minibatch), atomically: true, encoding: .utf8)
        // A file of an earlier collection, of a run that no longer tracks: removed.
        try FileManager.default.createDirectory(at: study.appendingPathComponent("curvature"), withIntermediateDirectories: true)
        try "stale".write(to: study.appendingPathComponent("curvature/curvature-OLD-task.csv"), atomically: true, encoding: .utf8)

        let written = try FigureAssembly.collectCurvature(runs: [("KD", kd), ("TI-G", ti), ("MI", bare)], into: study)
        XCTAssertEqual(written.map(\.lastPathComponent), ["curvature-KD-task.csv", "curvature-TI-G-task.csv", "curvature-TI-G-train.csv",
                                                          "minibatch-TI-G.csv"])
        func read(_ name: String) throws -> String { try String(contentsOf: study.appendingPathComponent("curvature/\(name)"), encoding: .utf8) }
        XCTAssertEqual(try read("curvature-TI-G-train.csv"),
                       "\(header)\n0,1,train,7,0.1,-2,7,30,3,0.5,random\n6,1,train,8,0.1,-2,8,33,3,0.5,warm\n6,2,train,2,0.1,-2,2,12,3,0.5,warm\n")
        XCTAssertEqual(try read("curvature-TI-G-task.csv").split(separator: "\n").map { $0.split(separator: ",")[0] + "/" + $0.split(separator: ",")[1] },
                       ["step/phase", "0/1", "6/1", "6/2"])
        XCTAssertEqual(try read("minibatch-TI-G.csv"), minibatch)
        XCTAssertFalse(FileManager.default.fileExists(atPath: study.appendingPathComponent("curvature/curvature-OLD-task.csv").path))
    }
}
