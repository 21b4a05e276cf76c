// CheckpointEvaluation (what `tianalyze eval --checkpoint` calls) on each kind of checkpoint: an FP
// checkpoint directory scored from its own logits, a QAT run directory scored as the run's evals.csv
// recorded its student, the int8 export; the splits; and MNLI's mismatched dev set carried through
// evals.csv, teacher.json's FineTuneResult and the eval split.
import XCTest
import Foundation
import TILinalg
import TIData
import TICore
import TIStudies

final class CheckpointEvaluationTests: XCTestCase {
    func tempDir(_ name: String) -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-\(name)-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func tinyModel(_ data: TaskData) -> BertModel {
        BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                     intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
    }

    /// The count task with its labels folded onto `classes` classes (2: a binary task with F1).
    func folded(_ classes: Int, train: Int = 64, dev: Int = 48) -> TaskData {
        var d = SyntheticTaskGenerator(task: .count).make(train: train, dev: dev)
        for i in d.train.indices { d.train[i].label %= classes }
        for i in d.dev.indices { d.dev[i].label %= classes }
        d.numLabels = classes
        d.name = "count-mod\(classes)"
        return d
    }

    /// Every score recomputed from the model's own logits (argmax or the regression output).
    func expectedScores(_ model: BertModel, _ θ: [Float], _ data: TaskData, _ examples: [Example]) -> [String: Double] {
        let logits = QuantizedEvaluation.logits(model: model, effective: θ, quantization: .fullPrecision, examples: examples, task: data)
        let c = data.numLabels
        if data.isRegression {
            let p = Metrics.pearson(logits.map(Double.init), examples.map(\.target))
            let s = Metrics.spearman(logits.map(Double.init), examples.map(\.target))
            return ["pearson": p, "spearman": s, "corr": (p + s) / 2]
        }
        let predictions = examples.indices.map { i in (0..<c).max { logits[i * c + $0] < logits[i * c + $1] }! }
        XCTAssertGreaterThan(Set(predictions).count, 1, "a constant prediction would leave MCC and F1 untested")
        let labels = examples.map(\.label)
        let acc = Metrics.accuracy(predictions: predictions, labels: labels)
        var out = ["accuracy": acc, "mcc": Metrics.matthewsCorrelation(predictions: predictions, labels: labels)]
        if c == 2 {
            let f1 = Metrics.f1(predictions: predictions, labels: labels)
            out["f1"] = f1; out["acc_and_f1"] = (acc + f1) / 2
        }
        return out
    }

    func testCheckpointDirectoryIsScoredInFullPrecision() throws {
        let tasks = [folded(8), folded(2), SyntheticTaskGenerator(task: .pairDistance).make(train: 32, dev: 40)]
        for data in tasks {
            let model = tinyModel(data)
            let θ: [Float] = model.initialParameters(seed: 5, std: 1.0)
            let dir = tempDir("ck-fp")
            try Checkpoint.save(θ, config: model.config, to: dir)
            let r = try CheckpointEvaluation.run(checkpoint: dir, data: data)
            XCTAssertEqual(r.kind, .fullPrecision)
            XCTAssertEqual(r.evaluation.examples, data.dev.count)
            let want = expectedScores(model, θ, data, data.dev)
            XCTAssertEqual(Set(r.evaluation.extra.keys), Set(want.keys), data.name)
            for (k, v) in want { XCTAssertEqual(r.evaluation.extra[k]!, v, accuracy: 1e-12, "\(data.name) \(k)") }
            XCTAssertEqual(r.evaluation.scores.map(\.name), GLUEMetric.reported(numLabels: data.numLabels).map(\.rawValue))
            XCTAssertEqual(r.evaluation.metric, r.evaluation.extra[data.metricName])
            // Train split and a prefix of it.
            let train = try CheckpointEvaluation.run(checkpoint: dir, data: data, split: .train, samples: 20)
            XCTAssertEqual(train.evaluation.examples, 20)
            let wantTrain = expectedScores(model, θ, data, Array(data.train.prefix(20)))
            for (k, v) in wantTrain { XCTAssertEqual(train.evaluation.extra[k]!, v, accuracy: 1e-12, "\(data.name) train \(k)") }
            XCTAssertThrowsError(try CheckpointEvaluation.run(checkpoint: dir, data: data, split: .devMismatched)) { e in
                XCTAssertEqual((e as? OptionValueError)?.option, .split, "\(e)")
                XCTAssertTrue("\(e)".contains("MNLI"), "\(e)")
            }
        }
    }

