// `qat`'s curvature tracking options (TIStudies/CurvatureTracker.swift): the Hessian on a fixed dev
// probe set every K steps and at the phase boundaries, and per-minibatch top eigenvalues.
import ArgumentParser
import TICore
import TIData
import TIStudies

struct CurvatureTrackingArguments: ParsableArguments {
    @Option(help: "Every K steps and at both ends of every phase, the Hessian on the probe set (top eigenvalue warm-started, Lanczos extremes, Hutchinson trace) of the task loss and, for TI runs, of the method's own loss → curvature.csv; 'auto' is K = \(CurvatureTrackingOptions.defaultEvery).")
    var trackCurvature: String?
    @Option(help: "The probe set of --track-curvature: the first N dev examples (what hessian --samples N analyses).")
    var probeExamples: Int = CurvatureTrackingOptions().probeExamples
    @Option(help: "Steps, as a list of steps and ranges like 1-50,100, whose training minibatch gets its top task-loss eigenvalue → minibatch-eigs.csv.")
    var trackMinibatchEigs: String?

    func validate() throws {
        do { _ = try options() } catch let e as OptionValueError { throw ValidationError(e.describe(option: e.option.flag)) }
    }

    /// The library's options; inactive when neither tracking option is given.
    func options() throws -> CurvatureTrackingOptions {
        var o = CurvatureTrackingOptions()
        if let k = trackCurvature {
            guard let every = k == "auto" ? CurvatureTrackingOptions.defaultEvery : Int(k) else {
                throw Domain.refusal("--track-curvature", k, "a step count K or auto")
            }
            try Domain.count(every, "--track-curvature", Domain.steps, "steps")
            o.every = every
        }
        try Domain.count(probeExamples, "--probe-examples", Domain.examples, "examples")
        o.probeExamples = probeExamples
        if let list = trackMinibatchEigs { o.minibatchSteps = try StepList.parse(list) }
        try o.validate()
        return o
    }

    /// The observers a run of `config` on `data` carries, checked against the run before it starts.
    func observers(data: TaskData, config: QATConfig) throws -> [QATObserver] {
        let o = try options()
        guard o.isActive else { return [] }
        try o.check(devExamples: data.dev.count, totalSteps: config.totalSteps(trainExamples: data.train.count))
        return [CurvatureTracker(options: o)]
    }
}
