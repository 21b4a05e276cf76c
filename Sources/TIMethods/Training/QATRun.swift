// Quantization-aware training of a student initialized from the teacher, with distillation and
// (for the TI modes) the two-step pipeline: step 1 of s steps under intervention with its own
// learning-rate schedule; step 2 from step 1's last weights with a fresh optimizer, intervention
// off, KD loss, schedule over N − s. Every step and every evaluation streams to the run directory.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

public struct QATConfig: Codable, Equatable, Sendable {
    public var mode: QATMode
    public var seed: UInt64 = 1
    public var learningRate = 2e-4
    public var epochs = 3
    public var batchSize = 32
    /// Step-1 length s; nil scales the seed's 60-of-1600 iterations (CoLA) to this budget.
    public var stepOneLength: Int? = nil
    public var evalEvery = 25
    public var devProbeSize = 256
    public var includeTaskLoss = false
    public var adam = AdamWConfig()
    /// PTQ options (calibration, weight range, quant-dict); nil is the defaults. Optional so that the
    /// configuration hash of every other mode is unchanged.
    public var ptq: PTQOptions? = nil
    /// AdaRound options (its calibration batches come from `ptq`); nil is the defaults.
    public var adaRound: AdaRoundOptions? = nil

    public init(mode: QATMode) { self.mode = mode }

    public func totalSteps(trainExamples n: Int) -> Int { epochs * ((n + batchSize - 1) / batchSize) }

    public func resolvedStepOneLength(total: Int) -> Int {
        stepOneLength ?? max(6, Int((Double(total) * 60 / 1600).rounded()))
    }
}

/// One evaluation of the student: real performance, intervention off, evaluation mode.
public struct QATEval: Codable, Sendable {
    public var step: Int
    public var phase: Int
    public var devMetric: Double
    public var devLoss: Double
    /// KD loss without intervention on the fixed dev probe (comparable across modes).
    public var probeDistillationLoss: Double
    public var attentionBlockMSE: [Double]
    public var layerOutputMSE: [Double]
}

public struct QATSummary: Codable, Sendable {
    public var mode: QATMode
    public var totalSteps: Int
    public var stepOneLength: Int?
    public var finalDevMetric: Double
    public var bestDevMetric: Double
    public var finalProbeDistillationLoss: Double
    public var initialProbeDistillationLoss: Double
    /// Training loss right after the intervention is removed minus the last step-1 loss.
    public var stepOneLossJump: Double?
    public var seconds: Double
}

public struct QATRunMetadata: Codable, Sendable {
    public var tool = "tianalyze qat"
    public var config: QATConfig
    public var task: String
    public var dataHash: String
    public var teacherPath: String
    public var teacherHash: String
    public var teacherDevMetric: Double?
    public var quantization: [String: String]
    public var gitRevision: String
    /// How ternary × 8-bit forward products were computed (see Int8Lattice); it changes float
    /// rounding only, so it is recorded but not part of the configuration hash.
    public var arithmetic: String?
    public var started: String
    public var finished: String?
    public var summary: QATSummary?
    /// Hash of the configuration, teacher and data: a rerun resumes only the same run.
    public var configHash: String?
}

public struct QATRun {
    public let model: BertModel
    public let task: TaskData
    public let teacher: [Float]
    public let config: QATConfig
    /// Test hook: stop (throwing) right after the state saved at the first evaluation at or past this step.
    public var interruptAfterStep: Int? = nil

    public init(model: BertModel, task: TaskData, teacher: [Float], config: QATConfig) {
        self.model = model; self.task = task; self.teacher = teacher; self.config = config
    }

