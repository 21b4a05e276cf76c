// Options of `qat` that change the experiment itself rather than its length: the optimizer's gradient
// clipping, which parts are quantized (the paper's Figure 3 cases) and the weights of the KD terms.
// An option not given leaves the configuration as it is, so a default run keeps its hash and a preset
// can tell a user's choice from its own.
import ArgumentParser
import Foundation
import TICore

struct QATRecipeOptions: ParsableArguments {
    @Option(help: "Gradient clipping to norm 1: per-tensor (BertAdam's, each parameter tensor), global, none (default: global).")
    var clip: GradientClipping?
    @Option(help: "Quantized parts, comma list of \(QuantizedSites.Part.allCases.map(\.rawValue).joined(separator: ",")) (default: TernaryBERT's, all but classifier).")
    var quantize: String?
    @Option(help: "Attention activations kept in full precision: \(QuantizedSites.FullPrecisionActivations.allCases.map(\.rawValue).joined(separator: " or ")).")
    var fpActivations: String?
    @Option(help: "KD terms, comma list of \(DistillationTerms.names.joined(separator: ",")), each optionally =weight; terms left out get 0 (default: all, weight 1).")
    var kdTerms: String?

    func apply(to cfg: inout QATConfig) throws {
        if let clip { cfg.adam.clipping = clip }
        if quantize != nil || fpActivations != nil {
            let sites = try QuantizedSites.parse(parts: quantize, fullPrecisionActivations: fpActivations)
            cfg.sites = sites == .ternaryBERT ? nil : sites
            try checkSitesApply(cfg)
        }
        if let kdTerms {
            let terms = try DistillationTerms.parse(kdTerms)
            guard cfg.mode.method.loss == .distillation else {
                throw ValidationError("--kd-terms applies to the distillation methods, not \(cfg.mode.rawValue)")
            }
            cfg.distillation = terms == .all ? nil : terms
        }
    }

    /// A method whose scheme the sites do not change (FP, the PTQ/LSQ/Q8BERT schemes) would ignore them silently.
    func checkSitesApply(_ cfg: QATConfig) throws {
        guard let sites = cfg.sites else { return }
        var plain = cfg
        plain.sites = nil
        let method = cfg.mode.method
        guard method.quantization(config: cfg, ranges: nil) != method.quantization(config: plain, ranges: nil) else {
            throw ValidationError("--quantize/--fp-activations (\(sites.label)) change nothing for \(cfg.mode.rawValue): they apply to the TernaryBERT-family modes")
        }
    }
}

extension GradientClipping: ExpressibleByArgument {}
