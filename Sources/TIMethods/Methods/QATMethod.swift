// What a QAT or PTQ method decides, as one protocol: the quantization it trains and evaluates with,
// the student it starts from, the work before step 0, the objective at every step, what happens around
// an optimizer step, what the student directory carries, and how an analysis loads that student back.
// The training loop (QATRun) and the analyses ask these questions and never branch on a method's name.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

/// One stretch of training with its own fresh optimizer and learning-rate schedule.
public struct TrainingPhase: Equatable, Sendable {
    /// 0 for single-step methods; 1 and 2 for the two steps of TI.
    public let number: Int
    public let steps: Int
    public init(number: Int, steps: Int) { self.number = number; self.steps = steps }
}

/// The student as a method shapes it: its model (LSQ's layout carries learned steps), its flat
/// parameters, and the stored activation ranges of stored-range quantizers (nil for dynamic ones).
public struct StudentState {
    public var model: BertModel
    public var parameters: [Float]
    public var ranges: ActivationRangeState?
    public init(model: BertModel, parameters: [Float], ranges: ActivationRangeState? = nil) {
        self.model = model; self.parameters = parameters; self.ranges = ranges
    }
}

public protocol QATMethod: Sendable {
    var mode: QATMode { get }
    /// The loss of its training steps (step 2 of TI included).
    var loss: LossKind { get }
    /// True when training steps move the stored activation ranges (Q8BERT's EMA).
    var trainsRanges: Bool { get }
    /// True when the PTQ calibration options (`QATConfig.ptq`, `adaRound`) mean something to it.
    var takesCalibrationOptions: Bool { get }
    /// True when it learns its rounding by AdaRound (`QATConfig.adaRound`, always recorded).
    var takesAdaRoundOptions: Bool { get }
    /// True when it takes the seed's PTQ choices (bit widths, estimator searches, quant setup:
    /// `PTQOptions.seed`, always recorded).
    var takesSeedPTQOptions: Bool { get }
    /// True when its quantization groups activations by `QATConfig.ptq.peg` (PEG).
    var takesPEGOptions: Bool { get }
    /// True when it learns quantizer ranges by LSQ (`QATConfig.lsq`, always recorded).
    var takesLSQOptions: Bool { get }
    /// True when its analyses look at the teacher itself (FP): there is no student to train.
    var studentIsTeacher: Bool { get }
    /// True when its student directory carries an int8 export.
    var writesInt8Export: Bool { get }

    /// The phases of a budget of `total` steps; `stepOne` is the resolved step-1 length.
    func phases(total: Int, stepOne: Int) -> [TrainingPhase]
    /// The quantization it trains and evaluates with, given the stored ranges (nil: none yet).
    func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig
    /// The student at step 0 of a fresh run (before `prepare`), from the teacher.
    func initialStudent(teacher: BertModel, parameters: [Float], config: QATConfig) -> StudentState
    /// Work on a fresh run before step 0: calibration, AdaRound, LSQ's step initialization.
    func prepare(_ student: inout StudentState, task: TaskData, config: QATConfig, events: RunEvents) throws
    /// The intervention of local step `step` of `phase` (drawn for replayed steps too, so TI-S's
    /// draws stay aligned on resume).
    func intervention(phase: TrainingPhase, step: Int, rng: inout SeededRandom) -> InterventionPoint?
    /// The intervention an analysis of its `train` objective uses: `requested` where the method
    /// intervenes at all, else the one active at the end of step 1.
    func analysisIntervention(requested: InterventionPoint?) -> InterventionPoint?
    /// Turns the stand-in gradient into the update direction (LSQ's gradient scales).
    func preconditionGradient(_ g: inout [Float], student: StudentState, quantization: QuantConfig)
    /// Work right after an optimizer step (LSQ keeps its steps positive).
    func afterOptimizerStep(_ student: inout StudentState)
    /// Files of the finished student directory beyond the HF checkpoint and the ranges.
    func saveArtifacts(_ student: StudentState, quantization: QuantConfig, bertCount: Int, to dir: URL) throws
    /// The finished student of a run directory as its analyses need it.
    func loadStudent(_ dir: URL, config: QATConfig) throws -> StudentState
    /// The teacher's parameters in a loaded student's layout (LSQ: extended with the steps its
    /// calibrated quantization starts from), for analyses that join teacher and student.
    func teacherParameters(_ θ: [Float], in student: StudentState, quantization: QuantConfig) -> [Float]
}

