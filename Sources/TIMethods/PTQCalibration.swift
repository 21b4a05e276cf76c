// PTQ calibration runs the quantized model over calibration batches, so it sits above the model;
// the PTQ configuration itself (sites, options, quant-dict) is in TIQuant/PTQConfig.swift.
import TILinalg
import TIQuant
import TIModel

extension PTQ {
    /// The calibrated config: weights quantized first, then the calibration batches run through the
    /// quantized model, each activation quantizer estimating its range (and quantizing with it, so later
    /// sites see the quantization of earlier ones).
    public static func calibrate<T: BLASScalar>(model: BertModel, latent θ: [T], config: QuantConfig, batches: [Batch],
                                                estimator: RangeEstimator) -> QuantConfig {
        calibrate(model: model, latent: θ, config: config, batches: batches,
                  tracker: ActivationRangeTracker(state: ActivationRangeState(), estimator: estimator))
    }

    /// `calibrate` with a tracker set up by the caller (search method, site overrides: `PTQOptions.rangeTracker`).
    public static func calibrate<T: BLASScalar>(model: BertModel, latent θ: [T], config: QuantConfig, batches: [Batch],
                                                tracker: ActivationRangeTracker) -> QuantConfig {
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: config).effective
        for b in batches {
            _ = model.forward(effective: q, batch: b, options: ForwardOptions(quantization: config, rangeTracker: tracker))
        }
        var c = config
        c.ranges = tracker.state
        return c
    }
}
