// The one thing analysis sees: loss and gradient of a chosen objective over the flat latent
// parameter vector θ for a batch. Quantization, intervention and distillation are configured
// here; the model code stays ignorant of losses.
import TILinalg
import TIQuant
import TIModel

public enum LossKind: String, Codable, Sendable {
    case task          // cross-entropy (or MSE for regression) against labels
    case distillation  // TernaryBERT KD: logits + hidden states + scores + attention blocks
}

public struct ObjectiveSpec: Codable, Equatable, Sendable {
    public var quantization: QuantConfig
    public var loss: LossKind
    /// Adds the ground-truth task loss to the distillation terms.
    public var includeTaskLoss: Bool
    public var intervention: InterventionPoint?
    /// The layers `intervention` applies in; nil is every layer (and keeps the encoding of older specs).
    public var interventionLayers: [Int]?
    /// Weights of the distillation terms; nil is every term with weight 1 (and keeps the encoding of
    /// specs from before the weights existed).
    public var distillationTerms: DistillationTerms?

    public init(quantization: QuantConfig, loss: LossKind, includeTaskLoss: Bool = false, intervention: InterventionPoint? = nil,
                distillationTerms: DistillationTerms? = nil) {
        self.quantization = quantization; self.loss = loss; self.includeTaskLoss = includeTaskLoss; self.intervention = intervention
        self.distillationTerms = distillationTerms
    }

    public var needsTeacher: Bool { loss == .distillation || intervention != nil }
}

/// Each term of the loss as it enters the total (distillation terms times their weight); `total` is their sum.
public struct LossTerms: Codable, Equatable, Sendable {
    public var total = 0.0
    public var task = 0.0
    public var logits = 0.0
    public var hidden = 0.0
    public var scores = 0.0
    public var attentionBlocks = 0.0

    public init() {}

    mutating func accumulate(_ o: LossTerms, weight w: Double) {
        total += w * o.total; task += w * o.task; logits += w * o.logits
        hidden += w * o.hidden; scores += w * o.scores; attentionBlocks += w * o.attentionBlocks
    }
}

public struct ObjectiveResult<T: BLASScalar> {
    public var loss: T
    public var terms: LossTerms
    /// Gradient with respect to the latent θ (STE through every quantizer); nil when not asked for.
    public var gradient: [T]?
    public var trace: ForwardTrace<T>
    public var logits: [T] { trace.logits.array }
}

public struct BertObjective<T: BLASScalar> {
    public let model: BertModel
    public var spec: ObjectiveSpec
    /// Training only: the EMA range state of stored-range activation quantizers (Q8BERT), updated by
    /// every student forward. Kept out of `spec`, which describes the loss, not mutable state.
    public var rangeTracker: ActivationRangeTracker? = nil
    /// Data-parallel training: batches are this rank's share, the student's quantizer ranges the global batch's.
    public var batchStatistics: GlobalBatchStatistics? = nil

    public init(model: BertModel, spec: ObjectiveSpec) {
        self.model = model; self.spec = spec
    }

    public var parameterCount: Int { model.layout.count }

    /// The teacher's forward on a batch: full precision, evaluation mode. Compute once, reuse.
    public func teacherTrace(teacher θ: [T], batch: Batch) -> ForwardTrace<T> {
        model.forward(effective: θ, batch: batch, options: ForwardOptions())
    }

