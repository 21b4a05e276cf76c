// `--load-quantized`: Q8BERT's int8 export evaluated through the CLI's library entry point
// (QuantizedEvaluation.run, what `tianalyze eval` calls) reproduces the fake-quantized student's
// logits within quantization tolerance, and loads as an analysis point for hessian/landscape.
import XCTest
import Foundation
import TILinalg
import TIData
import TICore
import TIStudies

final class QuantizedEvaluationTests: XCTestCase {
    func tempDir(_ name: String) -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-\(name)-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// A finished Q8BERT run of a small model on the count task (train 64, dev 32).
    func q8bertRun() throws -> (dir: URL, model: BertModel, data: TaskData, teacher: [Float], summary: QATSummary) {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .q8bert)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 4; cfg.devProbeSize = 16
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let dir = tempDir("q8-eval")
        let (_, summary, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        return (dir, model, data, teacher, summary)
    }

    func testInt8ExportReproducesTheFakeQuantizedLogits() throws {
        let run = try q8bertRun()
        let export = run.dir.appendingPathComponent(QATRun.int8ExportFile)
        let r = try QuantizedEvaluation.run(export: export, task: run.data)
        XCTAssertEqual(r.evaluation.examples, 32)
        XCTAssertEqual(r.logits.count, 32 * run.data.numLabels)
        // The reference is the run's own student under its frozen ranges: the metric training reported.
        let reference = try XCTUnwrap(r.reference)
        XCTAssertEqual(reference.metric, run.summary.finalDevMetric)
        let refLogits = try XCTUnwrap(r.referenceLogits)
        let scale = Double(refLogits.map(abs).max()!)
        // Within quantization tolerance: codes·scale equal the fake-quantized weights (and the reference
        // rounds its biases to the int32 grid as the export does) up to float
        // rounding, and an ulp in a weight can flip one activation code (a step of r/127).
        XCTAssertLessThan(try XCTUnwrap(r.maxLogitDifference), 0.02 * scale)
        XCTAssertEqual(r.evaluation.metric, reference.metric, accuracy: 1.0 / 32 + 1e-12)  // at most one example flips
        XCTAssertEqual(r.evaluation.loss, reference.loss, accuracy: 0.02 * max(1, reference.loss))
        // The entry's logits are the export's: the same as a direct forward of the loaded file.
        let (deq, q) = try QuantizedExport.load(export, model: run.model)
        let direct = QuantizedEvaluation.logits(model: run.model, effective: deq, quantization: q, examples: run.data.dev, task: run.data)
        XCTAssertEqual(direct, r.logits)
        // The same file in integer arithmetic (int8 × int8 + int32 bias in every Linear): its logits
        // within one step of the classifier's output grid of the fake-quantized evaluation's.
        let integer = try XCTUnwrap(r.integer)
        XCTAssertEqual(integer.integerLayers, integer.linearLayers)
        XCTAssertEqual(integer.linearLayers, 2 * 6 + 2)
        XCTAssertLessThanOrEqual(try XCTUnwrap(integer.maxLogitDifferenceInSteps), 1, "\(integer.maxLogitDifference)")
        XCTAssertEqual(integer.evaluation.metric, r.evaluation.metric)
        XCTAssertEqual(integer.evaluation.loss, r.evaluation.loss, accuracy: 1e-5 * max(1, r.evaluation.loss))
        XCTAssertEqual(integer.changedPredictions, 0)
        XCTAssertEqual(integer.examplesWithinOneStep, 32)
        // The check can fail: an export of weights 10 % off lands far outside the tolerance.
        let bad = tempDir("q8-bad")
        try FileManager.default.copyItem(at: run.dir, to: bad)
        let s = try QATRun.loadStudent(run.dir)
        try QuantizedExport.write(s.parameters.map { $0 * 1.1 }, model: s.model, config: s.quantization,
                                  to: bad.appendingPathComponent(QATRun.int8ExportFile))
        let off = try QuantizedEvaluation.run(export: bad.appendingPathComponent(QATRun.int8ExportFile), task: run.data)
        XCTAssertGreaterThan(try XCTUnwrap(off.maxLogitDifference), 0.02 * scale)
        // Subsets are the first N dev examples.
        let few = try QuantizedEvaluation.run(export: export, task: run.data, samples: 5)
        XCTAssertEqual(few.evaluation.examples, 5)
        // (a smaller batch changes BLAS's summation order: equal up to float rounding)
        for (a, b) in zip(few.logits, r.logits.prefix(5 * run.data.numLabels)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(few.logits.count, 5 * run.data.numLabels)
    }

    func testBadExportsAreClearErrors() throws {
        let run = try q8bertRun()
        XCTAssertThrowsError(try QuantizedEvaluation.run(export: run.dir.appendingPathComponent("nope.safetensors"), task: run.data)) {
            XCTAssertTrue("\($0)".contains("nope.safetensors") && "\($0)".contains("not found"), "\($0)")
        }
        // The FP32 student checkpoint is no int8 export (no quantization metadata).
        XCTAssertThrowsError(try QuantizedEvaluation.run(export: run.dir.appendingPathComponent("student/model.safetensors"), task: run.data)) {
            XCTAssertTrue("\($0)".contains("not a tianalyze quantized checkpoint"), "\($0)")
        }
        // A lone file without its run's config.
        let lone = tempDir("q8-lone")
        try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: run.dir.appendingPathComponent(QATRun.int8ExportFile), to: lone.appendingPathComponent("x.safetensors"))
        XCTAssertThrowsError(try QuantizedEvaluation.run(export: lone.appendingPathComponent("x.safetensors"), task: run.data)) {
            XCTAssertTrue("\($0)".contains("config.json"), "\($0)")
        }
    }

