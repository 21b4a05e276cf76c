// Options of the issue-8 modes (PTQ-W8A8, ADAROUND-W4, LSQ-W4A8), shared by `qat` and `quant-report`.
// Defaults leave QATConfig.ptq nil for LSQ and AdaRound, so the configuration hash of their default
// runs (and of every other mode) does not change; PTQ-W8A8 and AdaRound always record their resolved
// options. The seed's option names (Qualcomm's `utils/quant_click_options.py`) are the flags here; the
// earlier names stay as aliases.
import ArgumentParser
import Foundation
import TICore

struct QuantizationOptions: ParsableArguments {
    @Option(name: [.customLong("calibration-batches"), .customLong("num-est-batches")],
            help: "PTQ/LSQ/AdaRound: calibration batches drawn from the training set.")
    var calibrationBatches: Int = PTQOptions().calibrationBatches
    @Option(name: [.customLong("calibration-batch-size"), .customLong("est-ranges-batch-size")],
            help: "PTQ/LSQ/AdaRound: examples per calibration batch.")
    var calibrationBatchSize: Int = PTQOptions().calibrationBatchSize
    @Option(name: [.customLong("act-quant-method"), .customLong("range-estimator")],
            help: "PTQ activation range estimator: \(RangeEstimator.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rangeEstimator: RangeEstimator = PTQOptions().estimator
    @Option(name: [.customLong("weight-quant-method"), .customLong("weight-range")],
            help: "PTQ weight range: current_minmax (alias minmax) or MSE.")
    var weightRange: WeightRangeMethod = PTQOptions().weightRange
    @Option(help: "PTQ-W8A8: weight bits (activations too unless --n-bits-act), 2…16; default 8.")
    var nBits: Int?
    @Option(help: "PTQ-W8A8: activation bits, 2…16; default --n-bits.")
    var nBitsAct: Int?
    @Option(help: "PTQ-W8A8: search of the MSE weight range: grid or golden_section (default).")
    var weightOptMethod: RangeSearchMethod?
    @Option(help: "PTQ-W8A8: search of the MSE activation estimator: grid (default, errors summed over batches) or golden_section (per batch).")
    var actOptMethod: RangeSearchMethod?
    @Option(help: "PTQ-W8A8: half-widths the MSE activation grid tries; default 100.")
    var actNumCandidates: Int?
    @Option(help: "PTQ-W8A8: all (default), FP_logits (logits not quantized) or MSE_logits (logits by MSE, golden section).")
    var quantSetup: QuantSetup?
    @Option(help: "PTQ mixed precision, e.g. \"x=16,h=16,y=16\" (the seed's names e,s,p,c,g,u,x,h,y,z,P,C).")
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
        try applySeedOptions(to: &o, mode: cfg.mode)
        guard cfg.mode.method.takesCalibrationOptions else {
            if o != PTQOptions() { throw ValidationError("PTQ options apply to \(QATMode.names(where: \.takesCalibrationOptions)), not \(cfg.mode.rawValue)") }
            return
        }
        cfg.ptq = o == PTQOptions() && !cfg.mode.method.takesSeedPTQOptions ? nil : o
    }

    /// Everything `apply` refuses, refused before long work (a teacher trained first): ArgumentParser's
    /// validate() of the command calls this with the parsed mode.
    func check(mode: QATMode) throws {
        var scratch = QATConfig(mode: mode)
        try apply(to: &scratch)
    }

    /// The seed's choices: refused by modes that do not take them, resolved and always set for those that do.
    func applySeedOptions(to o: inout PTQOptions, mode: QATMode) throws {
        let given = [("--n-bits", nBits != nil), ("--n-bits-act", nBitsAct != nil), ("--weight-opt-method", weightOptMethod != nil),
                     ("--act-opt-method", actOptMethod != nil), ("--act-num-candidates", actNumCandidates != nil),
                     ("--quant-setup", quantSetup != nil)].filter(\.1).map(\.0)
        guard mode.method.takesSeedPTQOptions else {
            guard given.isEmpty else {
                let takers = QATMode.names(where: \.takesSeedPTQOptions)
                throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to \(takers), not \(mode.rawValue)")
            }
            return
        }
        if o.estimator != .mse, let flag = [("--act-opt-method", actOptMethod != nil), ("--act-num-candidates", actNumCandidates != nil)].first(where: \.1)?.0 {
            throw ValidationError("\(flag) applies to --act-quant-method MSE, not \(o.estimator.rawValue)")
        }
        if actNumCandidates != nil, actOptMethod == .goldenSection {
            throw ValidationError("--act-num-candidates applies to --act-opt-method grid, not golden_section")
        }
        if o.weightRange != .mse, weightOptMethod != nil {
            throw ValidationError("--weight-opt-method applies to --weight-quant-method MSE, not \(o.weightRange.rawValue)")
        }
        try o.setBits(weights: nBits ?? o.weightBits, activations: nBitsAct ?? nBits)
        var s = PTQSeedOptions()
        if let m = weightOptMethod { s.weightSearch = m }
        if let m = actOptMethod { s.activationSearch = m }
        if let c = actNumCandidates { s.activationCandidates = c }
        if let q = quantSetup { s.quantSetup = q }
        o.seed = s
    }

    /// --peg, --peg-sites and --peg-permute-shared-h mean something only to a mode that groups activations.
    func refuseUnusedPEGOptions(mode: QATMode) throws {
        let given = [peg.map { "--peg \($0)" }, pegSites != "y" ? "--peg-sites \(pegSites)" : nil,
                     pegPermuteSharedH ? "--peg-permute-shared-h" : nil].compactMap { $0 }
        if !mode.method.takesPEGOptions, let first = given.first {
            let takers = QATMode.names(where: \.takesPEGOptions)
            throw ValidationError("\(first): PEG options apply to \(takers), not \(mode.rawValue)")
        }
        if peg == nil, let first = given.first { throw ValidationError("\(first) needs --peg (ngK, ngpK or pe)") }
    }
}

extension RangeEstimator: ExpressibleByArgument {}
extension RangeSearchMethod: ExpressibleByArgument {}
extension QuantSetup: ExpressibleByArgument {}
extension WeightRangeMethod: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["current_minmax", "minmax", "MSE"] }
    /// The seed's `current_minmax` and the earlier `minmax` both name the min-max range.
    public init?(argument: String) {
        self.init(rawValue: argument == "current_minmax" ? WeightRangeMethod.minMax.rawValue : argument)
    }
}
