// Q8BERT (Intel): 8-bit symmetric weights for every Linear and embedding table, 8-bit activations at
// every Linear input and (Intel's `requantize_output`, on by default) output, with ranges tracked by
// an EMA during training (training state, saved with every resumable state) and frozen for
// evaluation; task loss; an int8 export of the finished student.
import Foundation
import TIQuant
import TIModel

public struct Q8BERT: QATMethod {

    public var mode: QATMode { .q8bert }
    public var loss: LossKind { .task }
    public var trainsRanges: Bool { true }
    public var writesInt8Export: Bool { true }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig {
        QuantConfig.q8bert(requantizeOutput: (config.q8bert ?? Q8BERTOptions()).requantizeOutput).with(ranges: ranges)
    }

    public func initialStudent(teacher: BertModel, parameters: [Float], config: QATConfig) -> StudentState {
        let o = config.q8bert ?? Q8BERTOptions()
        return StudentState(model: teacher, parameters: parameters,
                            ranges: ActivationRangeState(decay: o.emaDecay, start: o.emaStart, straightThrough: o.straightThrough))
    }

    /// The deployable form: int8 codes, per-tensor scales and the frozen ranges (QuantizedExport.load evaluates it).
    public func saveArtifacts(_ student: StudentState, quantization: QuantConfig, bertCount: Int, to dir: URL) throws {
        try QuantizedExport.write(student.parameters, model: student.model, config: quantization,
                                  to: dir.appendingPathComponent(StudentFiles.int8Export))
    }
}

/// Q8BERT's choices, with Intel's nlp-architect behaviour as the defaults: `ema_decay` 0.9999, the
/// EMA starting at the first observed max|x|, the straight-through gradient passed everywhere
/// (also outside the range), and every Linear output quantized again (`requantize_output`).
/// Recorded in metadata.json through `QATConfig.q8bert`.
public struct Q8BERTOptions: Codable, Equatable, Sendable {
    public var emaDecay = 0.9999
    public var emaStart = EMAStart.firstValue
    public var straightThrough = true
    public var requantizeOutput = true
    public init() {}

    enum CodingKeys: String, CodingKey { case emaDecay, emaStart, straightThrough, requantizeOutput }

    /// Runs recorded before `requantizeOutput` existed quantized Linear inputs only, and decode as such.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        emaDecay = try c.decode(Double.self, forKey: .emaDecay)
        emaStart = try c.decode(EMAStart.self, forKey: .emaStart)
        straightThrough = try c.decode(Bool.self, forKey: .straightThrough)
        requantizeOutput = try c.decodeIfPresent(Bool.self, forKey: .requantizeOutput) ?? false
    }
}

extension QATMode {
    public static let q8bert = QATMode(registered: "Q8BERT")
}
