// The QAT training loop, the same for every method: the method (Methods/) decides the quantization,
// the student, the work before step 0, the objective of each step and what happens around the
// optimizer; the loop orders the data, steps the optimizer per phase, evaluates, logs, and saves a
// resumable state at every evaluation. Every step and evaluation streams to the run directory.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

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

    public func run(outDir: URL, teacherPath: String, teacherDevMetric: Double?, events: RunEvents = .silent) throws
        -> (student: [Float], summary: QATSummary, evals: [QATEval]) {
        let start = Date()
        let method = config.mode.method
        let budget = config.totalSteps(trainExamples: task.train.count)
        let phases = method.phases(total: budget, stepOne: min(config.resolvedStepOneLength(total: budget), budget))
        let total = phases.map(\.steps).reduce(0, +)
        let configHash = Self.configHash(config: config, teacher: teacher, task: task)
        if let done = try finishedRun(outDir, hash: configHash) { return done }
        let resume = try QATCheckpointState.load(outDir, expectedHash: configHash)
        var student = method.initialStudent(teacher: model, parameters: teacher, config: config)
        try checkResumable(resume, layoutCount: student.model.layout.count, dir: outDir)
        let teacherForProbe = student.parameters  // the teacher in the student's layout (LSQ: with initial steps)
        var meta = try startMetadata(outDir, hash: configHash, resuming: resume != nil, teacherPath: teacherPath,
                                     teacherDevMetric: teacherDevMetric, quantization: method.quantization(config: config, ranges: nil))
        if let r = resume {
            student.parameters = r.parameters
            if method.defaultQuantization.usesStoredRanges { student.ranges = try StudentFiles.readRanges(outDir) }
        } else {
            try method.prepare(&student, task: task, config: config)
        }
        let recorder = try QATRecorder(dir: outDir, resumedAt: resume?.step, model: student.model, task: task,
                                       teacher: teacherForProbe, probeSize: config.devProbeSize)
        if resume == nil { try recorder.evaluate(student, quantization: quantization(student), step: 0, phase: phases.first?.number ?? 0) }

        var stream = BatchStream(examples: task.train, batchSize: config.batchSize, seqLen: task.seqLen,
                                 regression: task.isRegression, rng: SeededRandom(seed: config.seed).derived("shuffle"))
        var scheduleRng = SeededRandom(seed: config.seed).derived("ti-s")
        let bar = ProgressReporter("qat \(config.mode.rawValue)", total: total, events: events)
        let denseEvalWindow = min(config.resolvedStepOneLength(total: budget), total)
        var step = 0
        var lastPhaseLoss = resume?.lastStepOneLoss, jump = resume?.stepOneJump
        for (index, phase) in phases.enumerated() where phase.steps > 0 {
            // Fresh optimizer state per phase, as the seed does (step 2 is a separate run there).
            var adam = AdamW<Float>(layout: student.model.layout, config: config.adam)
            let schedule = LinearWarmupSchedule(peak: config.learningRate, totalSteps: phase.steps)
            for local in 0..<phase.steps {
                let batch = stream.next()
                let point = method.intervention(phase: phase, step: local, rng: &scheduleRng)
                if let r = resume, step < r.step {
                    // Replaying the data order and schedule draws up to the saved step.
                    step += 1
                    if step == r.step, r.phase == phase.number { adam = AdamW(layout: student.model.layout, config: config.adam, m: r.m, v: r.v) }
                    continue
                }
                let r = try trainingStep(&student, adam: &adam, batch: batch, intervention: point, step: step, phase: phase,
                                         learningRate: schedule.rate(at: local))
                step += 1
                if phases.count > 1 && index == 0 && local == phase.steps - 1 { lastPhaseLoss = r.terms.total }
                if index > 0 && local == 0, let last = lastPhaseLoss { jump = r.terms.total - last }
                let elapsed = (resume?.elapsed ?? 0) + Date().timeIntervalSince(start)
                try recorder.logStep(step, phase: phase.number, intervention: point, lr: schedule.rate(at: local), terms: r.terms,
                                     gradientNorm: r.gradientNorm, elapsed: elapsed)
                // Every method is evaluated at the same steps (densely over the first s steps, where
                // TI's step 1 runs, then every evalEvery), so steps-to-target compare fairly.
                guard step % config.evalEvery == 0 || local == phase.steps - 1
                        || (step <= denseEvalWindow && step % max(1, denseEvalWindow / 6) == 0) else { continue }
                try recorder.evaluate(student, quantization: quantization(student), step: step, phase: phase.number)
                bar.update(step, String(format: "loss %.4f dev %@ %.4f", r.terms.total, task.metricName, recorder.evals.last!.devMetric))
                try saveResumable(student, adam: adam, step: step, phase: phase.number, elapsed: elapsed, lastPhaseLoss: lastPhaseLoss,
                                  jump: jump, dir: outDir, hash: configHash)
                if let k = interruptAfterStep, step >= k { throw CancellationError() }
            }
        }
        let evals = recorder.evals
        let summary = QATSummary(mode: config.mode, totalSteps: total, stepOneLength: phases.count > 1 ? phases[0].steps : nil,
                                 finalDevMetric: evals.last!.devMetric, bestDevMetric: evals.map(\.devMetric).max()!,
                                 finalProbeDistillationLoss: evals.last!.probeDistillationLoss,
                                 initialProbeDistillationLoss: evals.first!.probeDistillationLoss, stepOneLossJump: jump,
                                 seconds: (resume?.elapsed ?? 0) + Date().timeIntervalSince(start))
        try saveStudent(student, dir: outDir)
        meta.finished = Provenance.timestamp()
        meta.summary = summary
        try AtomicFile.writeJSON(meta, to: outDir.appendingPathComponent("metadata.json"))
        QATCheckpointState.remove(outDir)
        return (student.parameters, summary, evals)
    }
}
