// Learned step size quantization (LSQ, Esser et al. 2020; Qualcomm's "QAT with learned ranges") for
// weights and activations. Each quantized weight tensor W has a step s that is a trainable parameter:
//   Ŵ = s·clamp(round(W/s), −Q_N, Q_P),  Q_N = 2^(b−1), Q_P = 2^(b−1) − 1.
// With the straight-through estimator, ∂Ŵ/∂W = 1 inside the grid and 0 where clamped, and
// ∂Ŵ/∂s = round(W/s) − W/s inside, −Q_N or Q_P where clamped. That is the exact derivative of the
// stand-in Ŵ = mask·W + d·s (d frozen at θ₀), so Hessian-vector products see the steps too.
//
// Activations (8-bit at PTQ's sites) get one learned step per site visit ("ffnResidual.2"). The
// asymmetric quantizer (the seed's `asymmetric_uniform` with `--learn-ranges`, the default) also learns
// its zero point, as the seed does: a float parameter z_f, rounded and clamped in the forward,
//   z = clamp(round(z_f), 0, 2^b − 1),   x̂ = s·(clamp(round(x/s) + z, 0, 2^b − 1) − z),
// both roundings passed straight through. Then ∂x̂/∂s = round(x/s) − x/s inside, −z or 2^b − 1 − z
// where clamped (the weights' rule with Q_N = z, Q_P = 2^b − 1 − z), and ∂x̂/∂z_f = 0 inside (the
// zero point cancels) and −s where clamped (0 when round(z_f) itself is clamped). The start is the
// calibrated range: s₀ = (hi − lo)/(2^b − 1), z_f = −lo/s₀ unrounded. The symmetric quantizer (the
// seed's `symmetric_uniform`) learns only s over the signed grid when the calibrated range reaches below
// 0, else the unsigned one, started at max(|lo|, hi)/Q_P.
// The forward takes s and z_f from θ (LSQActivationQuantization.swift) and the backward adds
// Σ ∂L/∂x̂·∂x̂/∂p into each parameter's gradient slot (STEMask.backward, FrozenPoint.swift).
//
// The steps and zero points live in the flat parameter buffer (role `.scale`), so the optimizer,
// gradient norms, Hessians and landscapes all see them: `LSQ.model` appends one [1] slot per quantized
// weight, then one step per activation site visit, then one zero point per asymmetric site visit, after
// the BERT layout (BERT offsets unchanged; every other mode keeps the plain BERT layout). LSQ's gradient
// scale 1/√(N·Q_P) on the steps is an optimizer preconditioner, not part of the loss: the objective
// returns the true stand-in gradient and the training loop applies the scale (`scaleGradients`); the
// zero points' gradients are not scaled (the seed scales none).
import TILinalg

/// ∂x̂/∂p of one learned parameter p (step or zero point) of an LSQ activation site visit: p's gradient
/// is Σᵢ (∂L/∂x̂ᵢ)·dᵢ (STEMask.backward).
public struct LSQActivationTerm<T: BLASScalar> {
    public let index: Int
    public let d: Buffer<T>
    /// p at the point the forward was taken (the frozen replay adds d·(p − p₀)).
    public let value: T

    public init(index: Int, d: Buffer<T>, at value: T) { self.index = index; self.d = d; self.value = value }
}

/// The activation steps and zero points of the parameter vector one forward pass evaluates, by site key.
public struct LSQActivationSteps<T: BLASScalar> {
    private let steps: [String: (index: Int, value: T)]
    private let zeroPoints: [String: (index: Int, value: T)]
    private let values: [Int: T]

    /// nil when `quantization` has no LSQ activation site or the layout has no activation step slots
    /// (a plain BERT layout: the sites then fall back to their calibrated ranges).
    public init?(layout: ParameterLayout, parameters θ: [T], quantization: QuantConfig) {
        guard quantization.activations.values.contains(where: \.learnsStep) else { return nil }
        var s: [String: (index: Int, value: T)] = [:], z = s
        for slot in layout.slots {
            switch slot.scales {
            case .activation(let key)?: s[key] = (slot.offset, θ[slot.offset])
            case .activationZeroPoint(let key)?: z[key] = (slot.offset, θ[slot.offset])
            default: break
            }
        }
        guard !s.isEmpty else { return nil }
        steps = s; zeroPoints = z
        values = Dictionary(uniqueKeysWithValues: (Array(s.values) + Array(z.values)).map { ($0.index, $0.value) })
    }

