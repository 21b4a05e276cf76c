// AdaRound (Nagel et al. 2020; semantics as Qualcomm's transformer-quantization runs it) for
// b-bit per-tensor weights, no activation quantization. Rounding each weight up or down is learned
// per layer so that the layer's output stays close to full precision:
//   W̃ = s·clamp(⌊W/s⌋ + h(V), −Q, Q),  h(V) = clip(σ(V)·(ζ − γ) + γ, 0, 1),  ζ = 1.1, γ = −0.1
//   loss = ‖X_q W̃ᵀ − X Wᵀ‖²/rows + λ·Σ(1 − |2h(V) − 1|^β)
// X are the layer's full-precision inputs, X_q its inputs in the network whose earlier layers are
// already rounded (the seed's `--adaround-asym`; X_q = X without it). Only the Gram matrices
// G = X_qᵀX_q and C = XᵀX_q enter: ∂rec/∂W̃ = 2(W̃G − WC)/rows. Iterations count from 1 as the
// seed's: the regularizer is off while t < warmup·T, and β anneals from βstart to βend over the
// rest (cosine by default, as the seed's `decay_type`); the result is hard rounding (h = 1 where
// V ≥ 0). The grid is the symmetric one of `WeightQuantizer.uniform` (levels −Q…Q, Q = 2^(b−1) − 1)
// with the MSE-optimal step, so re-quantizing the result with that quantizer is the identity.
// Unlike the seed, each iteration uses all calibration rows (the exact gradient, no minibatch draw)
// and the activation function after a Linear is not part of its reconstruction.
import Foundation
import TILinalg
import TIQuant
import TIModel

/// How β falls from βstart to βend after the warm-up (the seed's `AdaRoundTempDecayType`).
public enum AdaRoundDecay: String, Codable, Sendable, CaseIterable { case linear, cosine }

/// Defaults: the seed's published W4A32 command (10 000 iterations, asymmetric reconstruction) with
/// its AdaRoundConfig for the rest (lr 1e-3, weight 0.01, annealing (20, 2), cosine, warm-up 0.2).
public struct AdaRoundOptions: Codable, Equatable, Sendable {
    public var bits = 4
    public var iterations = 10_000
    public var learningRate = 1e-3
    public var lambda = 0.01
    public var betaStart = 20.0
    public var betaEnd = 2.0
    public var warmup = 0.2
    public var decay = AdaRoundDecay.cosine
    /// Reconstruct from the inputs of the network with the earlier layers rounded (the seed's --adaround-asym).
    public var asymmetric = true
    public init() {}

    enum CodingKeys: String, CodingKey { case bits, iterations, learningRate, lambda, betaStart, betaEnd, warmup, decay, asymmetric }

    /// Options saved before the schedule and reconstruction were chosen read as they then ran.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bits = try c.decode(Int.self, forKey: .bits)
        iterations = try c.decode(Int.self, forKey: .iterations)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        lambda = try c.decode(Double.self, forKey: .lambda)
        betaStart = try c.decode(Double.self, forKey: .betaStart)
        betaEnd = try c.decode(Double.self, forKey: .betaEnd)
        warmup = try c.decode(Double.self, forKey: .warmup)
        decay = try c.decodeIfPresent(AdaRoundDecay.self, forKey: .decay) ?? .linear
        asymmetric = try c.decodeIfPresent(Bool.self, forKey: .asymmetric) ?? false
    }

    /// The first iteration (1-based) with the rounding regularizer on.
    public var regularizerStart: Double { warmup * Double(iterations) }

    /// β at iteration t (1-based): βstart until the warm-up ends, then annealed to βend at t = T.
    public func beta(iteration t: Int) -> Double {
        let t0 = regularizerStart
        guard Double(t) >= t0 else { return betaStart }
        let rel = (Double(t) - t0) / max(Double(iterations) - t0, 1e-12)
        switch decay {
        case .linear: return betaEnd + (betaStart - betaEnd) * max(0, 1 - rel)
        case .cosine: return betaEnd + 0.5 * (betaStart - betaEnd) * (1 + cos(rel * Double.pi))
        }
    }

    /// The rounding regularizer λ·Σ(1 − |2h − 1|^β) at iteration t (0 during the warm-up).
    public func roundingRegularizer(_ h: [Double], iteration t: Int) -> Double {
        guard Double(t) >= regularizerStart else { return 0 }
        let b = beta(iteration: t)
        return lambda * h.reduce(0) { $0 + (1 - pow(abs(2 * $1 - 1), b)) }
    }
}

