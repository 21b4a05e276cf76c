// Teacher Intervention (EACL 2023), two-step TI-QAT. Step 1 runs s steps of KD with the teacher's
// signal replacing the student's at one point: the attention map (MI), the context (CI) or the
// attention sub-layer output (OI), fixed or by a schedule; step 2 starts from step 1's last weights
// with a fresh optimizer, no intervention and the KD loss, over the rest of the budget N − s.
import TILinalg
import TIQuant
import TIModel

public struct TeacherIntervention: QATMethod {
    /// Which point step 1 intervenes at, step by step.
    public enum Schedule: Sendable {
        case fixed(InterventionPoint)
        case gradual    // [0, s/6) OI, [s/6, s/3) CI, [s/3, s) MI
        case inverted   // [0, s/3) MI, [s/3, 2s/3) CI, [2s/3, s) OI
        case stochastic // OI, CI or MI uniformly per step, from the run's seed
    }

    public let mode: QATMode
    public let schedule: Schedule

    public static let mapOnly = TeacherIntervention(mode: .mi, schedule: .fixed(.map))
    public static let contextOnly = TeacherIntervention(mode: .ci, schedule: .fixed(.context))
    public static let outputOnly = TeacherIntervention(mode: .oi, schedule: .fixed(.output))
    public static let gradual = TeacherIntervention(mode: .tiG, schedule: .gradual)
    public static let inverted = TeacherIntervention(mode: .tiI, schedule: .inverted)
    public static let stochastic = TeacherIntervention(mode: .tiS, schedule: .stochastic)

    public var loss: LossKind { .distillation }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig { .ternaryW8A8.restricted(to: config.sites) }

    public func phases(total: Int, stepOne s: Int) -> [TrainingPhase] {
        [TrainingPhase(number: 1, steps: s), TrainingPhase(number: 2, steps: total - s)]
    }

    public func intervention(phase: TrainingPhase, step: Int, rng: inout SeededRandom) -> InterventionPoint? {
        phase.number == 1 ? point(atStep: step, stepOneLength: phase.steps, rng: &rng) : nil
    }

    /// The requested point, else the one active at the end of step 1 (TI-S: a draw from seed 0).
    public func analysisIntervention(requested: InterventionPoint?) -> InterventionPoint? {
        var rng = SeededRandom(seed: 0)
        return requested ?? point(atStep: 5, stepOneLength: 6, rng: &rng)
    }

    /// Step 1's intervention at `step` of a step 1 of length s.
    public func point(atStep step: Int, stepOneLength s: Int, rng: inout SeededRandom) -> InterventionPoint {
        switch schedule {
        case .fixed(let p): return p
        case .gradual:
            if 6 * step < s { return .output }
            return 3 * step < s ? .context : .map
        case .inverted:
            if 3 * step < s { return .map }
            return 3 * step < 2 * s ? .context : .output
        case .stochastic:
            return [InterventionPoint.output, .context, .map][rng.below(3)]
        }
    }
}

extension QATMode {
    public static let mi = QATMode(registered: "MI")
    public static let ci = QATMode(registered: "CI")
    public static let oi = QATMode(registered: "OI")
    /// Gradual: OI → CI → MI.
    public static let tiG = QATMode(registered: "TI-G")
    /// Inverted: MI → CI → OI.
    public static let tiI = QATMode(registered: "TI-I")
    /// Stochastic: OI, CI or MI uniformly per step.
    public static let tiS = QATMode(registered: "TI-S")
}