    public func run(outDir: URL, teacherPath: String, teacherDevMetric: Double?, progress: Bool = true) throws -> (student: [Float], summary: QATSummary, evals: [QATEval]) {
        let start = Date()
        let mode = config.mode
        let total = mode.isPostTraining ? 0 : config.totalSteps(trainExamples: task.train.count)
        let quantization = mode.quantization(ranges: nil, ptq: config.ptq)
        // LSQ: the student's layout extends BERT's with the learned steps; the teacher vector is
        // extended with their initial values (a full-precision forward never reads them).
        let model = mode.learnsSteps ? LSQ.model(config: self.model.config, quantization: quantization) : self.model
        let teacher = mode.learnsSteps ? LSQ.initialParameters(bert: self.teacher, model: model, quantization: quantization) : self.teacher
        let bertCount = self.model.layout.count
        let stepsURL = outDir.appendingPathComponent(Self.learnedStepsFile)
        let earlyWindow = min(config.resolvedStepOneLength(total: total), total)
        let s = mode.isTwoStep ? earlyWindow : 0
        let configHash = Self.configHash(config: config, teacher: self.teacher, task: task)
        if let done = try? JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: outDir.appendingPathComponent("metadata.json"))),
           done.configHash == configHash, let summary = done.summary,
           let student = try? Checkpoint.load(outDir.appendingPathComponent("student")) {
            var θ = student.parameters
            if mode.learnsSteps { θ += try SafeTensorsFile.read(url: stepsURL).values("steps", as: Float.self) }
            // The config hash does not cover the layout: an LSQ run from before learned activation
            // steps has the same hash but fewer steps.
            guard θ.count == model.layout.count else {
                throw DataError.mismatch(file: stepsURL.path, reason: "\(θ.count - bertCount) steps, this build's \(mode.rawValue) layout needs \(model.layout.count - bertCount) (a run from an older layout); use another --out or remove it")
            }
            return (θ, summary, try Self.readEvals(outDir))  // finished before: nothing to do
        }
        let resume = try QATCheckpointState.load(outDir, expectedHash: configHash)
        if let r = resume, r.parameters.count != model.layout.count {
            throw DataError.mismatch(file: outDir.path, reason: "its resumable state holds \(r.parameters.count) parameters, this build's \(mode.rawValue) layout \(model.layout.count) (a run from an older layout); use another --out or remove it")
        }
        var meta = QATRunMetadata(config: config, task: task.name, dataHash: task.hash, teacherPath: teacherPath,
                                  teacherHash: Checkpoint.hash(self.teacher), teacherDevMetric: teacherDevMetric,
                                  quantization: quantization.summary, gitRevision: Provenance.gitRevision(),
                                  arithmetic: Int8Path.enabled ? "ternary × 8-bit forward products as int8 GEMMs (AMX)" : "float GEMMs",
                                  started: Provenance.timestamp(), configHash: configHash)
        if resume == nil, let existing = try? JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: outDir.appendingPathComponent("metadata.json"))),
           existing.configHash != configHash {
            throw DataError.mismatch(file: outDir.appendingPathComponent("metadata.json").path,
                                     reason: "the run directory holds another configuration (hash \(existing.configHash ?? "none"), this one \(configHash)); use another --out or remove it")
        }
        try AtomicFile.writeJSON(meta, to: outDir.appendingPathComponent("metadata.json"))
        let resumedAt = resume?.step
        let stepLog = try CSVLog(outDir.appendingPathComponent("steps.csv"), header: [
            "step", "phase", "intervention", "lr", "loss", "task", "logits", "hidden", "scores", "attention_blocks", "grad_norm", "seconds"],
            truncateAfter: resumedAt)
        let evalLog = try CSVLog(outDir.appendingPathComponent("evals.csv"), header: ["step", "phase", "dev_metric", "dev_loss", "probe_kd_loss"],
                                 truncateAfter: resumedAt)
        let layerLog = try CSVLog(outDir.appendingPathComponent("layers.csv"), header: ["step", "layer", "attn_mse", "out_mse"],
                                  truncateAfter: resumedAt)

        let probe = DistillationProbe(model: model, task: task, teacher: teacher, size: config.devProbeSize)
        let evaluator = Evaluator<Float>(model: model, task: task)
        var evals: [QATEval] = resume == nil ? [] : try Self.readEvals(outDir)
        var θ = resume?.parameters ?? teacher
        let elapsedBefore = resume?.elapsed ?? 0
        // Stored-range modes (Q8BERT): the EMA activation ranges are training state next to θ, saved
        // with every resumable state and frozen (copied into the QuantConfig) for evaluation.
        let tracksRanges = quantization.usesStoredRanges
        let rangesURL = outDir.appendingPathComponent(Self.activationRangesFile)
        var ranges = ActivationRangeState(decay: 0.9999)
        if tracksRanges, resume != nil {
            ranges = try JSONDecoder().decode(ActivationRangeState.self, from: Data(contentsOf: rangesURL))
        }
        if mode.isPostTraining || mode.calibratesActivations, resume == nil {
            // PTQ (and LSQ's initial activation steps): calibrate on seeded training batches before any step.
            let o = config.ptq ?? PTQOptions()
            var calibration = BatchStream(examples: task.train, batchSize: o.calibrationBatchSize, seqLen: task.seqLen,
                                          regression: task.isRegression, rng: SeededRandom(seed: config.seed).derived("calibration"))
            let batches = (0..<o.calibrationBatches).map { _ in calibration.next() }
            if mode == .adaRoundW4 {
                θ = AdaRound.apply(model: model, parameters: θ, batches: batches, options: config.adaRound ?? AdaRoundOptions())
            } else {
                ranges = PTQ.calibrate(model: model, latent: θ, config: quantization, batches: batches, estimator: o.estimator).ranges!
                // LSQ: the activation steps start from the calibrated ranges (which also fix the zero points);
                // from here on they are parameters, saved and resumed with θ.
                if mode.learnsSteps { LSQ.initializeActivationSteps(&θ, model: model, quantization: quantization, ranges: ranges) }
            }
        }
        func evaluate(step: Int, phase: Int) throws {
            var quantization = quantization
            if tracksRanges { quantization.ranges = ranges }
            let ev = evaluator.evaluate(θ, quantization: quantization)
            let (kd, attn, out) = probe.measure(θ, quantization: quantization)
            let e = QATEval(step: step, phase: phase, devMetric: ev.metric, devLoss: ev.loss, probeDistillationLoss: kd,
                            attentionBlockMSE: attn, layerOutputMSE: out)
            evals.append(e)
            try evalLog.append([String(step), String(phase), Fmt.g(ev.metric), Fmt.g(ev.loss), Fmt.g(kd)])
            for l in attn.indices { try layerLog.append([String(step), String(l), Fmt.g(attn[l]), Fmt.g(out[l])]) }
        }
        if resume == nil { try evaluate(step: 0, phase: mode.isTwoStep ? 1 : 0) }

        var stream = BatchStream(examples: task.train, batchSize: config.batchSize, seqLen: task.seqLen,
                                 regression: task.isRegression, rng: SeededRandom(seed: config.seed).derived("shuffle"))
        var scheduleRng = SeededRandom(seed: config.seed).derived("ti-s")
        let phases: [(phase: Int, steps: Int)] = mode.isTwoStep ? [(1, s), (2, total - s)] : [(0, total)]
        let bar = ProgressReporter("qat \(mode.rawValue)", total: total, enabled: progress)
        var step = 0
        var lastStepOneLoss: Double? = resume?.lastStepOneLoss, jump: Double? = resume?.stepOneJump
        for (phase, steps) in phases where steps > 0 {
            // Fresh optimizer state per step, as the seed does (step 2 is a separate run there).
            var adam = AdamW<Float>(layout: model.layout, config: config.adam)
            let schedule = LinearWarmupSchedule(peak: config.learningRate, totalSteps: steps)
            for local in 0..<steps {
                let batch = stream.next()
                let point = phase == 1 ? mode.intervention(atStep: local, stepOneLength: s, rng: &scheduleRng) : nil
                if let r = resume, step < r.step {
                    // Replaying the data order and schedule draws up to the saved step.
                    step += 1
                    if step == r.step, r.phase == phase { adam = AdamW(layout: model.layout, config: config.adam, m: r.m, v: r.v) }
                    continue
                }
                var spec = mode.objectiveSpec(intervention: point, includeTaskLoss: config.includeTaskLoss)
                spec.quantization = quantization
                if tracksRanges { spec.quantization.ranges = ranges }  // fixed ranges (LSQ: zero points); the EMA tracker overrides them (Q8BERT)
                var obj = BertObjective<Float>(model: model, spec: spec)
                // Only trained ranges (Q8BERT's EMA) are updated by training steps; calibrated ones stay fixed.
                let tracker = tracksRanges && !mode.calibratesActivations ? ActivationRangeTracker(state: ranges) : nil
                obj.rangeTracker = tracker
                var dropout = SeededRandom(seed: config.seed).derived("dropout/\(step)")
                let r = Self.trainingStep(obj, θ: θ, batch: batch, teacher: teacher, dropoutSeed: dropout.next())
                if let tracker { ranges = tracker.state }
                guard r.terms.total.isFinite, Vec.isFinite(r.gradient!) else {
                    throw ModelError.nonFinite("\(mode.rawValue) training loss or gradient at step \(step) (phase \(phase)); lower --lr")
                }
                let lr = schedule.rate(at: local)
                var gradient = r.gradient!
                if mode.learnsSteps { LSQ.scaleGradients(&gradient, model: model, quantization: quantization) }
                let gnorm = adam.step(&θ, gradient: gradient, learningRate: lr)
                if mode.learnsSteps { LSQ.clampSteps(&θ, model: model) }
                step += 1
                if phase == 1 && local == steps - 1 { lastStepOneLoss = r.terms.total }
                if phase == 2 && local == 0, let last = lastStepOneLoss { jump = r.terms.total - last }
                let t = r.terms
                let elapsed = elapsedBefore + Date().timeIntervalSince(start)
                try stepLog.append([String(step), String(phase), point?.rawValue ?? "none", Fmt.g(lr), Fmt.g(t.total), Fmt.g(t.task),
                                    Fmt.g(t.logits), Fmt.g(t.hidden), Fmt.g(t.scores), Fmt.g(t.attentionBlocks), Fmt.g(gnorm),
                                    Fmt.g(elapsed)])
                // Every mode is evaluated at the same steps (densely over the first s steps, where
                // TI's step 1 runs, then every evalEvery), so steps-to-target compare fairly.
                if step % config.evalEvery == 0 || local == steps - 1 || (step <= earlyWindow && step % max(1, earlyWindow / 6) == 0) {
                    try evaluate(step: step, phase: phase)
                    bar.update(step, String(format: "loss %.4f dev %@ %.4f", t.total, task.metricName, evals.last!.devMetric))
                    if tracksRanges { try AtomicFile.writeJSON(ranges, to: rangesURL) }
                    try QATCheckpointState(step: step, phase: phase, parameters: θ, m: adam.m, v: adam.v, elapsed: elapsed,
                                           lastStepOneLoss: lastStepOneLoss, stepOneJump: jump)
                        .save(outDir, hash: configHash)
                    if let k = interruptAfterStep, step >= k { throw CancellationError() }
                }
            }
        }
        let summary = QATSummary(mode: mode, totalSteps: total, stepOneLength: mode.isTwoStep ? s : nil,
                                 finalDevMetric: evals.last!.devMetric, bestDevMetric: evals.map(\.devMetric).max()!,
                                 finalProbeDistillationLoss: evals.last!.probeDistillationLoss,
                                 initialProbeDistillationLoss: evals.first!.probeDistillationLoss, stepOneLossJump: jump,
                                 seconds: elapsedBefore + Date().timeIntervalSince(start))
        var studentMeta = ["tianalyze.mode": mode.rawValue, "tianalyze.quantization": quantization.name]
        if tracksRanges {
            try AtomicFile.writeJSON(ranges, to: rangesURL)
            studentMeta["tianalyze.activation_ranges"] = String(decoding: try JSONEncoder().encode(ranges), as: UTF8.self)
        }
        if mode.learnsSteps {
            // The HF checkpoint keeps BERT's layout; the learned steps sit next to it, in layout order.
            let steps = Array(θ[bertCount...])
            try SafeTensorsWriter.write(tensors: [("steps", [steps.count], steps)],
                                        metadata: ["names": model.layout.slots.dropFirst(self.model.layout.slots.count).map(\.name).joined(separator: ",")],
                                        to: stepsURL)
        }
        try Checkpoint.save(Array(θ[..<bertCount]), config: model.config, to: outDir.appendingPathComponent("student"), metadata: studentMeta)
        if mode == .q8bert {
            // Q8BERT's deployable form: int8 codes + per-tensor scales + frozen ranges (QuantizedExport.load evaluates it).
            var q = quantization
            q.ranges = ranges
            try QuantizedExport.write(θ, model: model, config: q, to: outDir.appendingPathComponent(Self.int8ExportFile))
        }
        meta.finished = Provenance.timestamp()
        meta.summary = summary
        try AtomicFile.writeJSON(meta, to: outDir.appendingPathComponent("metadata.json"))
        QATCheckpointState.remove(outDir)
        return (θ, summary, evals)
    }
}