/// The inputs one Linear is reconstructed from, as Gram matrices over `rows` calibration rows:
/// G = X_qᵀX_q and C = XᵀX_q (nil: X_q = X, C = G).
public struct AdaRoundInputs {
    public var gram: [Double]
    public var cross: [Double]?
    public var rows: Int
    public init(gram: [Double], cross: [Double]? = nil, rows: Int) { self.gram = gram; self.cross = cross; self.rows = rows }
}

public enum AdaRound {
    static let zeta = 1.1, gamma = -0.1

    public static func rectifiedSigmoid(_ v: Double) -> Double { min(max(1 / (1 + exp(-v)) * (zeta - gamma) + gamma, 0), 1) }

    /// ‖(Ŵ − W)Xᵀ‖²/rows from the Gram matrix G = XᵀX of `rows` input rows. Ŵ, W: [out, in].
    public static func reconstructionError(_ q: [Double], _ w: [Double], cols: Int, gram: [Double], rows: Int) -> Double {
        let out = w.count / cols
        var e = 0.0
        var dg = [Double](repeating: 0, count: cols)
        for r in 0..<out {
            let d = (0..<cols).map { q[r * cols + $0] - w[r * cols + $0] }
            for j in 0..<cols { var s = 0.0; for k in 0..<cols { s += d[k] * gram[k * cols + j] }; dg[j] = s }
            for j in 0..<cols { e += d[j] * dg[j] }
        }
        return e / Double(max(rows, 1))
    }

    /// The step of the grid: MSE-optimal symmetric range over Q.
    public static func step(_ w: [Double], bits: Int) -> Double {
        let r = w.withUnsafeBufferPointer { WeightQuantizer.mseSymmetricRange($0.baseAddress!, count: w.count, bits: bits, golden: true) }
        return IntegerGrid.symmetric(bits: bits).step(range: max(r, 1e-12))
    }

    /// Round-to-nearest on the same grid (the baseline AdaRound improves on).
    public static func nearest(_ w: [Double], step s: Double, bits: Int) -> [Double] {
        let grid = IntegerGrid.symmetric(bits: bits)
        return w.map { s * grid.clamp(($0 / s).rounded(.toNearestOrEven)) }
    }

    /// A × B for row-major [m, k] · [k, n].
    static func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int, alpha: Double = 1) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Double.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: k,
                        b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
        } } }
        return c
    }

    /// Learned rounding of one Linear weight [rows·cols entries, `cols` inputs]. Returns the rounded
    /// weight and its step.
    public static func roundLayer(_ w: [Double], cols: Int, inputs: AdaRoundInputs, options o: AdaRoundOptions) -> (weight: [Double], step: Double) {
        let n = w.count, out = n / cols
        let s = step(w, bits: o.bits), (qlo, qhi) = IntegerGrid.symmetric(bits: o.bits).codeBounds(as: Double.self)
        let floorW = w.map { ($0 / s).rounded(.down) }
        // Start at h(V) = the fractional part: W̃ = W before clamping.
        var v = zip(w, floorW).map { wi, fi -> Double in
            let p = min(max(((wi / s - fi) - gamma) / (zeta - gamma), 1e-6), 1 - 1e-6)
            return log(p / (1 - p))
        }
        var m = [Double](repeating: 0, count: n), m2 = m
        let scale = 2 / Double(max(inputs.rows, 1))
        // The fixed part of ∂rec/∂W̃: −2·W·C/rows.
        let target = product(w, inputs.cross ?? inputs.gram, m: out, k: cols, n: cols, alpha: scale)
        var wq = [Double](repeating: 0, count: n), gradQ = wq
        var sig = [Double](repeating: 0, count: n), h = sig
        // Every weight's update reads only its own entries (and gradQ), so rows split across threads
        // give the same bits on any thread count.
        func rowBlocks(_ body: (Range<Int>) -> Void) {
            Parallel.rows(out, width: cols, minimumRows: 1) { r in body((r.lowerBound * cols)..<(r.upperBound * cols)) }
        }
        for t in stride(from: 1, through: o.iterations, by: 1) {
            // One exp per weight and iteration: h is the clipped rectified sigmoid of the same σ(v).
            sig.withUnsafeMutableBufferPointer { sg in h.withUnsafeMutableBufferPointer { hp in wq.withUnsafeMutableBufferPointer { q in
                let (sg, hp, q) = (sg, hp, q)
                rowBlocks { range in
                    for i in range {
                        sg[i] = 1 / (1 + exp(-v[i]))
                        hp[i] = min(max(sg[i] * (zeta - gamma) + gamma, 0), 1)
                        q[i] = s * min(max(floorW[i] + hp[i], qlo), qhi)
                    }
                }
            } } }
            gradQ = product(wq, inputs.gram, m: out, k: cols, n: cols, alpha: scale)
            let step = AdamRoundingStep(t: t, options: o, s: s, qlo: qlo, qhi: qhi)
            v.withUnsafeMutableBufferPointer { vp in m.withUnsafeMutableBufferPointer { mp in m2.withUnsafeMutableBufferPointer { m2p in
                let (vp, mp, m2p) = (vp, mp, m2p)
                rowBlocks { range in
                    for i in range {
                        step.update(i, v: vp, m: mp, m2: m2p, sig: sig[i], h: h[i], floorW: floorW[i], grad: gradQ[i] - target[i])
                    }
                }
            } } }
        }
        let rounded = (0..<n).map { i in s * min(max(floorW[i] + (v[i] >= 0 ? 1 : 0), qlo), qhi) }
        return (rounded, s)
    }
}

