// Options of the issue-8 modes (PTQ-W8A8, ADAROUND-W4, LSQ-W4A8), shared by `qat` and `quant-report`.
// Defaults leave QATConfig.ptq nil, so the configuration hash of a default run (and of every other
// mode) does not change; an AdaRound run always records its resolved options.
import ArgumentParser
import Foundation
import TICore

struct QuantizationOptions: ParsableArguments {
    @Option(help: "PTQ/LSQ/AdaRound: calibration batches drawn from the training set.")
    var calibrationBatches: Int = PTQOptions().calibrationBatches
    @Option(help: "PTQ/LSQ/AdaRound: examples per calibration batch.")
    var calibrationBatchSize: Int = PTQOptions().calibrationBatchSize
    @Option(help: "PTQ activation range estimator: \(RangeEstimator.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rangeEstimator: RangeEstimator = PTQOptions().estimator
    @Option(help: "PTQ weight range: \(WeightRangeMethod.allCases.map(\.rawValue).joined(separator: ", ")) (MSE: grid + golden section).")
    var weightRange: WeightRangeMethod = PTQOptions().weightRange
    @Option(help: "PTQ mixed precision, e.g. \"x=16,h=16,y=16\" (x FFN input, h FFN output, y FFN residual sum, P pooler, C classifier).")
    var quantDict: String?
    @Option(help: "PTQ per-embedding-group activations: ngK, ngpK (permuted by range) or pe (per embedding).")
    var peg: String?
    @Option(help: "Sites for --peg: all ([tokens, hidden] quantizers, the seed's --per-groups) or a comma list of x, h, y.")
    var pegSites: String = "y"
    @Flag(help: "With --peg ngpK: each layer's grouped quantizers share the FFN output's permutation (the seed's --per-groups-permute-shared-h).")
    var pegPermuteSharedH = false
    @OptionGroup var adaround: AdaRoundArguments

    func apply(to cfg: inout QATConfig) throws {
        var o = PTQOptions()
        o.calibrationBatches = calibrationBatches; o.calibrationBatchSize = calibrationBatchSize
        o.estimator = rangeEstimator; o.weightRange = weightRange
        if let q = quantDict { o.quantDict = try PTQ.parseQuantDict(q) }
        if let p = peg { o.peg = try PEGOptions.parse(p, sites: pegSites, sharedH: pegPermuteSharedH) }
        try refuseUnusedPEGOptions(mode: cfg.mode)
        try adaround.apply(to: &cfg)
        guard cfg.mode.method.takesCalibrationOptions else {
            if o != PTQOptions() { throw ValidationError("PTQ options apply to \(QATMode.allCases.filter { $0.method.takesCalibrationOptions }.map(\.rawValue).joined(separator: ", ")), not \(cfg.mode.rawValue)") }
            return
        }
        cfg.ptq = o == PTQOptions() ? nil : o
    }

    /// --peg, --peg-sites and --peg-permute-shared-h mean something only to a mode that groups activations.
    func refuseUnusedPEGOptions(mode: QATMode) throws {
        let given = [peg.map { "--peg \($0)" }, pegSites != "y" ? "--peg-sites \(pegSites)" : nil,
                     pegPermuteSharedH ? "--peg-permute-shared-h" : nil].compactMap { $0 }
        if !mode.method.takesPEGOptions, let first = given.first {
            let takers = QATMode.allCases.filter { $0.method.takesPEGOptions }.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("\(first): PEG options apply to \(takers), not \(mode.rawValue)")
        }
        if peg == nil, let first = given.first { throw ValidationError("\(first) needs --peg (ngK, ngpK or pe)") }
    }
}

extension RangeEstimator: ExpressibleByArgument {}
extension WeightRangeMethod: ExpressibleByArgument {}
