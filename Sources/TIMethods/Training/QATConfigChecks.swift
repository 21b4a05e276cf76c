// A training configuration that would train nothing or report nonsense ("-2 steps" from epochs -1, a
// division by an evaluation interval of 0, a non-finite rate that cannot be written to
// metadata.json), refused in the library's own terms before a run starts. The CLI checks the same
// options when it parses them (QATOptionChecks); this covers library callers and runs on demand.
import Foundation
import TIData

/// The checks QAT and fine-tuning share: one schedule, one set of rules.
enum ScheduleChecks {
    static func require(_ ok: Bool, _ option: OptionName, _ value: CustomStringConvertible, _ expected: String) throws {
        if !ok { throw OptionValueError(option: option, value: value.description, reason: "expected \(expected)") }
    }

    static func schedule(learningRate: Double, epochs: Int, batchSize: Int, evalEvery: Int) throws {
        try require(learningRate.isFinite && learningRate > 0, .learningRate, learningRate, "a finite positive learning rate")
        try require(epochs >= 1, .epochs, epochs, "at least 1 epoch")
        try require(batchSize >= 1, .batchSize, batchSize, "at least 1")
        try require(evalEvery >= 1, .evalEvery, evalEvery, "at least 1 step")
    }
}

extension QATConfig {
    public func validate() throws {
        try ScheduleChecks.schedule(learningRate: learningRate, epochs: epochs, batchSize: batchSize, evalEvery: evalEvery)
        if let s = stepOneLength { try ScheduleChecks.require(s >= 1, .stepOne, s, "at least 1 step") }
        if weightPrecisions != nil {
            let method = mode.method
            guard method.quantization(config: self, ranges: nil).acceptsWeightPrecisions, !method.writesInt8Export else {
                throw OptionValueError(option: .weightPrecisions, value: nil,
                                       reason: "\(mode.rawValue) keeps per-tensor quantizer state (learned steps, MSE ranges, rounding or an int8 export); per-tensor precisions apply to the ternary and uniform schemes")
            }
        }
    }
}

extension ScheduleChecks {
    /// Every batch of the epoch (the last one may be short) must give each of `ranks` ranks a row.
    static func shares(batchSize: Int, examples: Int, ranks: Int) throws {
        guard ranks > 1 else { return }
        let last = examples % batchSize
        try require(batchSize >= ranks && (last == 0 || last >= ranks), .batchSize, batchSize,
                    "a batch size (and a last batch of \(examples) training examples) of at least \(ranks), one example per rank")
    }
}
