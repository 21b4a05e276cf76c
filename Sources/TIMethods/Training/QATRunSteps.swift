// The pieces of the QAT loop (QATRun.swift): finding a finished run, starting the metadata, one
// optimizer step, the resumable state, and saving the student with its method's files.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

extension QATRun {
    /// Files of a run directory, kept under their old names for callers.
    public static let activationRangesFile = StudentFiles.activationRanges
    public static let learnedStepsFile = StudentFiles.learnedSteps
    public static let int8ExportFile = StudentFiles.int8Export

    /// The result of a run finished before with the same configuration: nothing to do.
    func finishedRun(_ dir: URL, hash: String) throws -> (student: [Float], summary: QATSummary, evals: [QATEval])? {
        guard let done = try? JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: dir.appendingPathComponent("metadata.json"))),
              done.configHash == hash, let summary = done.summary,
              FileManager.default.fileExists(atPath: dir.appendingPathComponent(StudentFiles.checkpoint).path) else { return nil }
        let student = try config.mode.method.loadStudent(dir, config: config)
        return (student.parameters, summary, try Self.readEvals(dir))
    }

    func checkResumable(_ resume: QATCheckpointState?, layoutCount: Int, dir: URL) throws {
        guard let r = resume, r.parameters.count != layoutCount else { return }
        throw DataError.mismatch(file: dir.path, reason: "its resumable state holds \(r.parameters.count) parameters, this build's \(config.mode.rawValue) layout \(layoutCount) (a run from an older layout); use another output directory or remove it")
    }

    /// Writes metadata.json for a run that starts or resumes; a fresh run refuses a directory of another configuration.
    func startMetadata(_ dir: URL, hash: String, resuming: Bool, teacherPath: String, teacherDevMetric: Double?,
                       quantization: QuantConfig) throws -> QATRunMetadata {
        let url = dir.appendingPathComponent("metadata.json")
        if !resuming, let existing = try? JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: url)), existing.configHash != hash {
            throw DataError.mismatch(file: url.path, reason: "the run directory holds another configuration (hash \(existing.configHash ?? "none"), this one \(hash)); use another output directory or remove it")
        }
        var meta = QATRunMetadata(config: config, task: task.name, dataHash: task.hash, teacherPath: teacherPath,
                                  teacherHash: Checkpoint.hash(teacher), teacherDevMetric: teacherDevMetric,
                                  quantization: quantization.summary, gitRevision: Provenance.gitRevision(),
                                  arithmetic: Int8Path.enabled ? "ternary × 8-bit forward products as int8 GEMMs (\(Int8GEMM.kernelName))" : "float GEMMs",
                                  started: Provenance.timestamp(), configHash: hash)
        meta.settings = settings
        meta.ranks = communicator.size
        try AtomicFile.writeJSON(meta, to: url)
        return meta
    }

    /// The method's quantization with the student's current ranges.
    func quantization(_ student: StudentState) -> QuantConfig {
        config.mode.method.quantization(config: config, ranges: student.ranges)
    }

    /// One optimizer step: forward and backward of the step's objective, the method's gradient
    /// preconditioning and post-step work. Trained ranges (Q8BERT's EMA) move with the student's forward.
    func trainingStep(_ student: inout StudentState, adam: inout AdamW<Float>, batch: Batch, intervention: InterventionPoint?,
                      step: Int, phase: TrainingPhase, learningRate: Double) throws -> (terms: StepTerms, gradientNorm: Double) {
        let method = config.mode.method
        let q = quantization(student)
        var obj = BertObjective<Float>(model: student.model, spec: method.objective(intervention: intervention, quantization: q,
                                                                                     includeTaskLoss: config.includeTaskLoss))
        let tracker = method.trainsRanges ? student.ranges.map { ActivationRangeTracker(state: $0) } : nil
        obj.rangeTracker = tracker
        obj.spec.distillationTerms = config.distillation
        obj.spec.interventionLayers = config.interventionLayers
        var dropout = SeededRandom(seed: config.seed).derived("dropout/\(step)")
        var (terms, gradient) = dataParallelStep(obj, θ: student.parameters, batch: batch, dropoutSeed: dropout.next())
        if let tracker { student.ranges = tracker.state }
        // Reduced over the ranks, so a NaN on any rank's share stops every rank here with the same line.
        guard terms.total.isFinite, Vec.isFinite(gradient) else {
            throw ModelError.nonFinite("\(config.mode.rawValue) training loss or gradient at step \(step) (phase \(phase.number)); lower the learning rate")
        }
        method.preconditionGradient(&gradient, student: student, quantization: q)
        let norm = adam.step(&student.parameters, gradient: gradient, learningRate: learningRate)
        method.afterOptimizerStep(&student)
        // trainCE: the task loss of this forward's logits, logged even when the objective leaves it out (KD), for Fig. 4a.
        return (terms, norm)
    }

    /// Forward and backward of one step. Without intervention the teacher's and the student's
    /// forwards are independent and run on two workers; the result does not depend on the worker count.
    package static func forwardBackward(_ obj: BertObjective<Float>, θ: [Float], batch: Batch, teacher: [Float], dropoutSeed: UInt64,
                                        concurrentTeacher: Bool = true) -> ObjectiveResult<Float> {
        guard obj.spec.needsTeacher else {
            return obj.evaluate(θ, batch: batch, teacher: nil, gradient: true, dropoutSeed: dropoutSeed)
        }
        if obj.spec.intervention != nil || !concurrentTeacher {
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

    func saveResumable(_ student: StudentState, adam: AdamW<Float>, step: Int, phase: Int, loop: LoopState, dir: URL, hash: String) throws {
        if let ranges = student.ranges { try AtomicFile.writeJSON(ranges, to: dir.appendingPathComponent(StudentFiles.activationRanges)) }
        try QATCheckpointState(step: step, phase: phase, parameters: student.parameters, m: adam.m, v: adam.v, elapsed: loop.elapsed,
                               lastStepOneLoss: loop.lastPhaseLoss, stepOneJump: loop.jump).save(dir, hash: hash)
    }

    /// The method's phases for this budget, restricted to the run's phase selection.
    func selectedPhases() throws -> [TrainingPhase] {
        let budget = config.totalSteps(trainExamples: task.train.count)
        let all = config.mode.method.phases(total: budget, stepOne: min(config.resolvedStepOneLength(total: budget), budget))
        guard let selection = config.phase, selection != .all else { return all }
        guard all.contains(where: { $0.number == 1 }) else {
            throw OptionValueError(option: .phase, value: selection.rawValue, reason: "\(config.mode.rawValue) has no step 1 and step 2 to run apart")
        }
        return selection == .step1 ? all.filter { $0.number == 1 } : all
    }

    /// A step-2 run's start: the finished step-1 run it continues (its logs copied here once).
    func handOff(to dir: URL, copyingLogs: Bool = true) throws -> StepOneHandOff? {
        guard config.phase == .step2 else { return nil }
        guard let run = continuing else {
            throw OptionValueError(option: .continuing, value: nil, reason: "a step-2 run needs the step-1 run directory it continues")
        }
        let h = try StepOneHandOff.load(run, expecting: config)
        if copyingLogs { try h.copyLogs(to: dir) }
        return h
    }

    /// Every method is evaluated at the same steps (densely over the first s steps, where TI's step 1
    /// runs, then every evalEvery), so steps-to-target compare fairly.
    func shouldEvaluate(step: Int, local: Int, phase: TrainingPhase, total: Int) -> Bool {
        let budget = config.totalSteps(trainExamples: task.train.count)
        let dense = min(config.resolvedStepOneLength(total: budget), total)
        return step % config.evalEvery == 0 || local == phase.steps - 1 || (step <= dense && step % max(1, dense / 6) == 0)
    }

    func summarize(_ evals: [QATEval], total: Int, phases: [TrainingPhase], loop: LoopState) -> QATSummary {
        QATSummary(mode: config.mode, totalSteps: total, stepOneLength: phases.first { $0.number == 1 }?.steps,
                   finalDevMetric: evals.last!.devMetric, bestDevMetric: evals.map(\.devMetric).max()!,
                   finalProbeDistillationLoss: evals.last!.probeDistillationLoss,
                   initialProbeDistillationLoss: evals.first!.probeDistillationLoss, stepOneLossJump: loop.jump,
                   seconds: loop.elapsed, lastStepOneLoss: loop.lastPhaseLoss)
    }

    /// The HF checkpoint (BERT's layout), the ranges, and the method's own files.
    func saveStudent(_ student: StudentState, dir: URL) throws {
        let method = config.mode.method
        let q = quantization(student)
        var meta = ["tianalyze.mode": config.mode.rawValue, "tianalyze.quantization": q.name]
        if let ranges = student.ranges, q.usesStoredRanges {
            try AtomicFile.writeJSON(ranges, to: dir.appendingPathComponent(StudentFiles.activationRanges))
            meta["tianalyze.activation_ranges"] = String(decoding: try JSONEncoder().encode(ranges), as: UTF8.self)
        }
        let bertCount = model.layout.count
        try method.saveArtifacts(student, quantization: q, bertCount: bertCount, to: dir)
        try Checkpoint.save(Array(student.parameters[..<bertCount]), config: model.config,
                            to: dir.appendingPathComponent(StudentFiles.checkpoint), metadata: meta)
    }
}