    /// As an analysis point (hessian/landscape --load-quantized): deployed weights, activation-only
    /// Q8BERT quantization, and an objective whose loss is the evaluated task loss.
    func testInt8ExportAsAnalysisTarget() throws {
        let run = try q8bertRun()
        let ws = Workspace(root: tempDir("q8-ws"))
        let task = try TaskSource(name: "count", dataDir: nil, maxSeqLength: 128, skipBadRows: false)
        try Checkpoint.save(run.teacher, config: run.model.config, to: ws.teacherDir(task))
        let export = run.dir.appendingPathComponent(QATRun.int8ExportFile)
        let target = try AnalysisTarget.loadQuantized(export, workspace: ws, task: task)
        let (deq, q) = try QuantizedExport.load(export, model: run.model)
        XCTAssertEqual(target.parameters, deq)
        XCTAssertEqual(target.mode, .q8bert)
        let spec = target.spec(mode: .q8bert, objective: .task, phase: nil)
        XCTAssertEqual(spec.quantization, q)
        XCTAssertTrue(spec.quantization.weights.isEmpty, "the weights are already on their int8 grid")
        let batch = Batching.batch(run.data.dev[0..<16], seqLen: run.data.seqLen, regression: false)
        let loss = BertObjective<Float>(model: target.model, spec: spec).evaluate(target.parameters, batch: batch, teacher: nil, gradient: false).terms.total
        let eval = Evaluator<Float>(model: run.model, task: run.data).evaluate(deq, quantization: q, examples: Array(run.data.dev[0..<16]))
        XCTAssertEqual(loss, eval.loss, accuracy: 1e-5 * max(1, eval.loss))
        // Another teacher config is refused with the file named.
        let other = Workspace(root: tempDir("q8-ws2"))
        var c = run.model.config
        c.hiddenSize = 8; c.intermediateSize = 16
        try Checkpoint.save(BertModel(config: c).initialParameters(seed: 1), config: c, to: other.teacherDir(task))
        XCTAssertThrowsError(try AnalysisTarget.loadQuantized(export, workspace: other, task: task)) {
            XCTAssertTrue("\($0)".contains("config differs"), "\($0)")
        }
    }
}