extension QATMethod {
    public var trainsRanges: Bool { false }
    public var takesCalibrationOptions: Bool { false }
    public var takesAdaRoundOptions: Bool { false }
    public var takesSeedPTQOptions: Bool { false }
    public var takesPEGOptions: Bool { false }
    public var takesLSQOptions: Bool { false }
    public var studentIsTeacher: Bool { false }
    public var writesInt8Export: Bool { false }

    public func phases(total: Int, stepOne: Int) -> [TrainingPhase] { [TrainingPhase(number: 0, steps: total)] }

    public func initialStudent(teacher: BertModel, parameters: [Float], config: QATConfig) -> StudentState {
        StudentState(model: teacher, parameters: parameters)
    }

    public func prepare(_ student: inout StudentState, task: TaskData, config: QATConfig, events: RunEvents) throws {}
    public func intervention(phase: TrainingPhase, step: Int, rng: inout SeededRandom) -> InterventionPoint? { nil }
    public func analysisIntervention(requested: InterventionPoint?) -> InterventionPoint? { nil }
    public func preconditionGradient(_ g: inout [Float], student: StudentState, quantization: QuantConfig) {}
    public func afterOptimizerStep(_ student: inout StudentState) {}
    public func saveArtifacts(_ student: StudentState, quantization: QuantConfig, bertCount: Int, to dir: URL) throws {}
    public func teacherParameters(_ θ: [Float], in student: StudentState, quantization: QuantConfig) -> [Float] { θ }

    public func loadStudent(_ dir: URL, config: QATConfig) throws -> StudentState {
        let ck = try Checkpoint.load(dir.appendingPathComponent(StudentFiles.checkpoint))
        return StudentState(model: BertModel(config: ck.config), parameters: ck.parameters, ranges: try StudentFiles.readRanges(dir))
    }

    /// The default scheme, before any calibration or training (the freshly quantized teacher).
    public var defaultQuantization: QuantConfig { quantization(config: QATConfig(mode: mode), ranges: nil) }

    /// The objective of a training step with the given intervention (nil in step 2 and for baselines).
    public func objective(intervention: InterventionPoint?, quantization: QuantConfig, includeTaskLoss: Bool = false) -> ObjectiveSpec {
        ObjectiveSpec(quantization: quantization, loss: loss, includeTaskLoss: includeTaskLoss && loss == .distillation,
                      intervention: intervention)
    }

    /// Resolves a finished run's student with the run's own quantization (saved ranges, PTQ options, learned steps).
    public func loadStudentWithQuantization(_ dir: URL, config: QATConfig) throws -> (student: StudentState, quantization: QuantConfig) {
        let s = try loadStudent(dir, config: config)
        return (s, runQuantization(config: config, ranges: s.ranges))
    }

    /// The quantization of a run: the method's scheme with the run's per-tensor weight precisions
    /// (`QATConfig.weightPrecisions`). Training, calibration, saving and loading all take it from here.
    public func runQuantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig {
        quantization(config: config, ranges: ranges).with(weightPrecisions: config.weightPrecisions)
    }
}

/// The files of a QAT run directory that more than one method reads or writes.
public enum StudentFiles {
    /// The HF checkpoint of the student (BERT's layout).
    public static let checkpoint = "student"
    /// Stored activation ranges (Q8BERT's EMA, PTQ/LSQ calibration), next to `metadata.json`.
    public static let activationRanges = "activation-ranges.json"
    /// LSQ's learned steps (tensor "steps", in `LSQ.model` layout order after BERT's parameters).
    public static let learnedSteps = "learned-steps.safetensors"
    /// Q8BERT's int8 checkpoint, next to the FP32 student.
    public static let int8Export = "student-int8.safetensors"

    public static func readRanges(_ dir: URL) throws -> ActivationRangeState? {
        let url = dir.appendingPathComponent(activationRanges)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(ActivationRangeState.self, from: Data(contentsOf: url))
    }
}
