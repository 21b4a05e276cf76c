// Which tensor gets which quantizer. The model asks this table at every site; new schemes add
// entries here without touching the model code.
import TILinalg

/// Weight tensors that can be quantized, by role in the network. The model's layout tags each such
/// tensor with its site when it names it (`ParameterSlot.site`, BertLayout.swift).
public enum WeightSite: String, CaseIterable, Codable, Sendable {
    case query, key, value, attentionOutput, intermediate, output, pooler
    case wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, classifier
}

extension ParameterSlot {
    /// The weight site the layout gave this tensor; nil for tensors never quantized (biases, LayerNorm, steps).
    public var weightSite: WeightSite? { site.flatMap(WeightSite.init(rawValue:)) }
}

/// Activation tensors that can be quantized inside the forward pass.
public enum ActivationSite: String, CaseIterable, Codable, Sendable {
    case attentionInput     // input of the Q, K and V projections
    case query, key         // Q and K before QKᵀ
    case probs, value       // attention probabilities and V before probs·V
    case contextInput       // input of the attention output projection O
    case intermediateInput  // input of FFN1
    case outputInput        // input of FFN2
    case poolerInput        // [CLS] hidden state entering the pooler
    // Sites below are used only by the configs that name them (Q8BERT, PTQ); TernaryBERT's set is fixed.
    case classifierInput    // pooled (dropped-out) state entering the classifier
    // Linear outputs and residual sums (PTQ W8A8). LayerNorm outputs need no site of their own: each
    // one is the input of the next Linear (attentionInput, intermediateInput, poolerInput).
    case attentionOutputProjection  // O projection output, before dropout and residual
    case attentionResidual          // O output + layer input, entering the attention LayerNorm
    case intermediateOutput         // FFN1 output, before GELU
    case ffnOutput                  // FFN2 output before the residual: the seed's `h`
    case ffnResidual                // FFN2 output + FFN input, entering the LayerNorm: the seed's `y`
    case poolerOutput               // pooler Linear output before tanh: `P`
    case logits                     // classifier output: `C`
    // Sites of the seed's W8A8 that sit between layers rather than at a Linear (PTQ W8A8). Quantizing a
    // LayerNorm output quantizes the block output itself, so the residual branch carries it too, as in
    // the seed, where the next Linear's input quantizer only reaches that Linear.
    case embeddingTokenTypeSum      // word + token-type embeddings (the seed sums these first)
    case embeddingSum               // … + position embeddings, entering the embedding LayerNorm
    case embeddingNorm              // embedding LayerNorm output (hidden state 0)
    case scores                     // QKᵀ before the 1/√d scale and the padding mask
    case attentionNorm              // attention LayerNorm output (FFN input): the seed's `x`
    case outputNorm                 // FFN LayerNorm output (layer output)
    case pooled                     // pooler tanh output: the seed's `P`

    /// The sites TernaryBERT / TI quantize (kept explicit so that adding sites never changes those modes).
    public static let ternaryBERTSites: [ActivationSite] = [
        .attentionInput, .query, .key, .probs, .value, .contextInput, .intermediateInput, .outputInput, .poolerInput]
    /// The input of every Linear layer (Q8BERT's activation quantizers).
    public static let linearInputs: [ActivationSite] = [
        .attentionInput, .contextInput, .intermediateInput, .outputInput, .poolerInput, .classifierInput]
    /// The output of every Linear layer, where Intel's `requantize_output` quantizes it again: Q, K, V,
    /// O, FFN1 (before GELU), FFN2 (before the residual), the pooler (before tanh) and the classifier.
    public static let linearOutputs: [ActivationSite] = [
        .query, .key, .value, .attentionOutputProjection, .intermediateOutput, .ffnOutput, .poolerOutput, .logits]
}

public struct QuantConfig: Codable, Equatable, Sendable {
    public var name: String
    public var weights: [WeightSite: WeightQuantizer]
    public var activations: [ActivationSite: ActivationQuantizer]
    /// Frozen ranges of the stored-range quantizers (EMA or calibration); nil for dynamic schemes.
    public var ranges: ActivationRangeState?
    /// Per-tensor weight precisions replacing `weights` for the named tensors (WeightPrecision.swift);
    /// nil for a scheme quantizing every site alike, so existing configs encode as before.
    public var tensorPrecisions: [String: WeightPrecision]? = nil

    public init(name: String, weights: [WeightSite: WeightQuantizer] = [:], activations: [ActivationSite: ActivationQuantizer] = [:],
                ranges: ActivationRangeState? = nil) {
        self.name = name; self.weights = weights; self.activations = activations; self.ranges = ranges
    }

    /// This scheme with the given stored ranges (nil: none yet, or a dynamic scheme).
    public func with(ranges: ActivationRangeState?) -> QuantConfig {
        var q = self
        q.ranges = ranges
        return q
    }

    /// True when the activation quantizers need a range state (the training loop then tracks one).
    public var usesStoredRanges: Bool { activations.values.contains { $0.usesStoredRange } }

    /// Q8BERT as Intel's default (`requantize_output` on).
    public static let q8bert = q8bert(requantizeOutput: true)