/// One Adam update of one rounding variable at iteration t (the seed's optimizer: Adam, lr fixed).
struct AdamRoundingStep {
    static let b1 = 0.9, b2 = 0.999, eps = 1e-8
    let options: AdaRoundOptions, s: Double, qlo: Double, qhi: Double
    let regularizerOn: Bool, beta: Double, correction1: Double, correction2: Double

    init(t: Int, options o: AdaRoundOptions, s: Double, qlo: Double, qhi: Double) {
        options = o; self.s = s; self.qlo = qlo; self.qhi = qhi
        regularizerOn = Double(t) >= o.regularizerStart
        beta = o.beta(iteration: t)
        correction1 = 1 - pow(Self.b1, Double(t)); correction2 = 1 - pow(Self.b2, Double(t))
    }

    /// v[i] moved by Adam on ∂(reconstruction + λ·regularizer)/∂v; `grad` is ∂rec/∂W̃ at entry i.
    func update(_ i: Int, v: UnsafeMutableBufferPointer<Double>, m: UnsafeMutableBufferPointer<Double>,
                m2: UnsafeMutableBufferPointer<Double>, sig: Double, h: Double, floorW: Double, grad: Double) {
        let (zeta, gamma) = (AdaRound.zeta, AdaRound.gamma)
        let raw = sig * (zeta - gamma) + gamma
        guard raw > 0 && raw < 1 else { return }  // h clipped: no gradient
        let inside = floorW + h >= qlo && floorW + h <= qhi
        var dh = inside ? grad * s : 0
        if regularizerOn {
            let u = 2 * h - 1
            dh += -options.lambda * beta * pow(abs(u), beta - 1) * (u < 0 ? -1 : 1) * 2
        }
        let g = dh * sig * (1 - sig) * (zeta - gamma)
        m[i] = Self.b1 * m[i] + (1 - Self.b1) * g
        m2[i] = Self.b2 * m2[i] + (1 - Self.b2) * g * g
        let mh = m[i] / correction1, vh = m2[i] / correction2
        v[i] -= options.learningRate * mh / (vh.squareRoot() + Self.eps)
    }
}

extension QuantConfig {
    /// The AdaRound student's weights are already on a 4-bit grid; re-quantizing them with the symmetric
    /// uniform quantizer is the identity and gives Hessians and landscapes the usual STE. No activations.
    public static func adaRound(bits: Int = 4) -> QuantConfig {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in [WeightSite.query, .key, .value, .attentionOutput, .intermediate, .output, .pooler, .classifier] {
            w[s] = .uniform(bits: bits, symmetric: true, perRow: false)
        }
        return QuantConfig(name: "adaround-w\(bits)", weights: w)
    }
}
