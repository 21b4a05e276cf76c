// An objective over a whole example set: the sample-weighted mean of per-batch losses (as
// PyHessian's dataloader mode), its gradient, and Hessian-vector products.
//
// The Hessian is taken with respect to the latent full-precision parameters with every quantizer
// as its straight-through estimator and every detached input a constant at the base point θ₀: the
// Hessian of the stand-in loss that double back-propagation computes on the reference PyTorch code
// (see FrozenPoint). H·v is the central difference of analytic gradients of that stand-in,
//     H·v ≈ (∇L̃(θ₀ + εv) − ∇L̃(θ₀ − εv)) / 2ε,
// with the quantization noise, clip masks and detached inputs recorded once at θ₀ and replayed.
// The stand-in is smooth, so the error is O(ε²)·‖∇³L̃‖ plus rounding O(u·‖∇L̃‖/ε): about 1e-9
// relative in Double with the default ε, about 1e-4 in Float (use Double for analysis).
import TILinalg

public final class DatasetObjective<T: BLASScalar> {
    public let objective: BertObjective<T>
    public let batches: [Batch]
    let teacherTraces: [ForwardTrace<T>?]
    /// λ of the paper's Figure 5 loss: task loss + λ·Σ_tensors ‖θ_tensor‖₂.
    public let normPenalty: Double
    /// ε = relativeStep · max(1, ‖θ‖∞) / ‖v‖₂: the step θ ± εv has that Euclidean length.
    public var relativeStep: Double
    public private(set) var hvpCount = 0
    private var frozenAt: [T]? = nil
    private var frozen: [FrozenPoint<T>] = []

    public init(objective: BertObjective<T>, batches: [Batch], teacher: [T]?, normPenalty: Double = 0) {
        self.objective = objective
        self.batches = batches
        self.normPenalty = normPenalty
        relativeStep = T.self == Double.self ? 1e-5 : 3e-3
        precondition(!objective.spec.needsTeacher || teacher != nil, "DatasetObjective: this objective needs the teacher")
        teacherTraces = Parallel.map(batches.count) { i in teacher.map { objective.teacherTrace(teacher: $0, batch: batches[i]) } }
    }

    public var parameterCount: Int { objective.parameterCount }
    public var exampleCount: Int { batches.reduce(0) { $0 + $1.size } }

    /// Loss and (optionally) gradient at θ; `frozen` replays the base point's noise when given.
    public func evaluate(_ θ: [T], gradient: Bool, frozen: [FrozenPoint<T>]? = nil) -> (loss: Double, terms: LossTerms, gradient: [T]?) {
        var terms = LossTerms()
        var g: [T]? = gradient ? [T](repeating: 0, count: parameterCount) : nil
        let total = Double(exampleCount)
        let results = Parallel.map(batches.count) { i -> (LossTerms, [T]?) in
            let f = frozen?[i]
            f?.beginReplay()
            let r = objective.evaluate(θ, batch: batches[i], teacher: teacherTraces[i], gradient: gradient, frozen: f)
            return (r.terms, r.gradient)
        }
        for (i, (t, gi)) in results.enumerated() {
            let w = Double(batches[i].size) / total
            terms.accumulate(t, weight: w)
            if gradient { BLAS.axpy(T(w), gi!, &g!) }
        }
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

    /// Records the frozen noise at θ₀ once (one forward per batch) and reuses it while θ₀ is unchanged.
    func frozenPoints(at θ: [T]) -> [FrozenPoint<T>] {
        if let at = frozenAt, at == θ { return frozen }
        frozen = Parallel.map(batches.count) { i in
            let f = FrozenPoint<T>()
            _ = objective.evaluate(θ, batch: batches[i], teacher: teacherTraces[i], gradient: false, frozen: f)
            return f
        }
        frozenAt = θ
        return frozen
    }

    /// H·v at θ (central difference of stand-in gradients; 2 gradient evaluations).
    public func hessianVectorProduct(at θ: [T], along v: [T]) -> [T] {
        let vnorm = BLAS.norm(v)
        if vnorm == 0 { return [T](repeating: 0, count: v.count) }
        let θmax = θ.reduce(T(0)) { max($0, abs($1)) }
        let eps = T(relativeStep) * max(1, θmax) / vnorm
        let f = frozenPoints(at: θ)
        let gp = evaluate(Vec.adding(θ, v, scaledBy: eps), gradient: true, frozen: f).gradient!
        let gm = evaluate(Vec.adding(θ, v, scaledBy: -eps), gradient: true, frozen: f).gradient!
        hvpCount += 1
        var hv = gp
        BLAS.axpy(-1, gm, &hv)
        BLAS.scale(&hv, by: 1 / (2 * eps))
        return hv
    }

    /// Loss of the frozen stand-in at θ (equals the true loss at θ₀); used by independent checks.
    public func standInLoss(at θ0: [T], point θ: [T]) -> Double {
        evaluate(θ, gradient: false, frozen: frozenPoints(at: θ0)).loss
    }
}
