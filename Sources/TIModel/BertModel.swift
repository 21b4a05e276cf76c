// The whole BertForSequenceClassification forward and backward over an effective parameter
// vector θ̂ (quantized weights already applied). Backward accepts gradient seeds at the internal
// points the distillation losses read, so every loss is "seeds in, gradient out".
import TILinalg
import TIQuant

public struct ForwardOptions<T: BLASScalar> {
    public var quantization: QuantConfig
    public var frozen: FrozenPoint<T>?
    public var intervention: InterventionPoint?
    /// The layers `intervention` applies in (nil: every layer); the others run the plain forward.
    public var interventionLayers: [Int]?
    /// The teacher's trace on the same batch; required when `intervention` is set.
    public var teacher: ForwardTrace<T>?
    /// Seed of the dropout stream; nil means evaluation mode (no dropout).
    public var dropoutSeed: UInt64?
    /// Training only: the EMA range state stored-range quantizers update (Q8BERT).
    public var rangeTracker: ActivationRangeTracker?
    /// Analysis only: records every activation site (quant-report).
    public var inspector: ActivationInspector?
    /// False for loss-only evaluation (landscapes): STE masks and GELU's cached Φ, which only the
    /// backward pass reads, are not kept. The trace's forward values are the same.
    public var keepsBackwardState = true
    /// Data-parallel training: the batch is one rank's share, and the quantizers' ranges are the global batch's.
    public var batchStatistics: GlobalBatchStatistics?
    /// Inference of an int8 model: the Linear layers that run in integer arithmetic (Float only).
    public var integerLinears: IntegerLinears?

    public init(quantization: QuantConfig = .fullPrecision, frozen: FrozenPoint<T>? = nil,
                intervention: InterventionPoint? = nil, teacher: ForwardTrace<T>? = nil, dropoutSeed: UInt64? = nil,
                rangeTracker: ActivationRangeTracker? = nil, inspector: ActivationInspector? = nil) {
        self.quantization = quantization; self.frozen = frozen; self.intervention = intervention
        self.teacher = teacher; self.dropoutSeed = dropoutSeed; self.rangeTracker = rangeTracker; self.inspector = inspector
    }
}

extension ForwardOptions {
    /// The intervention of layer l: `intervention` where `interventionLayers` includes l.
    public func intervention(atLayer l: Int) -> InterventionPoint? {
        guard let layers = interventionLayers else { return intervention }
        return layers.contains(l) ? intervention : nil
    }
}

public struct LayerTrace<T: BLASScalar> {
    public var attention: AttentionTrace<T>
    public var feedForward: FeedForwardTrace<T>
}

public struct ForwardTrace<T: BLASScalar> {
    public let dims: Dims
    public var embeddings: EmbeddingTrace<T>
    public var layers: [LayerTrace<T>]
    public var head: HeadTrace<T>
    public var logits: Buffer<T> { head.logits }
    public var lastHidden: Buffer<T> { layers.last?.feedForward.output ?? embeddings.output }
}

/// Gradient seeds: dLogits always; the rest from the distillation terms when present.
public struct TraceSeeds<T: BLASScalar> {
    public var logits: Buffer<T>
    public var embedding: Buffer<T>?
    public var scores: [Buffer<T>?]
    public var attentionBlock: [Buffer<T>?]
    public var layerOutput: [Buffer<T>?]

    public init(logits: Buffer<T>, layers: Int) {
        self.logits = logits
        scores = Array(repeating: nil, count: layers)
        attentionBlock = Array(repeating: nil, count: layers)
        layerOutput = Array(repeating: nil, count: layers)
    }
}

public struct BertModel: Sendable {
    public let config: BertConfig
    public let layout: ParameterLayout
    public let offsets: BertParameterOffsets

    public init(config: BertConfig) {
        self.config = config
        layout = config.parameterLayout
        offsets = BertParameterOffsets(config: config, layout: layout)
    }

    /// BERT with extra parameters appended after its own (LSQ steps): the model never reads them, the
    /// quantizers do; BERT's offsets are unchanged.
    public init(config: BertConfig, appending extra: [(name: String, shape: [Int], role: ParameterRole, scales: ScaleTarget?)]) {
        self.config = config
        var t = config.parameterLayout
        for e in extra { t.append(e.name, shape: e.shape, role: e.role, scales: e.scales) }
        layout = t
        offsets = BertParameterOffsets(config: config, layout: t)
    }

