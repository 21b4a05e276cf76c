// An objective over a whole example set: the sample-weighted mean of per-batch losses (as
// PyHessian's dataloader mode), its gradient, and Hessian-vector products.
//
// The Hessian is taken with respect to the latent full-precision parameters with every quantizer
// as its straight-through estimator and every detached input a constant at the base point θ₀: the
// Hessian of the stand-in loss that double back-propagation computes on the reference PyTorch code
// (see FrozenPoint). H·v is a difference of analytic gradients of that stand-in, with the
// quantization noise, clip masks and detached inputs recorded once at θ₀ and replayed:
//     forward  H·v ≈ (∇L̃(θ₀ + εv) − ∇L̃(θ₀)) / ε          one gradient per product
//     central  H·v ≈ (∇L̃(θ₀ + εv) − ∇L̃(θ₀ − εv)) / 2ε    two gradients per product
// ∇L̃(θ₀) is computed once per base point, as the noise is, so every algorithm that asks for many
// products at one θ₀ (power iteration, Lanczos, Hutchinson) pays one gradient per product with the
// forward scheme. The stand-in is smooth, so the forward error is O(ε)·‖∇³L̃‖ plus rounding
// O(u·‖∇L̃‖/ε) and the central one O(ε²)·‖∇³L̃‖ plus the same rounding. Measured against
// central differences, in Double at the default steps: forward 6e-8 to 7e-7 relative (the tiny
// test model of HessianTests and the default model, FP and ternary KD), central about 1e-9. In
// Float central is about 1e-4 and forward worse, so Float defaults to central (use Double for
// analysis).
//
// Over several ranks (a Communicator) every rank holds the same batches and evaluates its contiguous
// share of them, whole batches, so that per-batch activation ranges are those of one process. Each
// rank adds its batches' weighted losses and gradients in batch order, then the ranks' partial sums
// are added in rank order (same bits on every rank). With one rank this is the single-process sum;
// with R ranks only the grouping of the sum changes, which moves H·v by about u·‖∇L̃‖/ε.
import TILinalg
import TIQuant
import TIModel

public final class DatasetObjective<T: BLASScalar> {
    public let objective: BertObjective<T>
    public let batches: [Batch]
    /// The ranks sharing the work; every rank gets the whole loss, gradient and H·v.
    public let communicator: Communicator
    /// This rank's batches (indices into `batches`).
    public let ownBatches: Range<Int>
    /// Teacher activations of this rank's batches only.
    let teacherTraces: [ForwardTrace<T>?]
    /// λ of the paper's Figure 5 loss: task loss + λ·Σ_tensors ‖θ_tensor‖₂.
    public let normPenalty: Double
    /// Which difference of gradients makes H·v (see the header). Setting it resets `relativeStep`
    /// to that scheme's default for T.
    public var difference: HVPDifference { didSet { relativeStep = difference.defaultRelativeStep(T.self) } }
    /// ε = relativeStep · max(1, ‖θ‖∞) / ‖v‖₂: the step θ ± εv has that Euclidean length.
    public var relativeStep: Double
    public private(set) var hvpCount = 0
    /// Gradient evaluations so far (the cost model above is tested on it).
    public private(set) var gradientCount = 0
    private var frozenAt: [T]? = nil
    private var frozen: [FrozenPoint<T>] = []
    private var baseGradient: [T]? = nil

    public init(objective: BertObjective<T>, batches: [Batch], teacher: [T]?, normPenalty: Double = 0,
                communicator: Communicator = SingleProcess.shared) {
        self.objective = objective
        self.batches = batches
        self.communicator = communicator
        let own = communicator.share(of: batches.count)
        ownBatches = own
        self.normPenalty = normPenalty
        difference = T.self == Double.self ? .forward : .central
        relativeStep = difference.defaultRelativeStep(T.self)
        precondition(!objective.spec.needsTeacher || teacher != nil, "DatasetObjective: this objective needs the teacher")
        teacherTraces = Parallel.map(own.count) { k in teacher.map { objective.teacherTrace(teacher: $0, batch: batches[own.lowerBound + k]) } }
    }

    public var parameterCount: Int { objective.parameterCount }
    public var exampleCount: Int { batches.reduce(0) { $0 + $1.size } }

    /// Loss and (optionally) gradient at θ; `frozen` replays the base point's noise when given.
    public func evaluate(_ θ: [T], gradient: Bool, frozen: [FrozenPoint<T>]? = nil) -> (loss: Double, terms: LossTerms, gradient: [T]?) {
        if gradient { gradientCount += 1 }
        var terms = LossTerms()
        var g: [T]? = gradient ? [T](repeating: 0, count: parameterCount) : nil
        let total = Double(exampleCount)
        let own = ownBatches
        let results = Parallel.map(own.count) { k -> (LossTerms, [T]?) in
            let f = frozen?[k]
            f?.beginReplay()
            let r = objective.evaluate(θ, batch: batches[own.lowerBound + k], teacher: teacherTraces[k], gradient: gradient, frozen: f)
            return (r.terms, r.gradient)
        }
        for (k, (t, gi)) in results.enumerated() {
            let w = Double(batches[own.lowerBound + k].size) / total
            terms.accumulate(t, weight: w)
            if gradient { BLAS.axpy(T(w), gi!, &g!) }
        }
        if communicator.isDistributed { sumOverRanks(&terms, &g) }
        if normPenalty > 0 {
            for s in objective.model.layout.slots {
                let piece = Array(θ[s.range])
                let norm = Double(BLAS.norm(piece))
                terms.total += normPenalty * norm
                if gradient && norm > 0 {
                    let scale = T(normPenalty / norm)
                    for i in s.range { g![i] += scale * θ[i] }
                }
            }
        }
        return (terms.total, terms, g)
    }