extension QATRun {
    /// The EMA activation ranges of a stored-range mode, next to `metadata.json`.
    public static let activationRangesFile = "activation-ranges.json"
    /// LSQ's learned steps (tensor "steps", in `LSQ.model` layout order after BERT's parameters).
    public static let learnedStepsFile = "learned-steps.safetensors"
    /// Q8BERT's int8 checkpoint, next to the FP32 student.
    public static let int8ExportFile = "student-int8.safetensors"

    /// Forward and backward of one step. Without intervention the teacher's and the student's
    /// forwards are independent and run on two workers; the result does not depend on the worker count.
    static func trainingStep(_ obj: BertObjective<Float>, θ: [Float], batch: Batch, teacher: [Float], dropoutSeed: UInt64) -> ObjectiveResult<Float> {
        guard obj.spec.needsTeacher else {
            return obj.evaluate(θ, batch: batch, teacher: nil, gradient: true, dropoutSeed: dropoutSeed)
        }
        if obj.spec.intervention != nil {
            let t = obj.teacherTrace(teacher: teacher, batch: batch)
            return obj.evaluate(θ, batch: batch, teacher: t, gradient: true, dropoutSeed: dropoutSeed)
        }
        var teacherTrace: ForwardTrace<Float>? = nil
        var student: (QuantizedParameters<Float>, ForwardTrace<Float>)? = nil
        _ = Parallel.map(2) { i -> Bool in
            if i == 0 { teacherTrace = obj.teacherTrace(teacher: teacher, batch: batch) }
            else { student = obj.studentForward(θ, batch: batch, teacher: nil, dropoutSeed: dropoutSeed) }
            return true
        }
        return obj.finish(student!.0, student!.1, batch: batch, teacher: teacherTrace, gradient: true)
    }
}

