// Fine-tuning the full-precision teacher from scratch on an embedded task: a fixed epoch budget
// with early stopping on dev, like a real fine-tuned model (not driven to zero loss).
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

public struct FineTuneConfig: Codable, Equatable, Sendable {
    public var seed: UInt64 = 1
    public var learningRate = 1e-3
    public var epochs = 8
    public var batchSize = 32
    /// Evaluate on dev every this many steps; stop after `patience` evaluations without improvement.
    public var evalEvery = 100
    public var patience = 10
    public var adam = AdamWConfig()
    public init() {}

    /// Refuses a schedule that trains nothing or cannot be recorded (a non-finite rate is not JSON).
    public func validate() throws {
        try ScheduleChecks.schedule(learningRate: learningRate, epochs: epochs, batchSize: batchSize, evalEvery: evalEvery)
        try ScheduleChecks.require(patience >= 1, .patience, patience, "at least 1 evaluation")
    }
}

public struct FineTuneResult: Codable, Sendable {
    public var config: FineTuneConfig
    public var task: String
    public var dataHash: String
    public var steps: Int
    public var bestStep: Int
    public var stoppedEarly: Bool
    public var seconds: Double
    /// Every GLUE score of the task on dev (`extra`), the headline in `metric`.
    public var dev: EvaluationResult
    /// The same teacher with ternary weights and 8-bit activations, no QAT.
    public var devTernaryNoQAT: EvaluationResult
    public var history: [EvalPoint]
    /// MNLI's dev_mismatched set, scored like `dev` (nil for other tasks and in older teacher.json files).
    public var devMismatched: EvaluationResult? = nil
}

public struct EvalPoint: Codable, Sendable {
    public var step: Int
    public var trainLoss: Double
    public var devMetric: Double
    public var devLoss: Double
}

public enum FineTune {
    /// Full precision has no batch-wide quantizer scales, so a batch splits exactly into fixed
    /// chunks evaluated in parallel (the loss is a per-example mean). The chunking does not depend
    /// on the worker count, so results are identical with 1 or 2 workers. Each rank chunks its share
    /// of the batch; dropout is keyed by global example index, so the masks are those of the whole
    /// batch whatever the chunks and ranks.
    static let chunks = 2

    static func fullPrecisionStep(_ obj: BertObjective<Float>, θ: [Float], batch: Batch, seed: UInt64, step: Int,
                                  communicator comm: Communicator = SingleProcess.shared) -> (Double, [Float]) {
        let share = DataParallel.share(of: batch, comm)
        let size = share.size, per = (size + chunks - 1) / chunks
        let parts = stride(from: 0, to: size, by: per).map { share.slice($0..<min($0 + per, size)) }
        var stream = SeededRandom(seed: seed).derived("dropout/\(step)")
        let dropoutSeed = stream.next()
        let results = Parallel.map(parts.count) { i -> (Double, [Float]) in
            let r = obj.evaluate(θ, batch: parts[i], teacher: nil, gradient: true, dropoutSeed: dropoutSeed)
            return (r.terms.total, r.gradient!)
        }
        var loss = 0.0
        var g = [Float](repeating: 0, count: θ.count)
        for (part, r) in zip(parts, results) {
            let w = Double(part.size) / Double(size)
            loss += w * r.0
            BLAS.axpy(Float(w), r.1, &g)
        }
        var terms = LossTerms()
        terms.total = loss
        DataParallel.mean(&g, share: share, of: batch, comm)
        return (DataParallel.mean(terms, share: share, of: batch, comm).0.total, g)
    }

