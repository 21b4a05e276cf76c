// AdaRound (Nagel et al. 2020; semantics only) for 4-bit per-tensor weights, no activation
// quantization. Rounding each weight up or down is learned per layer so that the layer's output on
// calibration inputs X stays close to full precision:
//   W̃ = s·clamp(⌊W/s⌋ + h(V), −Q, Q),  h(V) = clip(σ(V)·(ζ − γ) + γ, 0, 1),  ζ = 1.1, γ = −0.1
//   loss = ‖(W̃ − W)Xᵀ‖²/rows + λ·Σ(1 − |2h(V) − 1|^β)
// The reconstruction term only needs the Gram matrix G = XᵀX: ‖ΔXᵀ‖² = tr(Δ G Δᵀ). The regularizer
// is off for the first `warmup` share of iterations, then β decays linearly from βstart to βend so h
// is pushed to 0 or 1; the result is hard rounding (h = 1 where V ≥ 0). The grid is the symmetric
// one of `WeightQuantizer.uniform` (levels −Q…Q, Q = 2^(b−1) − 1) with the MSE-optimal step, so
// re-quantizing the result with that quantizer is the identity (the mode's STE for Hessians).
import Foundation
import TILinalg
import TIQuant
import TIModel

public struct AdaRoundOptions: Codable, Equatable, Sendable {
    public var bits = 4
    public var iterations = 500
    public var learningRate = 1e-2
    public var lambda = 0.01
    public var betaStart = 20.0
    public var betaEnd = 2.0
    public var warmup = 0.2
    public init() {}
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

    /// Learned rounding of one Linear weight [rows·cols entries, `cols` inputs] given the Gram matrix
    /// of `rows` calibration inputs. Returns the rounded weight and its step.
    public static func roundLayer(_ w: [Double], cols: Int, gram: [Double], rows: Int, options o: AdaRoundOptions) -> (weight: [Double], step: Double) {
        let n = w.count, out = n / cols
        let s = step(w, bits: o.bits), (qlo, qhi) = IntegerGrid.symmetric(bits: o.bits).codeBounds(as: Double.self)
        let floorW = w.map { ($0 / s).rounded(.down) }
        // Start at h(V) = the fractional part: W̃ = W before clamping.
        var v = zip(w, floorW).map { wi, fi -> Double in
            let p = min(max(((wi / s - fi) - gamma) / (zeta - gamma), 1e-6), 1 - 1e-6)
            return log(p / (1 - p))
        }
        var m = [Double](repeating: 0, count: n), m2 = m
        let b1 = 0.9, b2 = 0.999, eps = 1e-8
        let warm = Int(o.warmup * Double(o.iterations))
        var delta = [Double](repeating: 0, count: n), gradQ = delta
        let invRows = 1 / Double(max(rows, 1))
        for t in 0..<o.iterations {
            let h = v.map(rectifiedSigmoid)
            for i in 0..<n { delta[i] = s * min(max(floorW[i] + h[i], qlo), qhi) - w[i] }
            // ∂rec/∂W̃ = 2·Δ·G/rows.
            delta.withUnsafeBufferPointer { d in gram.withUnsafeBufferPointer { g in gradQ.withUnsafeMutableBufferPointer { gq in
                Double.gemm(transA: false, transB: false, m: out, n: cols, k: cols, alpha: 2 * invRows, a: d.baseAddress!, lda: cols,
                            b: g.baseAddress!, ldb: cols, beta: 0, c: gq.baseAddress!, ldc: cols)
            } } }
            let regOn = t >= warm
            let beta = o.betaEnd + (o.betaStart - o.betaEnd) * max(0, 1 - Double(t - warm) / Double(max(o.iterations - warm, 1)))
            for i in 0..<n {
                let sig = 1 / (1 + exp(-v[i]))
                let raw = sig * (zeta - gamma) + gamma
                guard raw > 0 && raw < 1 else { continue }  // h clipped: no gradient
                let inside = floorW[i] + h[i] >= qlo && floorW[i] + h[i] <= qhi
                var dh = inside ? gradQ[i] * s : 0
                if regOn {
                    let u = 2 * h[i] - 1
                    dh += -o.lambda * beta * pow(abs(u), beta - 1) * (u < 0 ? -1 : 1) * 2
                }
                let g = dh * sig * (1 - sig) * (zeta - gamma)
                m[i] = b1 * m[i] + (1 - b1) * g
                m2[i] = b2 * m2[i] + (1 - b2) * g * g
                let mh = m[i] / (1 - pow(b1, Double(t + 1))), vh = m2[i] / (1 - pow(b2, Double(t + 1)))
                v[i] -= o.learningRate * mh / (vh.squareRoot() + eps)
            }
        }
        let rounded = (0..<n).map { i in s * min(max(floorW[i] + (v[i] >= 0 ? 1 : 0), qlo), qhi) }
        return (rounded, s)
    }