/// Epoch-wise reshuffled batches, continuing across the two steps of a TI run.
public struct BatchStream {
    let examples: [Example]
    let batchSize: Int, seqLen: Int, regression: Bool
    var rng: SeededRandom
    var order: [Example] = []
    var position = 0

    public init(examples: [Example], batchSize: Int, seqLen: Int, regression: Bool, rng: SeededRandom) {
        self.examples = examples; self.batchSize = batchSize; self.seqLen = seqLen; self.regression = regression; self.rng = rng
    }

    public mutating func next() -> Batch {
        if position >= order.count {
            order = examples
            rng.shuffle(&order)
            position = 0
        }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return Batching.batch(order[position..<end], seqLen: seqLen, regression: regression)
    }
}

/// A fixed dev subset with cached teacher traces: KD loss without intervention and per-layer MSE
/// of the attention-block and layer outputs against the teacher (the paper's per-layer figures).
public struct DistillationProbe {
    let model: BertModel
    let batches: [Batch]
    let teacherTraces: [ForwardTrace<Float>]

    public init(model: BertModel, task: TaskData, teacher: [Float], size: Int) {
        self.model = model
        let examples = Array(task.dev.prefix(size))
        batches = Batching.batches(examples, batchSize: 64, seqLen: task.seqLen, regression: task.isRegression)
        let bs = batches
        teacherTraces = Parallel.map(bs.count) { model.forward(effective: teacher, batch: bs[$0], options: ForwardOptions()) }
    }

