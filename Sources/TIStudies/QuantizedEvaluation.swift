// Evaluating Q8BERT's int8 export (`--load-quantized PATH`): the int8 codes · scales are the weights
// (already on their grid, so no weight quantizer runs), the export's frozen EMA ranges quantize the
// activations. When the export sits in the Q8BERT run directory that wrote it, the run's
// fake-quantized student is evaluated on the same examples too, so the deployable file can be
// checked against what training measured.
import Foundation
import TILinalg
import TIData
import TICore

public struct QuantizedEvaluationResult {
    /// Dev metric and task loss of the int8 model evaluated as a fake-quantized float model.
    public var evaluation: EvaluationResult
    /// Its logits, [examples, labels] in dev order.
    public var logits: [Float]
    /// The fake-quantized student of the run next to the export as training evaluated it (float biases;
    /// nil when the file stands alone).
    public var reference: EvaluationResult?
    /// Its logits in inference form (biases rounded to the export's int32 grid, as Intel's inference runs).
    public var referenceLogits: [Float]?
    /// max |int8 logit − fake-quantized logit| over the evaluated examples.
    public var maxLogitDifference: Double?
    /// The same file run in integer arithmetic, compared with `logits`.
    public var integer: IntegerArithmeticEvaluation?
}

public enum QuantizedEvaluation {
    /// The BERT config of an export: `student/config.json` of the run directory the file sits in (where
    /// `tianalyze qat --mode Q8BERT` writes both), else a `config.json` beside the file.
    public static func modelConfig(near url: URL) throws -> BertConfig {
        let dir = url.deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("student"), dir] {
            let configURL = candidate.appendingPathComponent(Checkpoint.configFile)
            if FileManager.default.fileExists(atPath: configURL.path) {
                return try BertConfig(huggingFace: HFBertConfig.load(url: configURL), file: configURL.path)
            }
        }
        throw DataError.io(file: url.path, reason: "no student/config.json or config.json next to it: an int8 export is read with the config of the Q8BERT run that wrote it")
    }

    /// The int8 model: its BERT, dequantized weights and activation-only quantization.
    public static func load(_ url: URL) throws -> (model: BertModel, effective: [Float], quantization: QuantConfig) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError.io(file: url.path, reason: "not found (an int8 export is <Q8BERT run>/\(QATRun.int8ExportFile))")
        }
        let model = BertModel(config: try modelConfig(near: url))
        let (θ, q) = try QuantizedExport.load(url, model: model)
        return (model, θ, q)
    }

    /// Logits of `examples`, [examples, labels].
    public static func logits(model: BertModel, effective θ: [Float], quantization: QuantConfig, examples: [Example],
                              task: TaskData, batchSize: Int = 128) -> [Float] {
        let batches = Batching.batches(examples, batchSize: batchSize, seqLen: task.seqLen, regression: task.isRegression)
        return Parallel.map(batches.count) { i in
            model.forward(effective: θ, batch: batches[i], options: ForwardOptions(quantization: quantization)).logits.array
        }.flatMap { $0 }
    }

    /// Evaluates the export on the first `samples` of `examples` (default: the dev set; all when
    /// `samples` is nil) as a fake-quantized float model and in integer arithmetic, and the run's
    /// fake-quantized student beside it when present.
    public static func run(export url: URL, task: TaskData, samples: Int? = nil, examples: [Example]? = nil) throws -> QuantizedEvaluationResult {
        let (model, θ, q) = try load(url)
        guard model.config.numLabels == task.numLabels else {
            throw DataError.mismatch(file: url.path, reason: "\(model.config.numLabels) labels, the task has \(task.numLabels)")
        }
        let linears = try QuantizedExport.integerLinears(url, model: model, quantization: q)  // refused before any long work
        let all = examples ?? task.dev
        let examples = Array(all.prefix(samples ?? all.count))
        let (evaluation, logits) = Evaluator<Float>(model: model, task: task).evaluateWithLogits(θ, quantization: q, examples: examples)
        var result = QuantizedEvaluationResult(evaluation: evaluation, logits: logits)
        result.integer = IntegerArithmeticEvaluation.run(model: model, effective: θ, quantization: q, linears: linears,
                                                         examples: examples, task: task, fakeLogits: logits)
        let dir = url.deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("metadata.json").path),
           FileManager.default.fileExists(atPath: dir.appendingPathComponent("student").path) {
            let s = try QATRun.loadStudent(dir)
            guard s.model.layout == model.layout else {
                throw DataError.mismatch(file: url.path, reason: "layout differs from the student in \(dir.path)")
            }
            // Intel's inference forward: the fake-quantized weights with the biases on their int32 grid.
            let grid = QuantizedExport.biasesOnAccumulatorGrid(s.parameters, model: s.model, config: s.quantization)
            let fake = QuantizedParameters(latent: grid, layout: s.model.layout, config: s.quantization).effective
            let refLogits = Self.logits(model: s.model, effective: fake, quantization: s.quantization, examples: examples, task: task)
            result.reference = Evaluator<Float>(model: s.model, task: task).evaluate(s.parameters, quantization: s.quantization, examples: examples)
            result.referenceLogits = refLogits
            result.maxLogitDifference = zip(logits, refLogits).map { Double(abs($0 - $1)) }.max() ?? 0
        }
        return result
    }
}

extension AnalysisTarget {
    /// The int8 model as an analysis point: its dequantized weights are the parameters and its
    /// activation-only quantization the scheme, under mode Q8BERT (whose frozen-range activation
    /// quantizers it carries). Hessians are then taken with respect to the deployed weights.
    public static func loadQuantized(_ url: URL, workspace: Workspace, task: TaskSource) throws -> AnalysisTarget {
        let (model, θ, q) = try QuantizedEvaluation.load(url)  // before a teacher is trained on demand
        let t = try workspace.teacher(task)
        guard model.config == t.model.config else {
            throw DataError.mismatch(file: url.path, reason: "config differs from the teacher's (\(t.dir.path))")
        }
        return AnalysisTarget(model: model, task: try workspace.taskData(task), taskName: task, teacher: t.parameters, parameters: θ,
                              checkpointPath: url.path, checkpointHash: Checkpoint.hash(θ), quantization: q, mode: MethodRegistry.int8Exporter)
    }
}
