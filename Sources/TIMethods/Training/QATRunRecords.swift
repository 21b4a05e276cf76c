// What a QAT run is configured with and what it records: the configuration (hashed, so a rerun
// resumes only the same run), each evaluation, the summary and the run metadata.
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
    /// LSQ's activation method (`--qmethod-act`); nil is the seed's default (LSQ runs always record it).
    public var lsq: LSQOptions? = nil
    /// Which phases this run covers; nil is all (kept nil so existing runs keep their hash).
    public var phase: QATPhaseSelection? = nil
    /// Which step-1 model step 2 starts from; nil is the last one.
    public var stepOneSelection: StepOneSelection? = nil
    /// The parts the TernaryBERT-family methods quantize (the paper's Figure 3 cases); nil is
    /// TernaryBERT's set. Optional for the same reason as `ptq`.
    public var sites: QuantizedSites? = nil
    /// Weights of the distillation terms; nil is every term with weight 1.
    public var distillation: DistillationTerms? = nil
    /// Q8BERT's EMA and STE choices (nil: Intel's, `Q8BERTOptions()`); `qat --mode Q8BERT` always sets it.
    public var q8bert: Q8BERTOptions? = nil
    /// Per-tensor weight precisions (`--quant-config`, e.g. a sensitivity allocation); nil is the scheme's own.
    public var weightPrecisions: WeightPrecisions? = nil
    /// The layers step 1's intervention applies in (sorted); nil is every layer.
    public var interventionLayers: [Int]? = nil

    public init(mode: QATMode) { self.mode = mode }

    /// The defaults every method shares (learning rate, budget, batch, evaluation cadence).
    public static var defaults: QATConfig { QATConfig(mode: MethodRegistry.defaultMode) }

    public func totalSteps(trainExamples n: Int) -> Int { epochs * ((n + batchSize - 1) / batchSize) }

    public func resolvedStepOneLength(total: Int) -> Int {
        stepOneLength ?? max(6, Int((Double(total) * 60 / 1600).rounded()))
    }

    /// The objective a training step of this run descends (its stand-in loss): the method's loss with
    /// the step's intervention, the run's task-loss choice and KD term weights.
    public func trainingObjective(intervention: InterventionPoint?, quantization: QuantConfig) -> ObjectiveSpec {
        var spec = mode.method.objective(intervention: intervention, quantization: quantization, includeTaskLoss: includeTaskLoss)
        spec.distillationTerms = distillation
        spec.interventionLayers = interventionLayers
        return spec
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
    /// The last step-1 training loss (a step-2 run continuing this one measures its jump from it).
    public var lastStepOneLoss: Double? = nil
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
    /// How each hyper-parameter was chosen (flag, recipe, default).
    public var settings: [String: ResolvedSetting]? = nil
    /// Hash of the configuration, teacher and data: a rerun resumes only the same run.
    public var configHash: String?
    /// How many ranks trained the run (data-parallel; nil in runs from before ranks existed).
    public var ranks: Int? = nil
}

