// Learned step size quantization (LSQ, Esser et al. 2020; Qualcomm's "QAT with learned ranges") for
// weights. Each quantized weight tensor W has a step s that is a trainable parameter:
//   Ŵ = s·clamp(round(W/s), −Q_N, Q_P),  Q_N = 2^(b−1), Q_P = 2^(b−1) − 1.
// With the straight-through estimator, ∂Ŵ/∂W = 1 inside the grid and 0 where clamped, and
// ∂Ŵ/∂s = round(W/s) − W/s inside, −Q_N or Q_P where clamped. That is the exact derivative of the
// stand-in Ŵ = mask·W + d·s (d frozen at θ₀), so Hessian-vector products see the steps too.
//
// The steps live in the flat parameter buffer (role `.scale`), so the optimizer, gradient norms,
// Hessians and landscapes all see them: `LSQ.model` appends one [1] slot per quantized weight after
// the BERT layout (BERT offsets unchanged; every other mode keeps the plain BERT layout). LSQ's
// gradient scale 1/√(N·Q_P) is an optimizer preconditioner, not part of the loss: the objective
// returns the true stand-in gradient and the training loop applies the scale (`scaleGradients`).
import TILinalg

/// ∂Ŵ/∂s over one weight tensor: the gradient of the step at `scaleIndex` is Σ_{i∈range} g_i·d_i.
public struct LSQScaleTerm<T: BLASScalar> {
    public let scaleIndex: Int
    public let range: Range<Int>
    public let d: [T]
}

public enum LSQ {
    public static func scaleName(_ weight: String) -> String { "lsq." + weight + ".step" }

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

    /// BERT with one step slot per LSQ-quantized weight appended.
    public static func model(config: BertConfig, quantization: QuantConfig) -> BertModel {
        let extra = quantizedSlots(config.parameterLayout, quantization).map { (name: scaleName($0.0.name), shape: [1], role: ParameterRole.scale) }
        return BertModel(config: config, appending: extra)
    }

    /// BERT parameters extended with initial steps: the MSE-optimal symmetric range over Q_P.
    public static func initialParameters<T: BLASScalar>(bert θ: [T], model: BertModel, quantization: QuantConfig) -> [T] {
        var full = θ + [T](repeating: 1, count: model.layout.count - θ.count)
        θ.withUnsafeBufferPointer { p in
            for (slot, bits) in quantizedSlots(model.layout, quantization) {
                let r = WeightQuantizer.mseSymmetricRange(p.baseAddress! + slot.offset, count: slot.count, bits: bits, golden: true)
                full[model.layout.slot(scaleName(slot.name)).offset] = T(max(r, 1e-8) / Double(levels(bits: bits).qp))
            }
        }
        return full
    }

    /// Multiplies each step's gradient by its LSQ gradient scale (training only).
    public static func scaleGradients<T: BLASScalar>(_ g: inout [T], model: BertModel, quantization: QuantConfig) {
        for (slot, bits) in quantizedSlots(model.layout, quantization) {
            g[model.layout.slot(scaleName(slot.name)).offset] *= T(gradientScale(count: slot.count, bits: bits))
        }
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
    /// activations at PTQ's sites with ranges calibrated once before training and then fixed
    /// (activation steps are not learned).
    public static let lsqW4A8: QuantConfig = {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in WeightSite.allCases { w[s] = .lsq(bits: 4) }
        var a: [ActivationSite: ActivationQuantizer] = [:]
        for s in PTQ.sites { a[s] = .calibrated(bits: 8) }
        return QuantConfig(name: "lsq-w4a8", weights: w, activations: a)
    }()
}
