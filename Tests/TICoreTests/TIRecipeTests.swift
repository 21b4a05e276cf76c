// The Teacher Intervention paper's experiment as the public scripts run it: the recipe preset's
// resolved settings per task and model depth, step 1 evaluated with its intervention active, and
// step 1 and step 2 run apart giving the joined run's student bit for bit.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class TIRecipeTests: XCTestCase {
    /// (task, layers) → (s, lr, batch, max length, clipping), as the public TI scripts set them.
    func testTIPresetResolvesEachTaskAndDepthAsTheScripts() {
        let table: [(String, Int, Int, Double, Int, Int, GradientClipping)] = [
            ("cola", 12, 120, 2e-5, 16, 64, .perTensor), ("cola", 4, 120, 2e-5, 16, 64, .perTensor),
            ("cola", 6, 120, 2e-5, 16, 64, .perTensor),
            ("sst2", 12, 60, 2e-5, 32, 64, .perTensor), ("sst2", 4, 120, 2e-5, 32, 64, .perTensor),
            ("sst2", 6, 60, 2e-5, 32, 64, .perTensor),
            ("rte", 12, 60, 2e-5, 32, 128, .perTensor), ("rte", 4, 120, 2e-5, 32, 128, .perTensor),
            ("rte", 6, 60, 2e-5, 32, 128, .perTensor),
            ("stsb", 4, 120, 2e-5, 32, 128, .perTensor), ("stsb", 6, 60, 2e-5, 32, 128, .perTensor),
        ]
        for (task, layers, s, lr, batch, length, clip) in table {
            let v = Recipe.ti.values(task: task, layers: layers)
            XCTAssertEqual(v.stepOneLength, s, "\(task) \(layers)L")
            XCTAssertEqual(v.learningRate, lr); XCTAssertEqual(v.batchSize, batch, "\(task)")
            XCTAssertEqual(v.maxSeqLength, length, "\(task)"); XCTAssertEqual(v.clipping, clip)
            XCTAssertEqual(v.epochs, 3); XCTAssertEqual(v.warmupFraction, 0.1); XCTAssertEqual(v.weightDecay, 0.01)
        }
    }

    func testFlagsOverrideThePresetAndEverySettingRecordsItsSource() {
        var request = QATSettingsRequest()
        request.recipe = .ti
        request.learningRate = 3e-5
        let (cfg, settings) = request.resolve(mode: .tiG, task: "cola", layers: 6)
        XCTAssertEqual(cfg.learningRate, 3e-5)
        XCTAssertEqual(cfg.stepOneLength, 120)
        XCTAssertEqual(cfg.batchSize, 16)
        XCTAssertEqual(settings["learning_rate"], ResolvedSetting("3e-05", source: "flag"))
        XCTAssertEqual(settings["batch_size"], ResolvedSetting("16", source: "recipe ti"))
        XCTAssertEqual(settings["step_one_length"]?.source, "recipe ti")
        XCTAssertEqual(settings["eval_every"]?.source, "default")
        XCTAssertEqual(cfg.adam.clipping, .perTensor)
        XCTAssertEqual(settings["gradient_clipping"], ResolvedSetting("per-tensor", source: "recipe ti"))
        // The embedded preset is today's defaults: the configuration (and so every run's hash) is unchanged.
        let (embedded, _) = QATSettingsRequest().resolve(mode: .tiG, task: "count", layers: 4)
        XCTAssertEqual(embedded, QATConfig(mode: .tiG))
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ti-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func setup(_ configure: (inout QATConfig) -> Void = { _ in }) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 96, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 8; cfg.evalEvery = 4; cfg.stepOneLength = 12; cfg.devProbeSize = 16
        configure(&cfg)
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    /// Step 1 is evaluated every 10 steps with its intervention; the logged metric is that of an
    /// intervened forward of the dev set at that step's parameters.
    func testStepOneEvaluationUsesTheActiveIntervention() throws {
        let dir = tempDir()
        var run = setup { $0.phase = .step1 }
        let (θ, summary, _) = try run.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(summary.totalSteps, 12)
        let rows = try String(contentsOf: dir.appendingPathComponent("step1-evals.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "step,intervention,dev_metric,dev_loss")
        XCTAssertEqual(rows.count, 2, "one evaluation at step 10 of a 12-step step 1")
        let f = rows[1].split(separator: ",").map(String.init)
        XCTAssertEqual(f[0], "10"); XCTAssertEqual(f[1], "MI")  // TI-G's MI third at step 10 of 12
        // Recompute at the step-10 parameters: run again, stopping right after step 10's state.
        run = setup { $0.phase = .step1; $0.evalEvery = 10 }
        run.interruptAfterStep = 10
        let dir10 = tempDir()
        XCTAssertThrowsError(try run.run(outDir: dir10, teacherPath: "t", teacherDevMetric: nil))
        let state = try SafeTensorsFile.read(url: dir10.appendingPathComponent("resume-state.safetensors")).values("theta", as: Float.self)
        let q = QATMode.tiG.method.defaultQuantization
        let intervened = Evaluator<Float>(model: run.model, task: run.task).evaluate(state, quantization: q, intervention: (.map, run.teacher))
        let plain = Evaluator<Float>(model: run.model, task: run.task).evaluate(state, quantization: q)
        XCTAssertEqual(Double(f[3])!, intervened.loss, accuracy: 1e-6 * max(1, intervened.loss))
        XCTAssertNotEqual(intervened.loss, plain.loss, "the intervention must change the evaluated model")
        XCTAssertFalse(θ.isEmpty)
    }

    /// `--phase step1` then `--phase step2 --from` equals the joined run: same student, same logs.
    func testStepOneAndStepTwoApartEqualTheJoinedRun() throws {
        for selection in [StepOneSelection.last, .best] {
            let joined = tempDir(), one = tempDir(), two = tempDir()
            let (θa, sa, _) = try setup { $0.stepOneSelection = selection }.run(outDir: joined, teacherPath: "t", teacherDevMetric: nil)
            _ = try setup { $0.phase = .step1; $0.stepOneSelection = selection }.run(outDir: one, teacherPath: "t", teacherDevMetric: nil)
            var second = setup { $0.phase = .step2; $0.stepOneSelection = selection }
            second.continuing = one
            let (θb, sb, _) = try second.run(outDir: two, teacherPath: "t", teacherDevMetric: nil)
            XCTAssertEqual(θa.map(\.bitPattern), θb.map(\.bitPattern), "\(selection)")
            XCTAssertEqual(sa.stepOneLossJump, sb.stepOneLossJump)
            XCTAssertEqual(sa.finalDevMetric, sb.finalDevMetric)
            XCTAssertEqual(try dropTimes(joined.appendingPathComponent("steps.csv")), try dropTimes(two.appendingPathComponent("steps.csv")))
        }
    }

    /// With `best`, step 2 starts from the step-1 model with the best intervened metric, not the last.
    func testBestSelectionHandsTheBestStepOneModelToStepTwo() throws {
        let last = tempDir(), best = tempDir()
        let (θl, _, _) = try setup { $0.phase = .step1; $0.stepOneLength = 30 }.run(outDir: last, teacherPath: "t", teacherDevMetric: nil)
        let (θb, _, _) = try setup { $0.phase = .step1; $0.stepOneLength = 30; $0.stepOneSelection = .best }
            .run(outDir: best, teacherPath: "t", teacherDevMetric: nil)
        let kept = try SafeTensorsFile.read(url: best.appendingPathComponent("step1-best.safetensors"))
        XCTAssertEqual(θb.map(\.bitPattern), try kept.values("theta", as: Float.self).map(\.bitPattern))
        let metrics = try String(contentsOf: best.appendingPathComponent("step1-evals.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[2])! }
        XCTAssertEqual(Double(kept.metadata["dev_metric"]!)!, metrics.max()!)
        if metrics.last! < metrics.max()! { XCTAssertNotEqual(θl.map(\.bitPattern), θb.map(\.bitPattern)) }
    }

    func testStepTwoRefusesAStepOneRunOfAnotherConfiguration() throws {
        let one = tempDir()
        _ = try setup { $0.phase = .step1 }.run(outDir: one, teacherPath: "t", teacherDevMetric: nil)
        var second = setup { $0.phase = .step2; $0.learningRate = 1e-3 }
        second.continuing = one
        XCTAssertThrowsError(try second.run(outDir: tempDir(), teacherPath: "t", teacherDevMetric: nil)) {
            XCTAssertTrue("\($0)".contains("another configuration"), "\($0)")
        }
        var kd = setup { $0.mode = .kd; $0.phase = .step1 }
        kd.continuing = nil
        XCTAssertThrowsError(try kd.run(outDir: tempDir(), teacherPath: "t", teacherDevMetric: nil)) {
            XCTAssertTrue("\($0)".contains("no step 1"), "\($0)")
        }
    }

    /// The rows without the wall-time column (found by name), which differs between runs.
    func dropTimes(_ url: URL) throws -> [String] {
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let seconds = try XCTUnwrap(rows.first?.firstIndex(of: "seconds"))
        return rows.map { r in r.enumerated().filter { $0.offset != seconds }.map { String($0.element) }.joined(separator: ",") }
    }
}