    public func forward<T: BLASScalar>(effective θ: [T], batch: Batch, options: ForwardOptions<T>) -> ForwardTrace<T> {
        precondition(θ.count == layout.count, "forward: parameter vector has \(θ.count) entries, layout \(layout.count)")
        precondition(options.intervention == nil || options.teacher != nil, "forward: an intervention needs the teacher's trace")
        let d = Dims(config, batch)
        let eps = T(config.layerNormEps)
        // Every buffer below comes from this thread's arena; the pass count paces its trimming.
        ActivationArena.current?.beginPass()
        precondition(options.keepsBackwardState || options.frozen == nil, "forward: a frozen point records backward state")
        var quant = ActivationQuantization<T>(config: options.quantization, frozen: options.frozen, tracker: options.rangeTracker,
                                                hiddenWidth: config.hiddenSize, inspector: options.inspector,
                                                steps: LSQActivationSteps(layout: layout, parameters: θ, quantization: options.quantization))
        quant.keepsMasks = options.keepsBackwardState
        quant.statistics = options.batchStatistics
        var rng: SeededRandom? = options.dropoutSeed.map { SeededRandom(seed: $0) }
        return θ.withUnsafeBufferPointer { tp in
            let p = tp.baseAddress!
            quant.integerLinears = options.integerLinears?.bound(to: p)
            let emb: EmbeddingTrace<T> = Embeddings.forward(batch: batch, params: p, offsets: offsets, dims: d, eps: eps,
                                                            quant: quant, dropout: &rng, hiddenDropout: config.hiddenDropout)
            var x = emb.output
            var layers: [LayerTrace<T>] = []
            layers.reserveCapacity(config.numLayers)
            for l in 0..<config.numLayers {
                let subs = options.teacher.map { t in
                    AttentionSubstitutes(probs: t.layers[l].attention.probs, context: t.layers[l].attention.context,
                                         output: t.layers[l].attention.projected)
                }
                let att = SelfAttention.forward(
                    input: x, params: p, offsets: offsets.layers[l], dims: d, attentionMask: batch.attentionMask, eps: eps,
                    quant: quant, intervention: options.intervention(atLayer: l), substitutes: subs, dropout: &rng,
                    hiddenDropout: config.hiddenDropout, attentionDropout: config.attentionDropout)
                let ffn = FeedForward.forward(input: att.blockOutput, params: p, offsets: offsets.layers[l], dims: d, eps: eps,
                                              quant: quant, dropout: &rng, hiddenDropout: config.hiddenDropout,
                                              keepsBackwardState: options.keepsBackwardState)
                layers.append(LayerTrace(attention: att, feedForward: ffn))
                x = ffn.output
            }
            let head = Heads.forward(sequence: x, params: p, offsets: offsets, dims: d, numLabels: config.numLabels,
                                     quant: quant, dropout: &rng, hiddenDropout: config.hiddenDropout)
            return ForwardTrace(dims: d, embeddings: emb, layers: layers, head: head)
        }
    }

    /// Gradient with respect to the effective parameters θ̂, accumulated into `gradient`.
    public func backward<T: BLASScalar>(_ tr: ForwardTrace<T>, seeds: TraceSeeds<T>, batch: Batch,
                                        effective θ: [T], gradient: inout [T]) {
        precondition(gradient.count == layout.count)
        let d = tr.dims, n = d.rows, h = d.hidden
        θ.withUnsafeBufferPointer { tp in
            gradient.withUnsafeMutableBufferPointer { gp in
                let p = tp.baseAddress!, g = gp.baseAddress!
                var dx = Buffer<T>(count: n * h)
                Heads.backward(tr.head, dLogits: seeds.logits, params: p, grads: g, offsets: offsets, dims: d,
                               numLabels: config.numLabels, dSequence: dx)
                for l in stride(from: config.numLayers - 1, through: 0, by: -1) {
                    if let s = seeds.layerOutput[l] { dx.add(s) }
                    let dBlock = Buffer<T>(count: n * h)
                    FeedForward.backward(tr.layers[l].feedForward, dOutput: dx, params: p, grads: g,
                                         offsets: offsets.layers[l], dims: d, dInput: dBlock)
                    if let s = seeds.attentionBlock[l] { dBlock.add(s) }
                    let dIn = Buffer<T>(count: n * h)
                    SelfAttention.backward(tr.layers[l].attention, dBlock: dBlock, dScoresSeed: seeds.scores[l], params: p,
                                           grads: g, offsets: offsets.layers[l], dims: d, dInput: dIn)
                    dx = dIn
                }
                if let s = seeds.embedding { dx.add(s) }
                Embeddings.backward(tr.embeddings, dOutput: dx, batch: batch, params: p, grads: g, offsets: offsets, dims: d)
            }
        }
    }

    /// Seeded initialization as in BERT: normal(0, 0.02) for matrices and embeddings, zero biases,
    /// unit LayerNorm gains.
    public func initialParameters<T: BLASScalar>(seed: UInt64, std: Double = 0.02) -> [T] {
        var rng = SeededRandom(seed: seed).derived("init")
        var θ = [T](repeating: 0, count: layout.count)
        for s in layout.slots {
            switch s.role {
            case .matrix, .embedding: for i in s.range { θ[i] = T(rng.normal() * std) }
            case .layerNormGain, .scale: for i in s.range { θ[i] = 1 }
            case .bias, .layerNormBias: break
            }
        }
        return θ
    }
}
