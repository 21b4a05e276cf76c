// Learned step size quantization (LSQ, Esser et al. 2020; Qualcomm's "QAT with learned ranges") for
// weights and activations. Each quantized weight tensor W has a step s that is a trainable parameter:
//   Ŵ = s·clamp(round(W/s), −Q_N, Q_P),  Q_N = 2^(b−1), Q_P = 2^(b−1) − 1.
// With the straight-through estimator, ∂Ŵ/∂W = 1 inside the grid and 0 where clamped, and
// ∂Ŵ/∂s = round(W/s) − W/s inside, −Q_N or Q_P where clamped. That is the exact derivative of the
// stand-in Ŵ = mask·W + d·s (d frozen at θ₀), so Hessian-vector products see the steps too.
//
// Activations (8-bit asymmetric at PTQ's sites) get one learned step per site visit ("ffnResidual.2"):
//   x̂ = s·(clamp(round(x/s) + z, 0, 2^b − 1) − z)
// with the integer zero point z fixed by the calibrated range the step starts from (s₀ = (hi − lo)/(2^b − 1),
// z = round(−lo/s₀)), so the bounds are Q_N = z below and Q_P = 2^b − 1 − z above and
// ∂x̂/∂s = round(x/s) − x/s inside, −z or 2^b − 1 − z where clamped: the same rule as for weights.
// The forward takes s from θ (ActivationQuantization.apply) and the backward adds Σ ∂L/∂x̂·∂x̂/∂s
// into the step's gradient slot (STEMask.backward), next to each other in FrozenPoint.swift.
//
// The steps live in the flat parameter buffer (role `.scale`), so the optimizer, gradient norms,
// Hessians and landscapes all see them: `LSQ.model` appends one [1] slot per quantized weight, then
// one per activation site visit, after the BERT layout (BERT offsets unchanged; every other mode keeps
// the plain BERT layout). LSQ's gradient scale 1/√(N·Q_P) is an optimizer preconditioner, not part of
// the loss: the objective returns the true stand-in gradient and the training loop applies the scale
// (`scaleGradients`).
import TILinalg

/// ∂x̂/∂s of one LSQ activation site visit: the step's gradient is Σᵢ (∂L/∂x̂ᵢ)·dᵢ (STEMask.backward).
public struct LSQActivationTerm<T: BLASScalar> {
    public let index: Int
    public let d: Buffer<T>
}

/// The activation steps of the parameter vector one forward pass evaluates, by site key.
public struct LSQActivationSteps<T: BLASScalar> {
    private let byKey: [String: (index: Int, value: T)]

    /// nil when `quantization` has no LSQ activation site or the layout has no activation step slots
    /// (a plain BERT layout: the sites then fall back to their calibrated ranges).
    public init?(layout: ParameterLayout, parameters θ: [T], quantization: QuantConfig) {
        guard quantization.activations.values.contains(where: { if case .lsq = $0 { return true }; return false }) else { return nil }
        var d: [String: (index: Int, value: T)] = [:]
        for slot in layout.slots where slot.role == .scale && slot.name.hasPrefix(LSQ.activationPrefix) {
            d[String(slot.name.dropFirst(LSQ.activationPrefix.count).dropLast(".step".count))] = (slot.offset, θ[slot.offset])
        }
        guard !d.isEmpty else { return nil }
        byKey = d
    }

    public subscript(key: String) -> (index: Int, value: T)? { byKey[key] }
}

/// ∂Ŵ/∂s over one weight tensor: the gradient of the step at `scaleIndex` is Σ_{i∈range} g_i·d_i.
public struct LSQScaleTerm<T: BLASScalar> {
    public let scaleIndex: Int
    public let range: Range<Int>
    public let d: [T]
}

public enum LSQ {
    public static func scaleName(_ weight: String) -> String { "lsq." + weight + ".step" }
    /// The step of an activation site visit, by its range key ("ffnResidual.2").
    public static func activationStepName(_ key: String) -> String { activationPrefix + key + ".step" }
    static let activationPrefix = "lsq.act."