    /// A finished QAT run of a small model (Q8BERT: its student is read back with stored EMA ranges).
    func qatRun(_ mode: QATMode, data: TaskData) throws -> (dir: URL, model: BertModel, teacher: [Float], summary: QATSummary) {
        let model = tinyModel(data)
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 4; cfg.devProbeSize = 16
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let dir = tempDir("ck-run")
        let (_, summary, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        return (dir, model, teacher, summary)
    }

    func testRunDirectoryIsScoredAsItsEvalsRecordedIt() throws {
        let data = folded(2)
        let run = try qatRun(.q8bert, data: data)
        let r = try CheckpointEvaluation.run(checkpoint: run.dir, data: data)
        XCTAssertEqual(r.kind, .student(.q8bert))
        XCTAssertEqual(r.evaluation.metric, run.summary.finalDevMetric)
        // evals.csv: the old five columns first, then every score; its last row is this evaluation.
        let evals = try CSVTable.read(run.dir.appendingPathComponent("evals.csv"))
        XCTAssertEqual(evals.header, ["step", "phase", "dev_metric", "dev_loss", "probe_kd_loss", "accuracy", "f1", "acc_and_f1", "mcc"])
        for (name, value) in r.evaluation.scores { XCTAssertEqual(try evals.strings(name).last, Fmt.g(value), name) }
        XCTAssertEqual(try evals.strings("dev_metric").last, Fmt.g(r.evaluation.metric))
        // Readers by name keep working.
        let row = try ConvergenceReport.row(runDir: run.dir, teacherMetric: 1)
        XCTAssertEqual(row.finalMetric, run.summary.finalDevMetric)
        // <run>/student is read as its run, not as an unquantized checkpoint.
        let inner = try CheckpointEvaluation.run(checkpoint: run.dir.appendingPathComponent("student"), data: data)
        XCTAssertEqual(inner.kind, .student(.q8bert))
        XCTAssertEqual(inner.evaluation.extra, r.evaluation.extra)
        // The int8 export beside it, with the student as its reference.
        let export = try CheckpointEvaluation.run(checkpoint: run.dir.appendingPathComponent(QATRun.int8ExportFile), data: data)
        XCTAssertEqual(export.kind, .int8Export)
        XCTAssertEqual(export.reference?.extra, r.evaluation.extra)
        XCTAssertEqual(Set(export.evaluation.extra.keys), Set(r.evaluation.extra.keys))
        XCTAssertNotNil(export.maxLogitDifference)  // its tolerance is QuantizedEvaluationTests' subject
        // Nothing there: the path is named.
        XCTAssertThrowsError(try CheckpointEvaluation.run(checkpoint: run.dir.appendingPathComponent("gone"), data: data)) {
            XCTAssertTrue("\($0)".contains("gone") && "\($0)".contains("not found"), "\($0)")
        }
    }

    func testMismatchedDevSetIsRecordedEverywhere() throws {
        var data = folded(3, dev: 40)
        data.name = "mnli-like"
        data.devMismatched = Array(SyntheticTaskGenerator(task: .count, seed: 77).make(train: 0, dev: 30).dev.map { e in
            var e = e; e.label %= 3; return e
        })
        // QAT: evals.csv gains the mismatched loss and scores.
        let run = try qatRun(.kd, data: data)
        let evals = try CSVTable.read(run.dir.appendingPathComponent("evals.csv"))
        XCTAssertEqual(Array(evals.header.suffix(5)), ["accuracy", "mcc", "mm_dev_loss", "mm_accuracy", "mm_mcc"])
        let mm = try CheckpointEvaluation.run(checkpoint: run.dir, data: data, split: .devMismatched)
        XCTAssertEqual(mm.evaluation.examples, 30)
        XCTAssertEqual(try evals.strings("mm_accuracy").last, Fmt.g(mm.evaluation.extra["accuracy"]!))
        XCTAssertEqual(try evals.strings("mm_mcc").last, Fmt.g(mm.evaluation.extra["mcc"]!))
        XCTAssertEqual(try evals.strings("mm_dev_loss").last, Fmt.g(mm.evaluation.loss))
        let matched = try CheckpointEvaluation.run(checkpoint: run.dir, data: data)
        XCTAssertNotEqual(matched.evaluation.extra, mm.evaluation.extra, "the two dev sets were not told apart")

        // Fine-tuning: teacher.json's FineTuneResult scores the mismatched set beside dev.
        var ft = FineTuneConfig()
        ft.epochs = 1; ft.batchSize = 32; ft.evalEvery = 1
        let model = tinyModel(data)
        let (θ, result) = try FineTune.run(model: model, task: data, config: ft)
        let want = Evaluator<Float>(model: model, task: data).evaluate(θ, quantization: .fullPrecision, examples: data.devMismatched)
        XCTAssertEqual(result.devMismatched?.extra, want.extra)
        XCTAssertEqual(result.devMismatched?.examples, 30)
        let decoded = try JSONDecoder().decode(FineTuneResult.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded.devMismatched, result.devMismatched)
        XCTAssertEqual(Set(decoded.dev.extra.keys), ["accuracy", "mcc"])
        // A teacher.json written before the field existed still reads.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any])
        object["devMismatched"] = nil
        XCTAssertNil(try JSONDecoder().decode(FineTuneResult.self, from: JSONSerialization.data(withJSONObject: object)).devMismatched)
    }

    /// The TIDataTests fixtures (GLUE folders, a WordPiece vocabulary), found from this file.
    private func fixture(_ relative: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TIDataTests/Fixtures").appendingPathComponent(relative)
    }

    func testTextTaskIsReadWithTheCheckpointsTokenizer() throws {
        let ws = Workspace(root: tempDir("ck-ws"))
        let task = try TaskSource(name: "mnli", dataDir: fixture("glue").path, maxSeqLength: 16, skipBadRows: false)
        let vocab = try WordPieceTokenizer.load(vocabTxt: fixture("tokenizer/vocab.txt"))
        let config = BertConfig(vocabSize: vocab.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32,
                                maxPositions: 16, numLabels: 3)
        let θ: [Float] = BertModel(config: config).initialParameters(seed: 3, std: 1.0)
        let dir = tempDir("ck-text")
        try Checkpoint.save(θ, config: config, to: dir)
        // No tokenizer beside it and no workspace teacher: the error names where it looked.
        XCTAssertEqual(CheckpointEvaluation.tokenizerDirectory(kind: .fullPrecision, location: dir, workspace: ws, task: task),
                       ws.teacherDir(task))
        XCTAssertThrowsError(try CheckpointEvaluation.run(checkpoint: dir, task: task, workspace: ws))
        try FileManager.default.copyItem(at: fixture("tokenizer/vocab.txt"), to: dir.appendingPathComponent("vocab.txt"))
        XCTAssertEqual(CheckpointEvaluation.tokenizerDirectory(kind: .fullPrecision, location: dir, workspace: ws, task: task), dir)
        let data = try task.load(tokenizerDir: dir)
        for split in [EvaluationSplit.dev, .devMismatched] {
            let r = try CheckpointEvaluation.run(checkpoint: dir, task: task, workspace: ws, split: split)
            let examples = split == .dev ? data.dev : data.devMismatched
            XCTAssertEqual(r.evaluation.examples, try GLUEReader.read(task: .mnli, split: split == .dev ? "dev" : "dev_mismatched",
                                                                      dataDir: fixture("glue")).examples.count)
            let want = Evaluator<Float>(model: BertModel(config: config), task: data).evaluate(θ, quantization: .fullPrecision, examples: examples)
            XCTAssertEqual(r.evaluation.extra, want.extra, "\(split)")
            XCTAssertEqual(Set(r.evaluation.extra.keys), ["accuracy", "mcc"])
        }
        // A QAT run's tokenizer is its teacher's (the path its metadata names).
        let runDir = tempDir("ck-text-run")
        var cfg = QATConfig(mode: .kd)
        cfg.epochs = 1; cfg.batchSize = 4; cfg.evalEvery = 1; cfg.devProbeSize = 2
        _ = try QATRun(model: BertModel(config: config), task: data, teacher: θ, config: cfg)
            .run(outDir: runDir, teacherPath: dir.path, teacherDevMetric: nil)
        XCTAssertEqual(CheckpointEvaluation.tokenizerDirectory(kind: .student(.kd), location: runDir, workspace: ws, task: task).path, dir.path)
        let student = try CheckpointEvaluation.run(checkpoint: runDir, task: task, workspace: ws, split: .devMismatched)
        XCTAssertEqual(student.kind, .student(.kd))
        XCTAssertEqual(student.evaluation.examples, data.devMismatched.count)
    }
}
