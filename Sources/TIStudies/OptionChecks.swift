// The studies' numeric options checked before any work: the estimators in TIAnalysis state their
// limits as preconditions (a programming error there), so a bad value from a caller must be
// refused here as an OptionValueError naming the option, never reach them as a trap.
import TIData

enum OptionChecks {
    static func require(_ ok: Bool, _ option: OptionName, _ value: CustomStringConvertible, _ expected: String) throws {
        if !ok { throw OptionValueError(option: option, value: value.description, reason: "expected \(expected)") }
    }

    /// Power iteration: at least one eigenvalue, a positive tolerance, two iterations to measure a change.
    static func powerIteration(count: Int, tolerance: Double, maxIterations: Int) throws {
        try require(count >= 1, .topK, count, "at least 1")
        try require(tolerance > 0, .tolerance, tolerance, "a positive tolerance")
        try require(maxIterations >= 2, .maxIterations, maxIterations, "at least 2 iterations")
    }

    static func sampling(samples: Int?, batchSize: Int) throws {
        if let samples { try require(samples >= 1, .samples, samples, "at least 1 example") }
        try require(batchSize >= 1, .batchSize, batchSize, "at least 1")
    }
}

extension HessianOptions {
    public func validate() throws {
        try OptionChecks.sampling(samples: samples, batchSize: batchSize)
        try OptionChecks.powerIteration(count: topK, tolerance: tolerance, maxIterations: maxIterations)
        try OptionChecks.require(traceMinProbes == 0 || traceMinProbes >= 3, .traceProbes, traceMinProbes,
                                 "0 (no trace) or at least 3 probes for a standard error")
        try OptionChecks.require(!perLayer || traceMinProbes >= 3, .traceProbes, traceMinProbes,
                                 "at least 3 probes: every per-layer row carries a trace")
        try OptionChecks.require(traceMaxProbes >= traceMinProbes, .traceProbes, traceMaxProbes, "at least the minimum, \(traceMinProbes)")
        try OptionChecks.require(perExample >= 0, .perExample, perExample, "0 (none) or a count of examples")
        try OptionChecks.require(perExample == 0 || lanczosSteps >= 1, .lanczosSteps, lanczosSteps,
                                 "at least 1 step: per-example spectra are Lanczos estimates")
    }
}

extension PeerProbeOptions {
    public func validate() throws {
        try OptionChecks.sampling(samples: samples, batchSize: batchSize)
        if topK > 0 { try OptionChecks.powerIteration(count: topK, tolerance: tolerance, maxIterations: maxIterations) }
    }
}
