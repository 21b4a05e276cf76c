// The QAT training loop, the same for every method: the method (Methods/) decides the quantization,
// the student, the work before step 0, the objective of each step and what happens around the
// optimizer; the loop orders the data, steps the optimizer per phase, evaluates, logs, and saves a
// resumable state at every evaluation. Every step and evaluation streams to the run directory.
// Under R ranks (`communicator`) each rank trains on its share of every batch (DataParallel.swift),
// evaluations are shared out, and rank 0 alone claims the directory and writes it; the others read
// a resumed run's state after rank 0 has opened it, and every failure is agreed by all ranks.
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
    /// A `step2` run continues this finished `step1` run directory.
    public var continuing: URL? = nil
    /// How each hyper-parameter was chosen (flag, recipe, default), recorded in metadata.json.
    public var settings: [String: ResolvedSetting]? = nil
    /// Test hook: stop (throwing) right after the state saved at the first evaluation at or past this step.
    public var interruptAfterStep: Int? = nil
    /// The ranks training this run together (one process by default).
    public var communicator: Communicator = SingleProcess.shared
    /// Telemetry watching the run (QATObserver.swift); they do not change what the run trains.
    public var observers: [QATObserver] = []

    public init(model: BertModel, task: TaskData, teacher: [Float], config: QATConfig) {
        self.model = model; self.task = task; self.teacher = teacher; self.config = config.recordingSeedPTQOptions
    }

    public func run(outDir: URL, teacherPath: String, teacherDevMetric: Double?, events: RunEvents = .silent) throws
        -> (student: [Float], summary: QATSummary, evals: [QATEval]) {
        let start = Date()
        let comm = communicator
        let events = comm.isRoot ? events : .silent
        let method = config.mode.method
        let phases = try selectedPhases()
        let total = phases.map(\.steps).reduce(0, +)
        let configHash = Self.configHash(config: config, teacher: teacher, task: task)
        try requireShares()
        try InterventionLayers.check(config, layerCount: model.config.numLayers)
        if let done = try finishedOnEveryRank(outDir, hash: configHash) { return done }
        let resume = try openState(outDir, hash: configHash)
        var student = method.initialStudent(teacher: model, parameters: teacher, config: config)
        try checkResumable(resume, layoutCount: student.model.layout.count, dir: outDir)
        let teacherForProbe = student.parameters  // the teacher in the student's layout (LSQ: with initial steps)
        var meta: QATRunMetadata? = nil
        try comm.onRoot {
            meta = try startMetadata(outDir, hash: configHash, resuming: resume != nil, teacherPath: teacherPath,
                                     teacherDevMetric: teacherDevMetric, quantization: method.runQuantization(config: config, ranges: nil))
        }
        if let r = resume {
            student.parameters = r.parameters
            if method.defaultQuantization.usesStoredRanges { student.ranges = try comm.agreeing { try StudentFiles.readRanges(outDir) } }
        } else {
            try method.prepare(&student, task: task, config: config, events: events)
        }
        let recorder = try openRecorder(outDir, resumedAt: resume?.step, student: student, teacher: teacherForProbe, phases: phases)
        if resume == nil { try recorder.evaluate(student, quantization: quantization(student), step: 0, phase: phases.first?.number ?? 0) }
        let context = QATObserverContext(dir: outDir, resumedAt: resume?.step, config: config, task: task, teacher: teacher,
                                         teacherInStudentLayout: teacherForProbe, phases: phases, communicator: comm)
        for o in observers { try o.open(context, student: student, quantization: quantization(student)) }

        var stream = BatchStream(examples: task.train, batchSize: config.batchSize, seqLen: task.seqLen,
                                 regression: task.isRegression, rng: SeededRandom(seed: config.seed).derived("shuffle"))
        var scheduleRng = SeededRandom(seed: config.seed).derived("ti-s")
        let bar = ProgressReporter("qat \(config.mode.rawValue)", total: total, events: events)
        var step = 0
        var loop = LoopState(lastPhaseLoss: resume?.lastStepOneLoss, jump: resume?.stepOneJump, elapsedBefore: resume?.elapsed ?? 0, start: start)
        for phase in phases where phase.steps > 0 {
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
                let before = observers.isEmpty ? [] : student.parameters
                let r = try trainingStep(&student, adam: &adam, batch: batch, intervention: point, step: step, phase: phase,
                                         learningRate: schedule.rate(at: local))
                step += 1
                loop.noteLoss(r.terms.total, local: local, phase: phase)
                try recorder.logStep(step, phase: phase.number, intervention: point, lr: schedule.rate(at: local), terms: r.terms,
                                     gradientNorm: r.gradientNorm, elapsed: loop.elapsed)
                let view = QATStepView(step: step, local: local, phase: phase, intervention: point, batch: batch,
                                       parametersBefore: before, student: student, quantization: quantization(student))
                for o in observers { try o.observe(view) }
                if let point, phase.number == 1, step % StepOneEvalLog.every == 0 {
                    try recorder.evaluateIntervened(student, quantization: quantization(student), intervention: point, teacher: teacher, step: step)
                }
                if phase.number == 1, local == phase.steps - 1, let best = recorder.bestStepOne { student.parameters = best }
                guard shouldEvaluate(step: step, local: local, phase: phase, total: total) else { continue }
                try recorder.evaluate(student, quantization: quantization(student), step: step, phase: phase.number)
                bar.update(step, String(format: "loss %.4f dev %@ %.4f", r.terms.total, task.metricName, recorder.evals.last!.devMetric))
                try comm.onRoot { try saveResumable(student, adam: adam, step: step, phase: phase.number, loop: loop, dir: outDir, hash: configHash) }
                for o in observers { try o.checkpoint(step: step) }
                if let k = interruptAfterStep, step >= k { throw CancellationError() }
            }
        }
        for o in observers { try o.finish(student: student, quantization: quantization(student), step: step) }
        let summary = summarize(recorder.evals, total: total, phases: phases, loop: loop)
        try comm.onRoot {
            try saveStudent(student, dir: outDir)
            meta!.finished = Provenance.timestamp()
            meta!.summary = summary
            try AtomicFile.writeJSON(meta!, to: outDir.appendingPathComponent("metadata.json"))
            QATCheckpointState.remove(outDir)
        }
        return (student.parameters, summary, recorder.evals)
    }
}
