// The seed's PTQ choices beyond the bit widths and estimators PTQOptions already carries (Qualcomm's
// transformer-quantization `utils/quant_click_options.py`, semantics only): how the MSE estimators
// search, how many candidates the activation grid tries, and the quant setup of the classifier output.
import TIData

/// The seed's `--quant-setup`: what happens to the classifier output (the logits).
public enum QuantSetup: String, Codable, CaseIterable, Sendable {
    /// Every site quantized, the logits with the activation estimator like the rest.
    case all
    /// The logits left in full precision.
    case fpLogits = "FP_logits"
    /// The logits calibrated by the MSE estimator with golden-section search.
    case mseLogits = "MSE_logits"

    /// The activation sites quantized under this setup.
    public var sites: [ActivationSite] {
        self == .fpLogits ? PTQ.seedW8A8Sites.filter { $0 != .logits } : PTQ.seedW8A8Sites
    }

    /// Sites calibrated otherwise than the rest.
    public var siteEstimators: [ActivationSite: SiteEstimator] {
        self == .mseLogits ? [.logits: SiteEstimator(estimator: .mse, search: .goldenSection)] : [:]
    }

    /// Appended to the scheme's name ("" for `all`, so that default names stay as they were).
    public var nameSuffix: String { self == .all ? "" : "-" + rawValue }
}

public struct PTQSeedOptions: Codable, Equatable, Sendable {
    /// How the MSE weight range is searched (the seed's base command: golden section).
    public var weightSearch: RangeSearchMethod = .goldenSection
    /// How the MSE activation estimator searches (the seed's default: grid).
    public var activationSearch: RangeSearchMethod = .grid
    /// Half-widths the activation grid tries (the seed's `--act-num-candidates`, default 100).
    public var activationCandidates = MSEGridSearch.defaultCandidates
    public var quantSetup: QuantSetup = .all

    public init() {}

    /// The bounds of `--n-bits`, `--n-bits-act` and `--act-num-candidates`.
    public static let bitsDomain = 2...16
    public static let candidatesDomain = 1...10_000
}

extension PTQOptions {
    /// Sets the seed's bit widths: `activation` nil takes the weights' width, as the seed's
    /// `--n-bits-act` does when not given.
    public mutating func setBits(weights: Int, activations: Int?) throws {
        for (name, b) in [(OptionName.nBits, weights), (.nBitsAct, activations ?? weights)] where !PTQSeedOptions.bitsDomain.contains(b) {
            throw OptionValueError(option: name, value: String(b), reason: "expected bits in 2…16")
        }
        weightBits = weights
        activationBits = activations ?? weights
    }

    /// The activation-range tracker calibration uses: the estimator, its search and the quant setup's
    /// site overrides.
    public func rangeTracker() -> ActivationRangeTracker {
        let s = seedOptions
        return ActivationRangeTracker(state: ActivationRangeState(), estimator: estimator, search: s.activationSearch,
                                      candidates: s.activationCandidates, siteEstimators: s.quantSetup.siteEstimators)
    }
}
