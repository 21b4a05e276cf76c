// The QAT methods compared by the Teacher Intervention paper, by their command-line names.
// Each mode fixes the quantization, the loss and the intervention schedule of step 1.
import TILinalg
import TIQuant
import TIModel

public enum QATMode: String, CaseIterable, Codable, Sendable {
    case fp = "FP"        // no quantization (the teacher, or task-loss fine-tuning in full precision)
    case qat = "QAT"      // ternary, ground-truth loss only, no teacher
    case kd = "KD"        // TernaryBERT KD-QAT, no intervention
    case mi = "MI", ci = "CI", oi = "OI"  // two-step TI with one intervention point in step 1
    case tiG = "TI-G"     // gradual: OI → CI → MI
    case tiI = "TI-I"     // inverted: MI → CI → OI
    case tiS = "TI-S"     // stochastic: OI, CI or MI uniformly per step
    // The other seed systems (issue 8): single-step, no intervention.
    case q8bert = "Q8BERT"  // 8-bit QAT, EMA activation ranges, task loss
    case ptqW8A8 = "PTQ-W8A8"  // post-training W8A8, calibrated ranges, no training (options: QATConfig.ptq)
    case adaRoundW4 = "ADAROUND-W4"  // post-training learned rounding of 4-bit weights, no activation quantization
    case lsqW4A8 = "LSQ-W4A8"  // QAT with learned weight and activation steps (in θ; activations start calibrated), task loss

    /// The quantization of this mode. Stored-range modes (Q8BERT) return it without ranges, so an
    /// activation quantizer falls back to the tensor's own max|x|; use `quantization(ranges:)` with
    /// the state saved by the run (student metadata `tianalyze.activation_ranges`) to get the frozen ones.
    public var quantization: QuantConfig {
        switch self {
        case .fp: return .fullPrecision
        case .q8bert: return .q8bert
        case .ptqW8A8: return .ptq()
        case .lsqW4A8: return .lsqW4A8
        case .adaRoundW4: return .adaRound()
        default: return .ternaryW8A8
        }
    }

    public func quantization(ranges: ActivationRangeState?, ptq: PTQOptions? = nil) -> QuantConfig {
        var q = self == .ptqW8A8 ? QuantConfig.ptq(ptq ?? PTQOptions()) : quantization
        if q.usesStoredRanges { q.ranges = ranges }
        return q
    }

    /// Post-training modes calibrate and evaluate, with zero training steps.
    public var isPostTraining: Bool { [.ptqW8A8, .adaRoundW4].contains(self) }
    /// Modes whose activation ranges are calibrated once before any training (LSQ: its steps' start).
    public var calibratesActivations: Bool { [.ptqW8A8, .lsqW4A8].contains(self) }
    /// Modes with learned quantizer steps in the parameter buffer (`LSQ.model` layout).
    public var learnsSteps: Bool { self == .lsqW4A8 }

    public var loss: LossKind { [.fp, .qat, .q8bert, .ptqW8A8, .lsqW4A8, .adaRoundW4].contains(self) ? .task : .distillation }
    public var isTwoStep: Bool { [.mi, .ci, .oi, .tiG, .tiI, .tiS].contains(self) }

    /// Step 1's intervention at `step` of a step 1 of length s. TI-S draws from `rng`.
    public func intervention(atStep step: Int, stepOneLength s: Int, rng: inout SeededRandom) -> InterventionPoint? {
        switch self {
        case .fp, .qat, .kd, .q8bert, .ptqW8A8, .lsqW4A8, .adaRoundW4: return nil
        case .mi: return .map
        case .ci: return .context
        case .oi: return .output
        case .tiG:  // [0, s/6) OI, [s/6, s/3) CI, [s/3, s) MI
            if 6 * step < s { return .output }
            return 3 * step < s ? .context : .map
        case .tiI:  // [0, s/3) MI, [s/3, 2s/3) CI, [2s/3, s) OI
            if 3 * step < s { return .map }
            return 3 * step < 2 * s ? .context : .output
        case .tiS:
            return [InterventionPoint.output, .context, .map][rng.below(3)]
        }
    }

    /// The objective of this mode with a given intervention (step 1) or none (step 2, baselines).
    public func objectiveSpec(intervention: InterventionPoint?, includeTaskLoss: Bool = false) -> ObjectiveSpec {
        ObjectiveSpec(quantization: quantization, loss: loss, includeTaskLoss: includeTaskLoss && loss == .distillation,
                      intervention: intervention)
    }
}
