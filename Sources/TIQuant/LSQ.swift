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
        for slot in layout.slots {
            if case .activation(let key)? = slot.scales { d[key] = (slot.offset, θ[slot.offset]) }
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

    /// Zero point of an asymmetric b-bit grid over [lo, hi] (widened to contain 0), as `ActivationQuantizer.asymmetric` rounds it.
    public static func zeroPoint(lo: Double, hi: Double, bits: Int) -> Double {
        let lo = min(lo, 0), hi = max(hi, 0)
        guard hi > lo else { return 0 }
        return zeroPoint(lo: lo, step: IntegerGrid.unsigned(bits: bits).step(lo: lo, hi: hi), bits: bits)
    }

    /// Zero point that puts `lo` (≤ 0) on the grid of step s, within [0, 2^b − 1].
    public static func zeroPoint(lo: Double, step s: Double, bits: Int) -> Double {
        guard s > 0 else { return 0 }
        let grid = IntegerGrid.unsigned(bits: bits)
        return grid.clamp(grid.zeroPoint(lo: min(lo, 0), step: s))
    }

    /// x̂, the STE mask and ∂x̂/∂s of the asymmetric LSQ activation quantizer with step s and zero point z.
    public static func quantizeActivation<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, step s: T, zero z: T,
                                                         out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>,
                                                         d: UnsafeMutablePointer<T>) {
        let top = T(IntegerGrid.unsigned(bits: bits).qmax)
        for i in 0..<n {
            let v = x[i] / s, r = roundEven(v), u = r + z
            if u < 0 { out[i] = -z * s; mask[i] = 0; d[i] = -z }
            else if u > top { out[i] = (top - z) * s; mask[i] = 0; d[i] = top - z }
            else { out[i] = r * s; mask[i] = 1; d[i] = r - v }
        }
    }

    /// The LSQ gradient scale of a step that quantizes N values.
    public static func gradientScale(count n: Int, bits: Int) -> Double { 1 / (Double(n) * Double(IntegerGrid.signed(bits: bits).qp)).squareRoot() }

    /// Ŵ, the STE mask and ∂Ŵ/∂s for one tensor with step s.
    public static func quantize<T: BLASScalar>(_ w: UnsafePointer<T>, count n: Int, bits: Int, step s: T,
                                               out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>, d: UnsafeMutablePointer<T>) {
        let (lo, hi) = IntegerGrid.signed(bits: bits).codeBounds(as: T.self)  // −Q_N, Q_P
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