    /// θ̂ and its STE mask, recorded into or replayed from `frozen` when given.
    public func effectiveParameters(_ θ: [T], frozen: FrozenPoint<T>?) -> QuantizedParameters<T> {
        if let f = frozen, f.phase == .replaying, let w = f.weights {
            var q = QuantizedParameters<T>(latent: θ, layout: model.layout, config: .fullPrecision)
            q.effective.withUnsafeMutableBufferPointer { e in
                w.mask.withUnsafeBufferPointer { mp in
                    θ.withUnsafeBufferPointer { xp in
                        w.offset.withUnsafeBufferPointer { op in
                            Parallel.rows(θ.count, width: 1, minimumRows: 1 << 16) { r in  // elementwise: same bits on any split
                                T.maskedAffine(mask: mp.baseAddress! + r.lowerBound, x: xp.baseAddress! + r.lowerBound,
                                               offset: op.baseAddress! + r.lowerBound, count: r.count, out: e.baseAddress! + r.lowerBound)
                            }
                        }
                    }
                }
            }
            for t in f.weightScaleTerms { for (i, d) in zip(t.range, t.d) { q.effective[i] += d * θ[t.scaleIndex] } }
            q.mask = w.mask
            q.scaleTerms = f.weightScaleTerms
            return q
        }
        let q = QuantizedParameters<T>(latent: θ, layout: model.layout, config: spec.quantization)
        if let f = frozen, let m = q.mask {
            var offset = q.effective
            for i in θ.indices { offset[i] -= m[i] * θ[i] }
            for t in q.scaleTerms { for (i, d) in zip(t.range, t.d) { offset[i] -= d * θ[t.scaleIndex] } }
            f.weights = (offset, m)
            f.weightScaleTerms = q.scaleTerms
        }
        return q
    }

    public func evaluate(_ θ: [T], batch: Batch, teacher: ForwardTrace<T>?, gradient wantGradient: Bool,
                         frozen: FrozenPoint<T>? = nil, dropoutSeed: UInt64? = nil) -> ObjectiveResult<T> {
        precondition(!spec.needsTeacher || teacher != nil, "objective \(spec.loss) needs the teacher's trace")
        let (q, tr) = studentForward(θ, batch: batch, teacher: teacher, frozen: frozen, dropoutSeed: dropoutSeed)
        return finish(q, tr, batch: batch, teacher: teacher, gradient: wantGradient)
    }

    /// Without an intervention the student's forward does not need the teacher, so a trainer can
    /// run the teacher's forward at the same time and call `finish` with both.
    public func studentForward(_ θ: [T], batch: Batch, teacher: ForwardTrace<T>?, frozen: FrozenPoint<T>? = nil,
                               dropoutSeed: UInt64? = nil) -> (QuantizedParameters<T>, ForwardTrace<T>) {
        precondition(spec.intervention == nil || teacher != nil, "an intervention needs the teacher's trace")
        let q = effectiveParameters(θ, frozen: frozen)
        var options = ForwardOptions<T>(quantization: spec.quantization, frozen: frozen, intervention: spec.intervention,
                                        teacher: spec.intervention != nil ? teacher : nil, dropoutSeed: dropoutSeed,
                                        rangeTracker: rangeTracker)
        options.batchStatistics = batchStatistics
        options.interventionLayers = spec.interventionLayers
        return (q, model.forward(effective: q.effective, batch: batch, options: options))
    }

    public func finish(_ q: QuantizedParameters<T>, _ tr: ForwardTrace<T>, batch: Batch, teacher: ForwardTrace<T>?,
                       gradient wantGradient: Bool) -> ObjectiveResult<T> {
        let (terms, seeds) = lossAndSeeds(tr, batch: batch, teacher: teacher)
        var grad: [T]? = nil
        if wantGradient {
            var g = [T](repeating: 0, count: model.layout.count)
            model.backward(tr, seeds: seeds, batch: batch, effective: q.effective, gradient: &g)
            q.latentGradient(&g)
            grad = g
        }
        return ObjectiveResult(loss: T(terms.total), terms: terms, gradient: grad, trace: tr)
    }

    /// The loss terms of an existing forward trace (e.g. one shared by several objectives), without
    /// the gradient seeds a backward pass would need.
    public func loss(of tr: ForwardTrace<T>, batch: Batch, teacher: ForwardTrace<T>?) -> LossTerms {
        lossAndSeeds(tr, batch: batch, teacher: teacher, seeds: false).0
    }