    /// Q8BERT: 8-bit symmetric per-tensor weights (scale from max|W|) for every Linear, classifier
    /// included, and the three embedding tables; 8-bit symmetric activations with EMA-tracked ranges
    /// at every Linear input and, with `requantizeOutput`, at every Linear output too.
    public static func q8bert(requantizeOutput: Bool) -> QuantConfig {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in WeightSite.allCases { w[s] = .uniform(bits: 8, symmetric: true, perRow: false) }
        var a: [ActivationSite: ActivationQuantizer] = [:]
        let sites = ActivationSite.linearInputs + (requantizeOutput ? ActivationSite.linearOutputs : [])
        for s in sites { a[s] = .tracked(bits: 8) }
        return QuantConfig(name: requantizeOutput ? "q8bert-w8a8" : "q8bert-w8a8-inputs", weights: w, activations: a)
    }

    public var isFullPrecision: Bool { weights.isEmpty && activations.isEmpty }

    public static let fullPrecision = QuantConfig(name: "fp32")

    /// TernaryBERT / TI: TWN ternary weights (per row for word embeddings), 8-bit symmetric
    /// activations clipped at 2.5 at every quantized Linear input and inside attention.
    public static let ternaryW8A8: QuantConfig = {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in [WeightSite.query, .key, .value, .attentionOutput, .intermediate, .output, .pooler] {
            w[s] = .ternary(clip: 2.5, perRow: false)
        }
        w[.wordEmbeddings] = .ternary(clip: 2.5, perRow: true)
        var a: [ActivationSite: ActivationQuantizer] = [:]
        for s in ActivationSite.ternaryBERTSites { a[s] = .symmetric(bits: 8, clip: 2.5) }
        return QuantConfig(name: "ternary-w8a8", weights: w, activations: a)
    }()

    /// n-bit uniform weights and activations at the same sites as TernaryBERT.
    public static func uniform(weightBits: Int, activationBits: Int) -> QuantConfig {
        var c = ternaryW8A8
        c.name = "uniform-w\(weightBits)a\(activationBits)"
        for s in c.weights.keys { c.weights[s] = .uniform(bits: weightBits, symmetric: true, perRow: s == .wordEmbeddings) }
        for s in c.activations.keys { c.activations[s] = .symmetric(bits: activationBits, clip: 2.5) }
        return c
    }

    /// A readable summary for metadata.
    public var summary: [String: String] {
        var d: [String: String] = [:]
        for (k, v) in weights { d["w." + k.rawValue] = v.label }
        for (k, v) in activations { d["a." + k.rawValue] = v.label }
        for (k, v) in tensorPrecisions ?? [:] { d["w:" + k] = v.description }
        return d
    }
}

/// Latent weights → effective (quantized) weights θ̂ and the STE mask over the whole flat buffer.
public struct QuantizedParameters<T: BLASScalar> {
    public var effective: [T]
    /// nil when no tensor is quantized (the Jacobian dθ̂/dθ is the identity).
    public var mask: [T]?
    /// LSQ: how each learned step moves its weights (empty for every other quantizer).
    public var scaleTerms: [LSQScaleTerm<T>] = []

    public init(latent θ: [T], layout: ParameterLayout, config: QuantConfig) {
        var eff = θ
        var mask: [T]? = nil
        var terms: [LSQScaleTerm<T>] = []
        if !config.weights.isEmpty {
            var m = [T](repeating: 1, count: θ.count)
            θ.withUnsafeBufferPointer { src in
                eff.withUnsafeMutableBufferPointer { dst in
                    m.withUnsafeMutableBufferPointer { mp in
                        var perTensor: [(ParameterSlot, WeightQuantizer)] = []
                        for slot in layout.slots {
                            guard let q = config.weightQuantizer(for: slot) else { continue }
                            if case .lsq(let bits) = q, let step = layout.scale(of: .slot(slot.name)) {
                                var d = [T](repeating: 0, count: slot.count)
                                d.withUnsafeMutableBufferPointer { dp in
                                    LSQ.quantize(src.baseAddress! + slot.offset, count: slot.count, bits: bits, step: src[step.offset],
                                                 out: dst.baseAddress! + slot.offset, mask: mp.baseAddress! + slot.offset, d: dp.baseAddress!)
                                }
                                terms.append(LSQScaleTerm(scaleIndex: step.offset, range: slot.range, d: d))
                                continue
                            }
                            perTensor.append((slot, q))
                        }
                        // Each tensor is quantized on its own (its scale from its own values): across threads, same bits.
                        Parallel.forEach(perTensor.count, costPerItem: Double(θ.count / max(1, perTensor.count)),
                                         minimumWork: Double(1 << 18)) { i in
                            let (slot, q) = perTensor[i]
                            q.quantize(src.baseAddress! + slot.offset, rows: slot.rows, cols: slot.rowLength,
                                       out: dst.baseAddress! + slot.offset, mask: mp.baseAddress! + slot.offset)
                        }
                    }
                }
            }
            mask = m
        }
        effective = eff
        self.mask = mask
        scaleTerms = terms
    }

    /// Applies the STE Jacobian to a gradient with respect to θ̂, giving the latent gradient.
    public func latentGradient(_ g: inout [T]) {
        guard let mask else { return }
        // LSQ steps first, from the unmasked gradient: ∂L/∂s = Σ ∂L/∂Ŵ_i·∂Ŵ_i/∂s (clamped entries included).
        let stepGradients = scaleTerms.map { t -> T in
            var s: T = 0
            for (i, d) in zip(t.range, t.d) { s += g[i] * d }
            return s
        }
        for i in g.indices { g[i] *= mask[i] }
        for (t, s) in zip(scaleTerms, stepGradients) { g[t.scaleIndex] += s }
    }
}
