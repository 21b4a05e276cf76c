// Dev-set evaluation: task metric and loss of a (possibly quantized) model, no dropout; with an
// intervention only where asked (TI's step-1 evaluation, as the seeds evaluate step 1).
import TILinalg
import TIQuant
import TIModel
import TIData

public struct EvaluationResult: Codable, Equatable, Sendable {
    public var metric: Double
    public var metricName: String
    public var loss: Double
    public var examples: Int
    /// Every GLUE score of the task's kind, keyed by `GLUEMetric` raw value (accuracy, f1,
    /// acc_and_f1, mcc for classes; f1 and acc_and_f1 only for two; pearson, spearman, corr for regression).
    public var extra: [String: Double]
}

public struct Evaluator<T: BLASScalar> {
    public let model: BertModel
    public let task: TaskData
    public var batchSize: Int
    /// Ranks deal the batches out and gather the logits: each batch is evaluated whole, as by one process.
    public var communicator: Communicator
    /// The layers an evaluation's intervention applies in (nil: every layer).
    public var interventionLayers: [Int]? = nil
    /// Inference of an int8 model: the Linear layers run in integer arithmetic (IntegerLinears).
    public var integerLinears: IntegerLinears? = nil

    public init(model: BertModel, task: TaskData, batchSize: Int = 128, communicator: Communicator = SingleProcess.shared) {
        self.model = model; self.task = task; self.batchSize = batchSize; self.communicator = communicator
    }

    /// With `intervention`, each batch's forward takes the teacher's tensor at that point (the teacher's
    /// full-precision forward on the same batch, computed alongside).
    public func evaluate(_ θ: [T], quantization: QuantConfig, examples: [Example]? = nil,
                         intervention: (point: InterventionPoint, teacher: [T])? = nil) -> EvaluationResult {
        evaluateWithLogits(θ, quantization: quantization, examples: examples, intervention: intervention).result
    }

    /// `evaluate`, with the logits it scored ([examples, labels] in order), for callers that compare
    /// them with another model's without a second forward over the same examples.
    public func evaluateWithLogits(_ θ: [T], quantization: QuantConfig, examples: [Example]? = nil,
                                   intervention: (point: InterventionPoint, teacher: [T])? = nil) -> (result: EvaluationResult, logits: [T]) {
        let data = examples ?? task.dev
        let obj = BertObjective<T>(model: model, spec: ObjectiveSpec(quantization: quantization, loss: .task))
        let θq = QuantizedParameters(latent: θ, layout: model.layout, config: quantization).effective
        var lossSum = 0.0
        var predictions: [Int] = [], outputs: [Double] = []
        let batches = Batching.batches(data, batchSize: batchSize, seqLen: task.seqLen, regression: task.isRegression)
        let mine = communicator.dealt(batches.count)
        let computed = Parallel.map(mine.count) { k -> [Double] in
            let i = mine[k]
            let teacherTrace = intervention.map { model.forward(effective: $0.teacher, batch: batches[i], options: ForwardOptions()) }
            var options = ForwardOptions(quantization: quantization, intervention: intervention?.point, teacher: teacherTrace)
            options.interventionLayers = interventionLayers
            options.integerLinears = integerLinears
            let tr = model.forward(effective: θq, batch: batches[i], options: options)
            return [Double(obj.taskLoss(tr.logits, batch: batches[i]).0) * Double(batches[i].size)] + tr.logits.array.map { Double($0) }
        }
        // Per batch: its loss sum, then its logits (exact in Double), in batch order on every rank.
        let logits = communicator.gatherDealt(computed, count: batches.count).map { (loss: $0[0], logits: Array($0.dropFirst())) }
        let c = model.config.numLabels
        var all: [T] = []
        for (batch, out) in zip(batches, logits) {
            all += out.logits.map { T($0) }  // exact: the Doubles were converted from T
            lossSum += out.loss
            for i in 0..<batch.size {
                if task.isRegression { outputs.append(Double(out.logits[i])); continue }
                var best = 0
                for j in 1..<c where out.logits[i * c + j] > out.logits[i * c + best] { best = j }
                predictions.append(best)
            }
        }
        return (Self.score(task: task, data: data, predictions: predictions, outputs: outputs, loss: lossSum / Double(max(data.count, 1))),
                all)
    }

    public static func score(task: TaskData, data: [Example], predictions: [Int], outputs: [Double], loss: Double) -> EvaluationResult {
        let scores = task.isRegression
            ? GLUEMetric.regression(outputs: outputs, targets: data.map(\.target))
            : GLUEMetric.classification(predictions: predictions, labels: data.map(\.label), numLabels: task.numLabels)
        let extra = Dictionary(uniqueKeysWithValues: scores.map { ($0.key.rawValue, $0.value.isFinite ? $0.value : 0) })
        let headline = GLUEMetric.reported(numLabels: task.numLabels).first!.rawValue
        return EvaluationResult(metric: extra[task.metricName] ?? extra[headline]!, metricName: task.metricName, loss: loss,
                                examples: data.count, extra: extra)
    }
}

extension EvaluationResult {
    /// Every score in report order (`GLUEMetric.reported`), as (name, value).
    public var scores: [(name: String, value: Double)] {
        GLUEMetric.allCases.compactMap { m in extra[m.rawValue].map { (m.rawValue, $0) } }
    }
}
