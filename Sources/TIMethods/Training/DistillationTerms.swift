// The weight of each term of TernaryBERT's distillation loss (logits, hidden states, attention
// scores, attention-block outputs). All 1 is TernaryBERT's and TI's loss; 0 switches a term off, so
// that the contribution of each term to QAT can be studied on its own.
import Foundation
import TIData

public struct DistillationTerms: Codable, Equatable, Sendable {
    /// Soft cross-entropy (MSE for regression) between the logits.
    public var logits = 1.0
    /// MSE of the embedding output and of every layer's output.
    public var hidden = 1.0
    /// MSE of the attention scores (masked keys left out).
    public var scores = 1.0
    /// MSE of the attention sub-layer outputs (after the residual LayerNorm).
    public var attentionOutput = 1.0

    public init() {}

    public init(logits: Double, hidden: Double, scores: Double, attentionOutput: Double) {
        self.logits = logits; self.hidden = hidden; self.scores = scores; self.attentionOutput = attentionOutput
    }

    /// Every term with weight 1 (TernaryBERT's loss).
    public static let all = DistillationTerms()

    /// The names of the terms as a user writes them.
    public static let names = ["logits", "hidden", "scores", "attn-out"]

    /// "logits=1,hidden=0.5,scores=0,attn-out=0".
    public var label: String {
        zip(Self.names, [logits, hidden, scores, attentionOutput]).map { "\($0)=\($1)" }.joined(separator: ",")
    }

    /// A comma list of term names, each optionally `=weight`: listed terms get their weight (1 when
    /// none is given), terms not listed get 0. "logits,hidden" keeps only those two.
    public static func parse(_ text: String) throws -> DistillationTerms {
        var weights: [String: Double] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = kv.first, names.contains(name) else {
                throw OptionValueError(option: .distillationTerms, value: String(item),
                                       reason: "unknown term; expected a comma list of \(names.joined(separator: ", ")), each optionally =weight")
            }
            guard weights[name] == nil else {
                throw OptionValueError(option: .distillationTerms, value: text, reason: "\(name) is given twice")
            }
            let weight = kv.count == 2 ? Double(kv[1]) : 1
            guard let w = weight, w.isFinite, w >= 0 else {
                throw OptionValueError(option: .distillationTerms, value: String(item), reason: "the weight must be a finite number ≥ 0")
            }
            weights[name] = w
        }
        return DistillationTerms(logits: weights["logits"] ?? 0, hidden: weights["hidden"] ?? 0,
                                 scores: weights["scores"] ?? 0, attentionOutput: weights["attn-out"] ?? 0)
    }
}
