// Q8BERT's options under Intel's nlp-architect names where it has one (`ema_decay`, `requantize_output`); the EMA start and
// the STE are behaviours there, offered here with Intel's as the default.
import ArgumentParser
import TICore

struct Q8BERTArguments: ParsableArguments {
    @Option(help: "Q8BERT: EMA decay of the activation ranges (Intel's ema_decay; default 0.9999), in (0, 1).")
    var emaDecay: Double?
    @Option(help: "Q8BERT: where the range EMA starts: first-value (Intel's, default) or bias-corrected (from 0, Adam's correction).")
    var emaStart: EMAStart?
    @Option(help: "Q8BERT: the activation STE: pass-through (Intel's, default: gradient 1 also outside the range) or clip-mask.")
    var ste: Q8BERTSTE?

    @Flag(inversion: .prefixedNo, help: "Q8BERT: quantize every Linear's output to 8 bits too, with its own EMA range (Intel's requantize_output; default on).")
    var requantizeOutput: Bool?

    enum Q8BERTSTE: String, ExpressibleByArgument, CaseIterable { case passThrough = "pass-through", clipMask = "clip-mask" }

    func validate() throws {
        if let emaDecay, !(emaDecay > 0 && emaDecay < 1) {
            throw ValidationError("--ema-decay \(emaDecay): expected a decay in (0, 1)")
        }
    }

    /// Before any work: modes that do not train EMA ranges refuse these options.
    func check(mode: QATMode) throws {
        if !mode.method.trainsRanges, emaDecay != nil || emaStart != nil || ste != nil || requantizeOutput != nil {
            let takers = QATMode.names(where: \.trainsRanges)
            throw ValidationError("--ema-decay/--ema-start/--ste/--[no-]requantize-output apply to \(takers) only, not \(mode.rawValue)")
        }
    }

    /// Range-training (Q8BERT) runs always record their resolved options.
    func apply(to cfg: inout QATConfig) throws {
        try check(mode: cfg.mode)
        guard cfg.mode.method.trainsRanges else { return }
        var o = Q8BERTOptions()
        if let emaDecay { o.emaDecay = emaDecay }
        if let emaStart { o.emaStart = emaStart }
        if let ste { o.straightThrough = ste == .passThrough }
        if let requantizeOutput { o.requantizeOutput = requantizeOutput }
        cfg.q8bert = o
    }
}

extension EMAStart: ExpressibleByArgument {}