    /// The step of a site visit.
    public subscript(key: String) -> (index: Int, value: T)? { steps[key] }
    /// The float zero point z_f of an asymmetric site visit, when the layout learns it.
    public func zeroPoint(_ key: String) -> (index: Int, value: T)? { zeroPoints[key] }
    /// The value at a parameter index of a step or zero point (the frozen replay's lookup).
    public func value(at index: Int) -> T? { values[index] }
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
    /// The float zero point of an asymmetric activation site visit.
    public static func activationZeroPointName(_ key: String) -> String { activationPrefix + key + ".zero_point" }
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

    /// x̂, the STE mask and ∂x̂/∂s of the asymmetric LSQ activation quantizer with step s and zero point z
    /// (an integer code); `dZero`, when given, receives ∂x̂/∂z: 0 inside, −s where clamped.
    public static func quantizeActivation<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, step s: T, zero z: T,
                                                         out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>,
                                                         d: UnsafeMutablePointer<T>, dZero: UnsafeMutablePointer<T>? = nil) {
        let top = T(IntegerGrid.unsigned(bits: bits).qmax)
        for i in 0..<n {
            let v = x[i] / s, r = roundEven(v), u = r + z
            if u < 0 { out[i] = -z * s; mask[i] = 0; d[i] = -z }
            else if u > top { out[i] = (top - z) * s; mask[i] = 0; d[i] = top - z }
            else { out[i] = r * s; mask[i] = 1; d[i] = r - v }
            dZero?[i] = mask[i] == 1 ? 0 : -s
        }
    }

    /// The start z_f = −lo/s₀ of a learned zero point, unrounded as the seed stores it, for the calibrated
    /// range [lo, hi] (widened to contain 0) and its start step s₀.
    public static func initialZeroPoint(lo: Double, step s: Double) -> Double { s > 0 ? -min(lo, 0) / s : 0 }

    /// The symmetric activation grid of a calibrated range: signed when it reaches below 0. As an offset
    /// into the unsigned codes 0 … 2^b − 1 (`quantizeActivation`), the signed grid is a zero point of 2^(b−1).
    public static func symmetricActivationGrid(lo: Double, bits: Int) -> (grid: IntegerGrid, zero: Int) {
        lo < 0 ? (.signed(bits: bits), 1 << (bits - 1)) : (.unsigned(bits: bits), 0)
    }

    /// The start step max(|lo|, hi)/Q_P of the symmetric activation quantizer (Q_P of its grid).
    public static func symmetricActivationStep(lo: Double, hi: Double, bits: Int) -> Double {
        max(-min(lo, 0), max(hi, 0)) / Double(symmetricActivationGrid(lo: lo, bits: bits).grid.qp)
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

/// The seed's quantization methods for LSQ's activations (`--qmethod-act`).
public enum LSQActivationMethod: String, Codable, CaseIterable, Sendable {
    /// Learned step and zero point (the seed's W4A8 QAT setting).
    case asymmetricUniform = "asymmetric_uniform"
    /// Learned step, zero point 0.
    case symmetricUniform = "symmetric_uniform"
}

/// LSQ's options, recorded by every LSQ run.
public struct LSQOptions: Codable, Equatable, Sendable {
    public var activationMethod: LSQActivationMethod = .asymmetricUniform
    public init(activationMethod: LSQActivationMethod = .asymmetricUniform) { self.activationMethod = activationMethod }
}

extension QuantConfig {
    /// LSQ W4A8: 4-bit weights with learned steps (every Linear and embedding table), 8-bit activations
    /// at PTQ's sites with learned steps (and zero points when asymmetric), started from ranges
    /// calibrated before training.
    public static func lsq(_ o: LSQOptions) -> QuantConfig {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in WeightSite.allCases { w[s] = .lsq(bits: 4) }
        var a: [ActivationSite: ActivationQuantizer] = [:]
        for s in PTQ.sites { a[s] = o.activationMethod == .asymmetricUniform ? .lsq(bits: 8) : .lsqSymmetric(bits: 8) }
        return QuantConfig(name: "lsq-w4a8" + (o.activationMethod == .asymmetricUniform ? "" : "-sym"), weights: w, activations: a)
    }

    /// LSQ W4A8 with the seed's default, asymmetric activations.
    public static let lsqW4A8 = lsq(LSQOptions())
}
