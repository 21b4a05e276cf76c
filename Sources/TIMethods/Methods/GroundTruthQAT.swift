// Training on the labels alone, no teacher: FP (no quantization: the teacher's own fine-tuning, kept as
// the reference line, whose "student" is the teacher) and QAT (TernaryBERT's quantization, task loss).
import TIQuant
import TIModel

public struct GroundTruthQAT: QATMethod {
    public let mode: QATMode
    let scheme: QuantConfig
    public let studentIsTeacher: Bool

    public static let fullPrecision = GroundTruthQAT(mode: .fp, scheme: .fullPrecision, studentIsTeacher: true)
    public static let ternary = GroundTruthQAT(mode: .qat, scheme: .ternaryW8A8, studentIsTeacher: false)

    public var loss: LossKind { .task }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig { scheme.restricted(to: config.sites) }
}

extension QATMode {
    /// No quantization (the teacher, or task-loss fine-tuning in full precision).
    public static let fp = QATMode(registered: "FP")
    /// Ternary, ground-truth loss only, no teacher.
    public static let qat = QATMode(registered: "QAT")
}
