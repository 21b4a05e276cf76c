// LSQ's place in the flat parameter buffer: one learned step per quantized weight tensor and per
// activation site visit, and one learned zero point per asymmetric activation site visit, appended after
// BERT's layout as named [1] views ("lsq.act.ffnResidual.2.step", "lsq.act.ffnResidual.2.zero_point"),
// with their initial values, gradient scales and the clamp that keeps the steps positive. The quantizer
// arithmetic itself is in TIQuant/LSQ.swift.
import TILinalg
import TIQuant
import TIModel

extension LSQ {
    /// Site visits with an LSQ activation quantizer, in layout order: every site of `ActivationSite`
    /// that the config makes `.lsq` or `.lsqSymmetric`, once per layer (head sites once), keyed as the
    /// forward keys them; `learnsZeroPoint` for the asymmetric ones.
    public static func activationSlots(config: BertConfig, quantization: QuantConfig)
        -> [(key: String, site: ActivationSite, bits: Int, learnsZeroPoint: Bool)] {
        ActivationSite.allCases.flatMap { site -> [(key: String, site: ActivationSite, bits: Int, learnsZeroPoint: Bool)] in
            guard let q = quantization.activations[site], q.learnsStep else { return [] }
            let visits = headSites.contains(site) ? 1 : config.numLayers
            let asymmetric: Bool = { if case .lsq = q { return true }; return false }()
            return (0..<visits).map { (ActivationRangeState.key(site, $0), site, q.bits, asymmetric) }
        }
    }

    /// Sites the forward visits once (in the pooler/classifier head), not once per layer.
    static let headSites: Set<ActivationSite> = [.poolerInput, .poolerOutput, .classifierInput, .logits]

    /// Features per token of an activation site: N of the activation gradient scale. LSQ's paper uses
    /// the number of features of the layer; taking it per token keeps the preconditioner independent
    /// of batch size and sequence length (padding), so every step scales the same way.
    static func activationWidth(_ site: ActivationSite, _ config: BertConfig) -> Int {
        switch site {
        case .intermediateOutput, .outputInput: return config.intermediateSize
        case .logits: return config.numLabels
        default: return config.hiddenSize
        }
    }

    /// The weight slots of `layout` an LSQ quantizer of `config` applies to.
    static func quantizedWeights(_ layout: ParameterLayout, _ config: QuantConfig) -> [ParameterSlot] {
        layout.slots.filter { slot in
            guard let site = slot.weightSite, case .lsq? = config.weights[site] else { return false }
            return true
        }
    }

    /// The learned weight steps of `layout` (slots that scale another slot), each with the weight it
    /// scales and that weight's bits under `config`, in layout order.
    static func weightSteps(_ layout: ParameterLayout, _ config: QuantConfig) -> [(weight: ParameterSlot, step: ParameterSlot, bits: Int)] {
        layout.slots.compactMap { step in
            guard case .slot(let name)? = step.scales, let weight = layout[name], let site = weight.weightSite,
                  case .lsq(let bits)? = config.weights[site] else { return nil }
            return (weight, step, bits)
        }
    }

    /// BERT with one step slot per LSQ-quantized weight, then one per LSQ activation site visit, then one
    /// zero-point slot per asymmetric site visit, appended; each slot records what it belongs to, so
    /// nothing finds a step or zero point by its name.
    public static func model(config: BertConfig, quantization: QuantConfig) -> BertModel {
        let weights = quantizedWeights(config.parameterLayout, quantization)
            .map { (name: scaleName($0.name), shape: [1], role: ParameterRole.scale, scales: ScaleTarget?.some(.slot($0.name))) }
        let sites = activationSlots(config: config, quantization: quantization)
        let steps = sites
            .map { (name: activationStepName($0.key), shape: [1], role: ParameterRole.scale, scales: ScaleTarget?.some(.activation($0.key))) }
        let zeroPoints = sites.filter(\.learnsZeroPoint)
            .map { (name: activationZeroPointName($0.key), shape: [1], role: ParameterRole.scale,
                    scales: ScaleTarget?.some(.activationZeroPoint($0.key))) }
        return BertModel(config: config, appending: weights + steps + zeroPoints)
    }

