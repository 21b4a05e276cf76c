// TernaryBERT's KD-QAT: ternary weights and 8-bit activations, distilled from the full-precision
// teacher (logits, hidden states, attention scores, attention-block outputs), no intervention.
import TIQuant
import TIModel

public struct TernaryKD: QATMethod {
    public var mode: QATMode { .kd }
    public var loss: LossKind { .distillation }
    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig { .ternaryW8A8.restricted(to: config.sites) }
}

extension QATMode {
    public static let kd = QATMode(registered: "KD")
}