    /// Accumulates XᵀX over [rows, cols] inputs.
    static func addGram<T: BLASScalar>(_ x: Buffer<T>, rows: Int, cols: Int, into g: inout [Double]) {
        let xd = (0..<(rows * cols)).map { Double(x.p[$0]) }
        xd.withUnsafeBufferPointer { a in g.withUnsafeMutableBufferPointer { c in
            Double.gemm(transA: true, transB: false, m: cols, n: cols, k: rows, alpha: 1, a: a.baseAddress!, lda: cols,
                        b: a.baseAddress!, ldb: cols, beta: 1, c: c.baseAddress!, ldc: cols)
        } }
    }

    /// AdaRounds every Linear weight of a BERT (Q, K, V, O, FFN1, FFN2, pooler, classifier) on the
    /// full-precision inputs each layer sees on the calibration batches; embeddings, biases and
    /// LayerNorms stay as they are.
    public static func apply(model: BertModel, parameters θ: [Float], batches: [Batch], options: AdaRoundOptions) -> [Float] {
        let c = model.config, h = c.hiddenSize, f = c.intermediateSize
        // Gram matrices of each Linear's input, keyed by weight name.
        var grams: [String: (gram: [Double], rows: Int)] = [:]
        func add(_ name: String, _ x: Buffer<Float>, rows: Int, cols: Int) {
            var e = grams[name] ?? ([Double](repeating: 0, count: cols * cols), 0)
            addGram(x, rows: rows, cols: cols, into: &e.gram)
            e.rows += rows
            grams[name] = e
        }
        for b in batches {
            let tr = model.forward(effective: θ, batch: b, options: ForwardOptions<Float>())
            let n = tr.dims.rows
            for l in 0..<c.numLayers {
                let p = BertNames.layer(l), a = tr.layers[l].attention, ffn = tr.layers[l].feedForward
                for m in ["query", "key", "value"] { add("\(p).attention.self.\(m).weight", a.input, rows: n, cols: h) }
                add("\(p).attention.output.dense.weight", a.context, rows: n, cols: h)
                add("\(p).intermediate.dense.weight", a.blockOutput, rows: n, cols: h)
                add("\(p).output.dense.weight", ffn.activated, rows: n, cols: f)
            }
            add("bert.pooler.dense.weight", tr.head.cls, rows: b.size, cols: h)
            add("classifier.weight", tr.head.pooled, rows: b.size, cols: h)
        }
        var out = θ
        // Layers are independent given full-precision inputs: two workers.
        let names = grams.keys.sorted()
        let results = Parallel.map(names.count) { i -> [Double] in
            let slot = model.layout.slot(names[i]), g = grams[names[i]]!
            return roundLayer(θ[slot.range].map(Double.init), cols: slot.rowLength, gram: g.gram, rows: g.rows, options: options).weight
        }
        for (name, r) in zip(names, results) {
            let slot = model.layout.slot(name)
            for (i, v) in zip(slot.range, r) { out[i] = Float(v) }
        }
        return out
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