    /// The ranks' partial loss terms and gradients added in rank order (same bits on every rank).
    private func sumOverRanks(_ terms: inout LossTerms, _ g: inout [T]?) {
        var t = [terms.total, terms.task, terms.logits, terms.hidden, terms.scores, terms.attentionBlocks]
        communicator.sumInRankOrder(&t)
        (terms.total, terms.task, terms.logits, terms.hidden, terms.scores, terms.attentionBlocks) = (t[0], t[1], t[2], t[3], t[4], t[5])
        guard var gradient = g else { return }
        g = nil  // one owner, so the sum below does not copy the array
        // T is Float or Double (BLASScalar); the bit casts below only run for the matching type.
        if T.self == Double.self {
            var d = unsafeBitCast(gradient, to: [Double].self)
            communicator.sumInRankOrder(&d)
            gradient = unsafeBitCast(d, to: [T].self)
        } else if T.self == Float.self {
            var f = unsafeBitCast(gradient, to: [Float].self)
            communicator.sumInRankOrder(&f)
            gradient = unsafeBitCast(f, to: [T].self)
        } else {
            preconditionFailure("DatasetObjective: no rank sum for \(T.self)")
        }
        g = gradient
    }

    /// Records the frozen noise at θ₀ once (one forward per batch) and reuses it while θ₀ is unchanged.
    func frozenPoints(at θ: [T]) -> [FrozenPoint<T>] {
        if let at = frozenAt, at == θ { return frozen }
        let own = ownBatches
        frozen = Parallel.map(own.count) { k in
            let f = FrozenPoint<T>()
            _ = objective.evaluate(θ, batch: batches[own.lowerBound + k], teacher: teacherTraces[k], gradient: false, frozen: f)
            return f
        }
        frozenAt = θ
        baseGradient = nil
        return frozen
    }

    /// ∇L̃(θ₀) of the replayed stand-in (equal to ∇L(θ₀) up to rounding), once per base point; taken
    /// through the replay so that its rounding matches the shifted gradient it is subtracted from.
    func baseGradient(at θ: [T], frozen f: [FrozenPoint<T>]) -> [T] {
        if let g = baseGradient { return g }
        let g = evaluate(θ, gradient: true, frozen: f).gradient!
        baseGradient = g
        return g
    }

    /// H·v at θ: one gradient evaluation (forward) or two (central) per product. `scheme` overrides
    /// `difference` for this product (with that scheme's default step unless `relativeStep` is given).
    public func hessianVectorProduct(at θ: [T], along v: [T], scheme: HVPDifference? = nil, relativeStep given: Double? = nil) -> [T] {
        let vnorm = BLAS.norm(v)
        if vnorm == 0 { return [T](repeating: 0, count: v.count) }
        let d = scheme ?? difference
        let step = given ?? (d == difference ? relativeStep : d.defaultRelativeStep(T.self))
        let θmax = θ.reduce(T(0)) { max($0, abs($1)) }
        let eps = T(step) * max(1, θmax) / vnorm
        let f = frozenPoints(at: θ)
        var hv = evaluate(Vec.adding(θ, v, scaledBy: eps), gradient: true, frozen: f).gradient!
        switch d {
        case .forward:
            BLAS.axpy(-1, baseGradient(at: θ, frozen: f), &hv)
            BLAS.scale(&hv, by: 1 / eps)
        case .central:
            let gm = evaluate(Vec.adding(θ, v, scaledBy: -eps), gradient: true, frozen: f).gradient!
            BLAS.axpy(-1, gm, &hv)
            BLAS.scale(&hv, by: 1 / (2 * eps))
        }
        hvpCount += 1
        return hv
    }

    /// Applies a command-line choice; nil keeps the default of the scheme and precision.
    public func useHVP(difference d: HVPDifference?, relativeStep step: Double?) {
        if let d { difference = d }
        if let step { relativeStep = step }
    }

    /// Loss of the frozen stand-in at θ (equals the true loss at θ₀); used by independent checks.
    public func standInLoss(at θ0: [T], point θ: [T]) -> Double {
        evaluate(θ, gradient: false, frozen: frozenPoints(at: θ0)).loss
    }
}

/// The finite-difference scheme of `DatasetObjective.hessianVectorProduct`.
public enum HVPDifference: String, Codable, CaseIterable, Sendable {
    case forward, central

    /// The relative step ε that balances truncation against rounding for each scheme and precision
    /// (√u and ∛u in order of magnitude, tuned on the test model; see HessianTests).
    public func defaultRelativeStep<T: BLASScalar>(_: T.Type) -> Double {
        switch (self, T.self == Double.self) {
        case (.forward, true): return 3e-7
        case (.forward, false): return 1e-3
        case (.central, true): return 1e-5
        case (.central, false): return 3e-3
        }
    }
}
