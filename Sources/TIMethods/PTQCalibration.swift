// PTQ calibration runs the quantized model over calibration batches, so it sits above the model;
// the PTQ configuration itself (sites, options, quant-dict) is in TIQuant/PTQConfig.swift.
import TILinalg
import TIQuant
import TIModel

extension PTQ {
    /// The calibrated config: weights quantized first, then the calibration batches run through the
    /// quantized model, each activation quantizer estimating its range (and quantizing with it, so later
    /// sites see the quantization of earlier ones). Permuted PEG quantizers first get their fixed
    /// permutation from a full-precision pass over the same batches (PEGPermutation.swift); `pegSharedH`
    /// shares each layer's FFN-output permutation across the layer (the seed's shared-h).
    public static func calibrate<T: BLASScalar>(model: BertModel, latent θ: [T], config: QuantConfig, batches: [Batch],
                                                estimator: RangeEstimator, pegSharedH: Bool = false) -> QuantConfig {
        calibrate(model: model, latent: θ, config: config, batches: batches,
                  tracker: ActivationRangeTracker(state: ActivationRangeState(), estimator: estimator), pegSharedH: pegSharedH)
    }

    /// `calibrate` with a tracker set up by the caller (search method, site overrides: `PTQOptions.rangeTracker`);
    /// `progress` hears of every calibration batch done (the MSE estimators make each one slow).
    public static func calibrate<T: BLASScalar>(model: BertModel, latent θ: [T], config: QuantConfig, batches: [Batch],
                                                tracker: ActivationRangeTracker, pegSharedH: Bool = false,
                                                progress: ProgressReporter? = nil) -> QuantConfig {
        for (key, order) in pegPermutations(model: model, latent: θ, config: config, batches: batches, sharedH: pegSharedH) {
            tracker.fixOrder(key, order)
        }
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: config).effective
        for (i, b) in batches.enumerated() {
            _ = model.forward(effective: q, batch: b, options: ForwardOptions(quantization: config, rangeTracker: tracker))
            progress?.update(i + 1)
        }
        var c = config
        c.ranges = tracker.state
        return c
    }

    /// The fixed permutation of every permuted PEG site visit of `config`, from the per-dimension ranges of
    /// the unquantized model (weights and activations in full precision, as the seed's range pass) over
    /// `batches`; empty when no site is permuted (then no extra pass runs).
    static func pegPermutations<T: BLASScalar>(model: BertModel, latent θ: [T], config: QuantConfig, batches: [Batch],
                                               sharedH: Bool) -> [String: [Int]] {
        let permuted = Set(config.activations.compactMap { site, q -> ActivationSite? in
            if case .perEmbeddingGroup(_, _, true) = q { return site }
            return nil
        })
        guard !permuted.isEmpty else { return [:] }
        let inspector = ActivationInspector(recordsEverySite: true)
        for b in batches {
            _ = model.forward(effective: θ, batch: b, options: ForwardOptions(quantization: .fullPrecision, inspector: inspector))
        }
        var ranges: [String: (lo: [Double], hi: [Double])] = [:]
        for (key, s) in inspector.sites { if let lo = s.dimLo, let hi = s.dimHi { ranges[key] = (lo, hi) } }
        let keys = inspector.order.filter { inspector.sites[$0].map { permuted.contains($0.site) } ?? false }
        return PEGPermutation.orders(keys: keys, fullPrecision: ranges, sharedH: sharedH)
    }
}
