// Curvature along a QAT run, as a QATObserver (it never changes the run). On the fixed probe set
// (the first N dev examples) it measures the Hessian (CurvatureMeasurement) of the task loss and,
// for runs with a step 1 (TI's intervention phase), of the method's own stand-in loss with the
// intervention of the step at hand:
//   - at the start of every phase, at the parameters its first step starts from (step = steps done);
//   - after every K-th step, and after the last step of every phase.
// So a phase boundary has rows of both phases at the same step: the end of one phase, and the next
// phase's own loss at its start (the task loss again only when step 2 starts from step 1's best model
// rather than its last). Each objective's power iteration starts from its previous top eigenvector.
// Every random draw is keyed by (seed, objective, step, phase), never by what ran before, so a
// resumed run (whose warm starts are saved at each checkpoint) writes the same rows.
// `minibatchSteps`: the top eigenvalue of the task loss on that step's training minibatch at the
// parameters the step started from (the TI authors' Figure 5), from a random start.
// Over several ranks every rank measures (the objectives' collectives) and rank 0 writes.
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis

public final class CurvatureTracker: QATObserver {
    public let options: CurvatureTrackingOptions
    private var context: QATObserverContext? = nil
    /// The student's model (its layout: LSQ's carries learned steps).
    private var model: BertModel? = nil
    private var curvatureLog: CSVLog? = nil, minibatchLog: CSVLog? = nil
    private var probe: [Batch] = []
    private var minibatchSteps = Set<Int>()
    /// Objective name → its last top eigenvector.
    private var warm: [String: [Double]] = [:]
    /// The quantization at the parameters the next step starts from (stored ranges move with a step).
    private var quantizationBefore: QuantConfig? = nil

    public init(options: CurvatureTrackingOptions) { self.options = options }

    public func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws {
        try options.validate()
        try options.check(devExamples: context.task.dev.count, totalSteps: context.phases.map(\.steps).reduce(0, +))
        self.context = context
        model = student.model
        quantizationBefore = quantization
        minibatchSteps = Set(options.minibatchSteps)
        let task = context.task
        probe = Batching.batches(Array(task.dev.prefix(options.probeExamples)), batchSize: options.batchSize,
                                 seqLen: task.seqLen, regression: task.isRegression)
        if let r = context.resumedAt {
            warm = try CurvatureFiles.loadWarmStart(context.dir, step: r, options: options, dimension: student.parameters.count)
        }
        try context.communicator.onRoot {
            if context.resumedAt == nil { CurvatureFiles.removeWarmStart(context.dir) }  // a stale one of an earlier run
            if options.every != nil {
                curvatureLog = try CurvatureFiles.openCurvatureLog(context.dir, resumedAt: context.resumedAt,
                                                                  phaseEndingAt: { Self.phase(endingAt: $0, in: context.phases) })
            }
            if !minibatchSteps.isEmpty { minibatchLog = try CurvatureFiles.openMinibatchLog(context.dir, resumedAt: context.resumedAt) }
        }
    }

    public func observe(_ view: QATStepView) throws {
        let before = quantizationBefore ?? view.quantization
        quantizationBefore = view.quantization
        if minibatchSteps.contains(view.step) { try measureMinibatch(view, quantization: before) }
        guard let every = options.every else { return }
        if view.local == 0 {
            try measure(view.parametersBefore, quantization: before, step: view.step - 1, phase: view.phase.number, intervention: view.intervention,
                        includingTask: view.step == 1 || context?.config.stepOneSelection == .best)
        }
        if view.step % every == 0 || view.local == view.phase.steps - 1 {
            try measure(view.student.parameters, quantization: view.quantization, step: view.step, phase: view.phase.number,
                        intervention: view.intervention)
        }
    }

    public func checkpoint(step: Int) throws {
        guard let context, options.every != nil else { return }
        try context.communicator.onRoot { try CurvatureFiles.saveWarmStart(warm, step: step, options: options, dir: context.dir) }
    }

    public func finish(student: StudentState, quantization: QuantConfig, step: Int) throws {
        guard let context else { return }
        curvatureLog = nil; minibatchLog = nil
        if context.communicator.isRoot { CurvatureFiles.removeWarmStart(context.dir) }
    }

    /// The objectives measured: the task loss, and the training objective in runs with an intervention phase.
    func objectives(intervention: InterventionPoint?, quantization q: QuantConfig) -> [(name: String, spec: ObjectiveSpec)] {
        var out = [(name: ObjectiveChoice.task.rawValue, spec: ObjectiveSpec(quantization: q, loss: .task))]
        if let context, context.phases.contains(where: { $0.number == 1 }) {
            out.append((ObjectiveChoice.train.rawValue, context.config.trainingObjective(intervention: intervention, quantization: q)))
        }
        return out
    }

    /// `includingTask` false: the task loss was measured at this very point when the previous phase ended.
    private func measure(_ θ: [Float], quantization q: QuantConfig, step: Int, phase: Int, intervention: InterventionPoint?,
                         includingTask: Bool = true) throws {
        guard let context, let model else { return }
        let θd = θ.map(Double.init)
        for (name, spec) in objectives(intervention: intervention, quantization: q) where includingTask || name != ObjectiveChoice.task.rawValue {
            let objective = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: probe,
                                                     teacher: spec.needsTeacher ? context.teacherInStudentLayout.map(Double.init) : nil,
                                                     communicator: context.communicator)
            var rng = Self.random(context, "curvature/\(name)/\(step)/\(phase)")
            let m = try CurvatureMeasurement.measure(objective, at: θd, options: options, start: warm[name], rng: &rng)
            warm[name] = m.vector
            try context.communicator.onRoot {
                try curvatureLog?.append([String(step), String(phase), name, Fmt.g(m.lambdaMax), Fmt.g(m.lambdaMaxError),
                                          Fmt.g(m.lanczosMin), Fmt.g(m.lanczosMax), Fmt.g(m.trace), Fmt.g(m.traceStandardError),
                                          Fmt.g(m.seconds), m.warmStarted ? "warm" : "random"])
            }
        }
    }

    private func measureMinibatch(_ view: QATStepView, quantization q: QuantConfig) throws {
        guard let context else { return }
        let objective = DatasetObjective<Double>(objective: BertObjective(model: view.student.model, spec: ObjectiveSpec(quantization: q, loss: .task)),
                                                 batches: [view.batch], teacher: nil, communicator: context.communicator)
        var rng = Self.random(context, "minibatch/\(view.step)")
        let top = try CurvatureMeasurement.topEigenvalue(objective, at: view.parametersBefore.map(Double.init), options: options, rng: &rng)
        try context.communicator.onRoot {
            try minibatchLog?.append([String(view.step), String(view.phase.number), Fmt.g(top.value), String(top.iterations)])
        }
    }

    /// A stream keyed by the run's seed and a label: independent of the run's own streams and of history.
    static func random(_ context: QATObserverContext, _ label: String) -> SeededRandom {
        SeededRandom(seed: context.config.seed).derived(label)
    }

    /// The number of the phase whose steps end at or include `step` (its last step ends the phase).
    static func phase(endingAt step: Int, in phases: [TrainingPhase]) -> Int {
        var done = 0
        for p in phases {
            done += p.steps
            if step <= done { return p.number }
        }
        return phases.last?.number ?? 0
    }
}