    /// Site visits with an LSQ activation quantizer, in layout order: every site of `ActivationSite`
    /// that the config makes `.lsq`, once per layer (head sites once), keyed as the forward keys them.
    public static func activationSlots(config: BertConfig, quantization: QuantConfig) -> [(key: String, site: ActivationSite, bits: Int)] {
        ActivationSite.allCases.flatMap { site -> [(key: String, site: ActivationSite, bits: Int)] in
            guard case .lsq(let bits)? = quantization.activations[site] else { return [] }
            let visits = headSites.contains(site) ? 1 : config.numLayers
            return (0..<visits).map { (ActivationRangeState.key(site, $0), site, bits) }
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

    /// Zero point of an asymmetric b-bit grid over [lo, hi] (widened to contain 0), as `ActivationQuantizer.asymmetric` rounds it.
    public static func zeroPoint(lo: Double, hi: Double, bits: Int) -> Double {
        let lo = min(lo, 0), hi = max(hi, 0)
        guard hi > lo else { return 0 }
        return zeroPoint(lo: lo, step: (hi - lo) / Double((1 << bits) - 1), bits: bits)
    }

    /// Zero point that puts `lo` (≤ 0) on the grid of step s, within [0, 2^b − 1].
    public static func zeroPoint(lo: Double, step s: Double, bits: Int) -> Double {
        guard s > 0 else { return 0 }
        return min(max((-min(lo, 0) / s).rounded(.toNearestOrEven), 0), Double((1 << bits) - 1))
    }

    /// x̂, the STE mask and ∂x̂/∂s of the asymmetric LSQ activation quantizer with step s and zero point z.
    public static func quantizeActivation<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, step s: T, zero z: T,
                                                         out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>,
                                                         d: UnsafeMutablePointer<T>) {
        let top = T((1 << bits) - 1)
        for i in 0..<n {
            let v = x[i] / s, r = roundEven(v), u = r + z
            if u < 0 { out[i] = -z * s; mask[i] = 0; d[i] = -z }
            else if u > top { out[i] = (top - z) * s; mask[i] = 0; d[i] = top - z }
            else { out[i] = r * s; mask[i] = 1; d[i] = r - v }
        }
    }

    public static func levels(bits: Int) -> (qn: Int, qp: Int) { (1 << (bits - 1), (1 << (bits - 1)) - 1) }

    /// The LSQ gradient scale of a step that quantizes N values.
    public static func gradientScale(count n: Int, bits: Int) -> Double { 1 / (Double(n) * Double(levels(bits: bits).qp)).squareRoot() }

    /// The weight slots of `layout` an LSQ quantizer of `config` applies to, with their bits.
    static func quantizedSlots(_ layout: ParameterLayout, _ config: QuantConfig) -> [(ParameterSlot, Int)] {
        layout.slots.compactMap { slot in
            guard let site = WeightSite(parameterName: slot.name), case .lsq(let bits)? = config.weights[site] else { return nil }
            return (slot, bits)
        }
    }

    /// BERT with one step slot per LSQ-quantized weight, then one per LSQ activation site visit, appended.
    public static func model(config: BertConfig, quantization: QuantConfig) -> BertModel {
        let weights = quantizedSlots(config.parameterLayout, quantization).map { (name: scaleName($0.0.name), shape: [1], role: ParameterRole.scale) }
        let activations = activationSlots(config: config, quantization: quantization)
            .map { (name: activationStepName($0.key), shape: [1], role: ParameterRole.scale) }
        return BertModel(config: config, appending: weights + activations)
    }

    /// BERT parameters extended with initial steps: for weights the MSE-optimal symmetric range over
    /// Q_P; for activations the calibrated range over 2^b − 1 when `quantization.ranges` holds one
    /// (else 1, to be set by `initializeActivationSteps` once calibrated).
    public static func initialParameters<T: BLASScalar>(bert θ: [T], model: BertModel, quantization: QuantConfig) -> [T] {
        var full = θ + [T](repeating: 1, count: model.layout.count - θ.count)
        θ.withUnsafeBufferPointer { p in
            for (slot, bits) in quantizedSlots(model.layout, quantization) {
                let r = WeightQuantizer.mseSymmetricRange(p.baseAddress! + slot.offset, count: slot.count, bits: bits, golden: true)
                full[model.layout.slot(scaleName(slot.name)).offset] = T(max(r, 1e-8) / Double(levels(bits: bits).qp))
            }
        }
        if let ranges = quantization.ranges { initializeActivationSteps(&full, model: model, quantization: quantization, ranges: ranges) }
        return full
    }

    /// Sets every activation step to its calibrated start s₀ = (hi − lo)/(2^b − 1) (range widened to
    /// contain 0, as the asymmetric grid does), so that training starts from PTQ's quantizer.
    public static func initializeActivationSteps<T: BLASScalar>(_ θ: inout [T], model: BertModel, quantization: QuantConfig,
                                                               ranges: ActivationRangeState) {
        for a in activationSlots(config: model.config, quantization: quantization) {
            guard let r = ranges.ranges[a.key], let slot = model.layout[activationStepName(a.key)] else { continue }
            θ[slot.offset] = T(max((max(r.hi, 0) - min(r.lo, 0)) / Double((1 << a.bits) - 1), 1e-8))
        }
    }

    /// Multiplies each step's gradient by its LSQ gradient scale (training only). Activations use
    /// N = features per token (`activationWidth`) and Q_P = 2^b − 1, the grid's whole extent, as LSQ
    /// does for unsigned activations: the zero point only shifts the grid.
    public static func scaleGradients<T: BLASScalar>(_ g: inout [T], model: BertModel, quantization: QuantConfig) {
        for (slot, bits) in quantizedSlots(model.layout, quantization) {
            g[model.layout.slot(scaleName(slot.name)).offset] *= T(gradientScale(count: slot.count, bits: bits))
        }
        for a in activationSlots(config: model.config, quantization: quantization) {
            guard let slot = model.layout[activationStepName(a.key)] else { continue }
            g[slot.offset] *= T(activationGradientScale(width: activationWidth(a.site, model.config), bits: a.bits))
        }
    }

    /// g = 1/√(N·Q_P) of an activation step with N features per token and Q_P = 2^b − 1.
    public static func activationGradientScale(width n: Int, bits: Int) -> Double {
        1 / (Double(n) * Double((1 << bits) - 1)).squareRoot()
    }

    /// Keeps every step positive after an optimizer update.
    public static func clampSteps<T: BLASScalar>(_ θ: inout [T], model: BertModel) {
        for slot in model.layout.slots where slot.role == .scale && slot.name.hasPrefix("lsq.") {
            θ[slot.offset] = max(θ[slot.offset], T(1e-8))
        }
    }

    /// Ŵ, the STE mask and ∂Ŵ/∂s for one tensor with step s.
    public static func quantize<T: BLASScalar>(_ w: UnsafePointer<T>, count n: Int, bits: Int, step s: T,
                                               out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>, d: UnsafeMutablePointer<T>) {
        let (qn, qp) = levels(bits: bits)
        let lo = -T(qn), hi = T(qp)
        for i in 0..<n {
            let z = w[i] / s, r = roundEven(z)
            if r < lo { out[i] = lo * s; mask[i] = 0; d[i] = lo }
            else if r > hi { out[i] = hi * s; mask[i] = 0; d[i] = hi }
            else { out[i] = r * s; mask[i] = 1; d[i] = r - z }
        }
    }
}

extension QuantConfig {
    /// LSQ W4A8: 4-bit weights with learned steps (every Linear and embedding table), 8-bit asymmetric
    /// activations at PTQ's sites with learned steps, started from ranges calibrated before training
    /// (which also fix each site's zero point).
    public static let lsqW4A8: QuantConfig = {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in WeightSite.allCases { w[s] = .lsq(bits: 4) }
        var a: [ActivationSite: ActivationQuantizer] = [:]
        for s in PTQ.sites { a[s] = .lsq(bits: 8) }
        return QuantConfig(name: "lsq-w4a8", weights: w, activations: a)
    }()
}