    public func measure(_ θ: [Float], quantization: QuantConfig) -> (kd: Double, attention: [Double], output: [Double]) {
        let obj = BertObjective<Float>(model: model, spec: ObjectiveSpec(quantization: quantization, loss: .distillation))
        let L = model.config.numLayers
        var kd = 0.0, attn = [Double](repeating: 0, count: L), out = attn
        var count = 0
        let perBatch = Parallel.map(batches.count) { i -> (Double, [Double], [Double]) in
            let t = teacherTraces[i]
            let r = obj.evaluate(θ, batch: batches[i], teacher: t, gradient: false)
            let a = (0..<L).map { Double(Losses.meanSquaredError(r.trace.layers[$0].attention.blockOutput, t.layers[$0].attention.blockOutput).0) }
            let o = (0..<L).map { Double(Losses.meanSquaredError(r.trace.layers[$0].feedForward.output, t.layers[$0].feedForward.output).0) }
            return (r.terms.total, a, o)
        }
        for (b, r) in zip(batches, perBatch) {
            let w = Double(b.size)
            kd += w * r.0
            for l in 0..<L { attn[l] += w * r.1[l]; out[l] += w * r.2[l] }
            count += b.size
        }
        let inv = 1 / Double(max(count, 1))
        return (kd * inv, attn.map { $0 * inv }, out.map { $0 * inv })
    }
}