    func lossAndSeeds(_ tr: ForwardTrace<T>, batch: Batch, teacher: ForwardTrace<T>?, seeds wantSeeds: Bool = true) -> (LossTerms, TraceSeeds<T>) {
        let c = model.config.numLabels
        var terms = LossTerms()
        var seeds = TraceSeeds<T>(logits: Buffer<T>(count: wantSeeds ? batch.size * c : 0), layers: model.config.numLayers)
        if spec.loss == .task || spec.includeTaskLoss {
            let (l, g) = taskLoss(tr.logits, batch: batch)
            terms.task = Double(l)
            if wantSeeds { seeds.logits.add(g) }
        }
        if spec.loss == .distillation, let t = teacher {
            distillationLoss(tr, teacher: t, batch: batch, weights: spec.distillationTerms ?? .all, wantSeeds: wantSeeds,
                             terms: &terms, seeds: &seeds)
        }
        terms.total = terms.task + terms.logits + terms.hidden + terms.scores + terms.attentionBlocks
        return (terms, seeds)
    }

    /// TernaryBERT's distillation terms, each times its weight; a term of weight 0 is not computed
    /// at all (no loss, no seed), one of weight 1 is left unscaled.
    func distillationLoss(_ tr: ForwardTrace<T>, teacher t: ForwardTrace<T>, batch: Batch, weights w: DistillationTerms,
                          wantSeeds: Bool, terms: inout LossTerms, seeds: inout TraceSeeds<T>) {
        if w.logits != 0 {
            let l: T, g: Buffer<T>?
            if model.config.isRegression {
                (l, g) = Losses.meanSquaredError(tr.logits, t.logits, gradient: wantSeeds)
            } else {
                (l, g) = Losses.softCrossEntropy(student: tr.logits, teacher: t.logits, rows: batch.size, classes: model.config.numLabels)
            }
            terms.logits = w.logits * Double(l)
            if wantSeeds, let g { seeds.logits.add(Self.scaled(g, by: w.logits)) }
        }
        if w.hidden != 0 {
            let (le, ge) = Losses.meanSquaredError(tr.embeddings.output, t.embeddings.output, gradient: wantSeeds)
            terms.hidden += Double(le)
            seeds.embedding = ge.map { Self.scaled($0, by: w.hidden) }
        }
        for l in 0..<model.config.numLayers {
            let s = tr.layers[l], tl = t.layers[l]
            if w.hidden != 0 {
                let (lo, go) = Losses.meanSquaredError(s.feedForward.output, tl.feedForward.output, gradient: wantSeeds)
                terms.hidden += Double(lo); seeds.layerOutput[l] = go.map { Self.scaled($0, by: w.hidden) }
            }
            if w.scores != 0 {
                let (ls, gs) = Losses.maskedScoreError(s.attention.scores, tl.attention.scores, keyMask: batch.attentionMask,
                                                       heads: model.config.numHeads, seq: batch.seqLen, gradient: wantSeeds)
                terms.scores += w.scores * Double(ls); seeds.scores[l] = gs.map { Self.scaled($0, by: w.scores) }
            }
            if w.attentionOutput != 0 {
                let (lb, gb) = Losses.meanSquaredError(s.attention.blockOutput, tl.attention.blockOutput, gradient: wantSeeds)
                terms.attentionBlocks += w.attentionOutput * Double(lb); seeds.attentionBlock[l] = gb.map { Self.scaled($0, by: w.attentionOutput) }
            }
        }
        terms.hidden *= w.hidden
    }

    /// `b` times `w` in place (weight 1 leaves it untouched, so that the default loss stays bitwise as before).
    static func scaled(_ b: Buffer<T>, by w: Double) -> Buffer<T> {
        if w != 1 { T.scal(b.count, T(w), b.p) }
        return b
    }

    public func taskLoss(_ logits: Buffer<T>, batch: Batch) -> (T, Buffer<T>) {
        model.config.isRegression
            ? Losses.regression(logits: logits, targets: batch.targets)
            : Losses.crossEntropy(logits: logits, labels: batch.labels, classes: model.config.numLabels)
    }
}
