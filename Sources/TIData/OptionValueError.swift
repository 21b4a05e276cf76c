// An option value the library cannot use, named in the library's own terms (the field of an options
// struct or the parameter of a function). A front end spells option names its own way (the CLI: flags),
// so it maps `OptionName` instead of the library naming a front end's flags.

/// The library's options that a caller chooses and that can be wrong. One closed list, so that a
/// front end's mapping to its own spelling is checked for completeness by the compiler.
public enum OptionName: String, CaseIterable, Sendable {
    /// `TaskSource(name:)`: an embedded or GLUE task name.
    case task
    /// `TaskSource(dataDir:)`: the folder with a GLUE task's TSV files.
    case dataDir
    /// `Workspace.trainTeacher(pretrained:)`: the checkpoint a text task's teacher is fine-tuned from.
    case pretrained
    /// `TaskSource.load(tokenizerDir:)`: the model directory whose tokenizer reads a text task.
    case tokenizerDir
    /// `FineTuneConfig.learningRate`.
    case learningRate
    /// `FineTuneConfig.epochs`, `QATConfig.epochs`: the epoch budget.
    case epochs
    /// `FineTuneConfig.evalEvery`, `QATConfig.evalEvery`: steps between evaluations.
    case evalEvery
    /// `FineTuneConfig.patience`: evaluations without improvement before stopping.
    case patience
    /// `QATConfig.stepOneLength`: the length of TI's step 1.
    case stepOne
    /// `PEGOptions.sites`: the quant-dict sites PEG applies to.
    case pegSites
    /// `PEGOptions.parse`: the grouping scheme (ngK, ngpK, pe).
    case peg
    /// `PTQOptions.quantDict`: mixed-precision bits per site.
    case quantDict
    /// `LandscapeOptions.modes`: the surfaces of a landscape run.
    case landscapeModes
    /// `HessianOptions.parameters`: the name pattern restricting the Hessian.
    case parameters
    /// `HessianOptions.samples`, `PeerProbeOptions.samples`: the dev examples averaged over.
    case samples
    /// `HessianOptions.batchSize`, `PeerProbeOptions.batchSize`.
    case batchSize
    /// `topK` of the Hessian studies: eigenvalues by power iteration.
    case topK
    /// `tolerance` of the Hessian studies' iterations.
    case tolerance
    /// `maxIterations` of power iteration.
    case maxIterations
    /// `HessianOptions.traceMinProbes`/`traceMaxProbes`: Hutchinson probes.
    case traceProbes
    /// `HessianOptions.lanczosSteps`.
    case lanczosSteps
    /// `HessianOptions.perExample`: examples with their own spectrum.
    case perExample
    /// `PeerBench.shape`: the model shape a train step is timed at.
    case benchShape
    /// `QATConfig.phase`: which phases of a two-step run a run covers.
    case phase
    /// `QATRun.continuing`: the finished step-1 run a step-2 run continues.
    case continuing
    /// `InterventionLayers.parse`: the layers a step-1 intervention applies in.
    case interventionLayers
    /// `QuantizedSites.parse(parts:)`: the sub-layers a QAT student quantizes.
    case quantizedSites
    /// `QuantizedSites.parse(fullPrecisionActivations:)`: attention activations kept in full precision.
    case fullPrecisionActivations
    /// `DistillationTerms.parse`: the KD terms and their weights.
    case distillationTerms
    /// `CheckpointEvaluation.run(split:)`: the examples a checkpoint is scored on.
    case split
    /// `CurvatureTrackingOptions.every`: steps between curvature measurements along a QAT run.
    case trackCurvature
    /// `CurvatureTrackingOptions.probeExamples`: the dev examples curvature is measured on.
    case probeExamples
    /// `CurvatureTrackingOptions.minibatchSteps`: the steps whose training minibatch gets its top eigenvalue.
    case trackMinibatchEigs
    /// `QATConfig.weightPrecisions`, `AnalysisTarget.weightPrecisions`: per-tensor weight precisions.
    case weightPrecisions
    /// `SensitivityOptions.budget`: the model-size budget of a bit allocation.
    case sizeBudget
    /// `PTQOptions.weightBits`: the seed's `--n-bits`.
    case nBits
    /// `PTQOptions.activationBits`: the seed's `--n-bits-act`.
    case nBitsAct
}

public struct OptionValueError: Error, CustomStringConvertible, Equatable, Sendable {
    public var option: OptionName
    /// The value given, or nil when the option was needed and not given.
    public var value: String?
    /// What was expected, or why the value cannot be used.
    public var reason: String

    public init(option: OptionName, value: String?, reason: String) {
        self.option = option; self.value = value; self.reason = reason
    }

    public var description: String { describe(option: option.rawValue) }

    /// The one-line message with the option spelled as `name` (a front end passes its own spelling).
    public func describe(option name: String) -> String {
        value.map { "\(name) '\($0)': \(reason)" } ?? "\(name): \(reason)"
    }
}