    /// BERT parameters extended with initial steps: for weights the MSE-optimal symmetric range over
    /// Q_P; for activations the calibrated range over 2^b − 1 when `quantization.ranges` holds one
    /// (else 1, to be set by `initializeActivationSteps` once calibrated).
    public static func initialParameters<T: BLASScalar>(bert θ: [T], model: BertModel, quantization: QuantConfig) -> [T] {
        var full = θ + [T](repeating: 1, count: model.layout.count - θ.count)
        θ.withUnsafeBufferPointer { p in
            for (slot, step, bits) in weightSteps(model.layout, quantization) {
                let r = WeightQuantizer.mseSymmetricRange(p.baseAddress! + slot.offset, count: slot.count, bits: bits, golden: true)
                full[step.offset] = T(IntegerGrid.signed(bits: bits).step(range: max(r, 1e-8)))
            }
        }
        if let ranges = quantization.ranges { initializeActivationSteps(&full, model: model, quantization: quantization, ranges: ranges) }
        return full
    }

    /// Sets every activation step to its calibrated start: s₀ = (hi − lo)/(2^b − 1) (range widened to
    /// contain 0, as the asymmetric grid does) and z_f = −lo/s₀ (unrounded, as the seed) for asymmetric
    /// sites, so that training starts from PTQ's quantizer; s₀ = max(|lo|, hi)/Q_P for symmetric ones.
    public static func initializeActivationSteps<T: BLASScalar>(_ θ: inout [T], model: BertModel, quantization: QuantConfig,
                                                               ranges: ActivationRangeState) {
        for a in activationSlots(config: model.config, quantization: quantization) {
            guard let r = ranges.ranges[a.key], let slot = model.layout.scale(of: .activation(a.key)) else { continue }
            let lo = min(r.lo, 0), hi = max(r.hi, 0)
            let s = max(a.learnsZeroPoint ? IntegerGrid.unsigned(bits: a.bits).step(lo: lo, hi: hi)
                                          : LSQ.symmetricActivationStep(lo: lo, hi: hi, bits: a.bits), 1e-8)
            θ[slot.offset] = T(s)
            if let z = model.layout.scale(of: .activationZeroPoint(a.key)) { θ[z.offset] = T(initialZeroPoint(lo: lo, step: s)) }
        }
    }

    /// Multiplies each step's gradient by its LSQ gradient scale (training only). Activations use
    /// N = features per token (`activationWidth`) and Q_P = 2^b − 1, the grid's whole extent, as LSQ
    /// does for unsigned activations: the zero point only shifts the grid.
    public static func scaleGradients<T: BLASScalar>(_ g: inout [T], model: BertModel, quantization: QuantConfig) {
        for (slot, step, bits) in weightSteps(model.layout, quantization) {
            g[step.offset] *= T(gradientScale(count: slot.count, bits: bits))
        }
        for a in activationSlots(config: model.config, quantization: quantization) {
            guard let slot = model.layout.scale(of: .activation(a.key)) else { continue }
            g[slot.offset] *= T(activationGradientScale(width: activationWidth(a.site, model.config), bits: a.bits))
        }
    }

    /// g = 1/√(N·Q_P) of an activation step with N features per token and Q_P = 2^b − 1.
    public static func activationGradientScale(width n: Int, bits: Int) -> Double {
        1 / (Double(n) * Double(IntegerGrid.unsigned(bits: bits).qp)).squareRoot()
    }

    /// Keeps every step positive after an optimizer update (zero points are clamped in the forward).
    public static func clampSteps<T: BLASScalar>(_ θ: inout [T], model: BertModel) {
        for slot in model.layout.slots where slot.role == .scale && slot.scales?.isStep == true {
            θ[slot.offset] = max(θ[slot.offset], T(1e-8))
        }
    }

}