    /// Fine-tunes from `initial` (a pretrained encoder) or from a seeded random initialization.
    /// Under several ranks (`communicator`) each rank trains on its share of every batch and the ranks
    /// share the evaluations; every rank returns the same result (the caller writes it on rank 0).
    public static func run(model: BertModel, task: TaskData, config: FineTuneConfig, initial: [Float]? = nil,
                           events: RunEvents = .silent, communicator: Communicator = SingleProcess.shared) throws -> ([Float], FineTuneResult) {
        try config.validate()
        try task.requireExamples()
        try ScheduleChecks.shares(batchSize: config.batchSize, examples: task.train.count, ranks: communicator.size)
        let events = communicator.isRoot ? events : .silent
        try MemoryBudget.require(ModelSize(model.config).trainingBytes(batch: config.batchSize, seqLen: task.seqLen),
                                 for: "fine-tuning at batch size \(config.batchSize)", file: task.name)
        let start = Date()
        var θ: [Float] = initial ?? model.initialParameters(seed: config.seed)
        var adam = AdamW<Float>(layout: model.layout, config: config.adam)
        let obj = BertObjective<Float>(model: model, spec: ObjectiveSpec(quantization: .fullPrecision, loss: .task))
        let evaluator = Evaluator<Float>(model: model, task: task, communicator: communicator)
        let stepsPerEpoch = (task.train.count + config.batchSize - 1) / config.batchSize
        let total = stepsPerEpoch * config.epochs
        let schedule = LinearWarmupSchedule(peak: config.learningRate, totalSteps: total)
        var rng = SeededRandom(seed: config.seed).derived("shuffle")
        let bar = ProgressReporter("finetune \(task.name)", total: total, events: events)
        var best = (metric: -Double.infinity, θ: θ, step: 0)
        var history: [EvalPoint] = []
        var sinceBest = 0, step = 0, runningLoss = 0.0, runningCount = 0
        var stopped = false
        var divergence = DivergenceGuard()
        training: for _ in 0..<config.epochs {
            var order = task.train
            rng.shuffle(&order)
            for batch in Batching.batches(order, batchSize: config.batchSize, seqLen: task.seqLen, regression: task.isRegression) {
                let (loss, gradient) = fullPrecisionStep(obj, θ: θ, batch: batch, seed: config.seed, step: step, communicator: communicator)
                // Reduced over the ranks: a NaN on any rank's share stops every rank here with the same line.
                guard loss.isFinite, Vec.isFinite(gradient) else {
                    throw OptionValueError(option: .learningRate, value: "\(config.learningRate)",
                                           reason: "training loss or gradient is not finite at step \(step); lower it")
                }
                try divergence.observe(loss: loss, step: step, phase: 0)
                adam.step(&θ, gradient: gradient, learningRate: schedule.rate(at: step))
                runningLoss += loss; runningCount += 1
                step += 1
                if step % config.evalEvery == 0 || step == total {
                    let ev = evaluator.evaluate(θ, quantization: .fullPrecision)
                    history.append(EvalPoint(step: step, trainLoss: runningLoss / Double(runningCount), devMetric: ev.metric, devLoss: ev.loss))
                    runningLoss = 0; runningCount = 0
                    if ev.metric > best.metric { best = (ev.metric, θ, step); sinceBest = 0 } else { sinceBest += 1 }
                    bar.update(step, String(format: "dev %@ %.4f (best %.4f)", task.metricName, ev.metric, best.metric))
                    if sinceBest >= config.patience { stopped = true; break training }
                }
            }
        }
        let dev = evaluator.evaluate(best.θ, quantization: .fullPrecision)
        let ternary = evaluator.evaluate(best.θ, quantization: .ternaryW8A8)
        let mismatched = task.devMismatched.isEmpty ? nil
            : evaluator.evaluate(best.θ, quantization: .fullPrecision, examples: task.devMismatched)
        let result = FineTuneResult(config: config, task: task.name, dataHash: task.hash, steps: step, bestStep: best.step,
                                    stoppedEarly: stopped, seconds: Date().timeIntervalSince(start), dev: dev,
                                    devTernaryNoQAT: ternary, history: history, devMismatched: mismatched)
        return (best.θ, result)
    }
}
