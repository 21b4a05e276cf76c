// tianalyze's numbers for one objective on the reference fixture, and their distance from the
// peer's, measured per quantity the way the tolerances are stated.
import Foundation
import TICore
import TILinalg

/// Loss, gradient and H·v (both difference schemes) of one ObjectiveSpec at the fixture's student.
struct Measured {
    let terms: LossTerms
    let gradient: [Double]
    let hvForward: [Double]
    let hvCentral: [Double]
    /// Central differences at a tenth of the default step: truncation (O(ε²)) 100× smaller, so what
    /// is left of the distance from autograd is rounding.
    let hvCentralFine: [Double]
    static let fineCentralStep = 1e-6

    init(_ f: ReferenceFixture, spec: ObjectiveSpec) {
        let objective = DatasetObjective<Double>(objective: BertObjective(model: f.model, spec: spec), batches: [f.batch],
                                                 teacher: spec.needsTeacher ? f.teacher : nil)
        let value = objective.evaluate(f.student, gradient: true)
        terms = value.terms
        gradient = value.gradient!
        // Both schemes at their default steps, as `DatasetObjective` (and so every analysis) uses them.
        hvForward = objective.hessianVectorProduct(at: f.student, along: f.v, scheme: .forward)
        hvCentral = objective.hessianVectorProduct(at: f.student, along: f.v, scheme: .central)
        objective.useHVP(difference: .central, relativeStep: Self.fineCentralStep)
        hvCentralFine = objective.hessianVectorProduct(at: f.student, along: f.v)
    }

    /// The term the peer calls `key` (see tbert.kd_terms and Objective.terms).
    func term(_ key: String) -> Double? {
        switch key {
        case "total": return terms.total
        case "task": return terms.task
        case "logits": return terms.logits
        case "hidden": return terms.hidden
        case "scores": return terms.scores
        case "attentionBlocks": return terms.attentionBlocks
        default: return nil
        }
    }
}

enum Distance {
    /// |a − b| / |b|, b the reference.
    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), .leastNormalMagnitude) }

    /// Per tensor: max |Δ| over the tensor divided by the tensor's largest reference entry, or by
    /// 1e-4 of the whole vector's largest entry when that is larger. The floor is for tensors whose
    /// gradient is zero in exact arithmetic, where both sides hold rounding noise: the key biases in
    /// FP (softmax ignores a shift shared by all keys of a query) and, under OI, V and O (no gradient
    /// at all). A spurious value there larger than 1e-14 of the largest entry still fails a 1e-10 bound.
    static func perTensor(_ ours: [Double], _ reference: [String: [Double]], layout: ParameterLayout) -> [(name: String, error: Double)] {
        let floor = 1e-4 * reference.values.reduce(0.0) { max($0, maxAbs($1)) }
        return layout.slots.map { s in
            let ref = reference[s.name]!
            let diff = zip(ours[s.range], ref).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
            return (s.name, diff / max(maxAbs(ref), floor, .leastNormalMagnitude))
        }
    }

    /// ‖a − b‖₂ / ‖b‖₂ over the whole vector.
    static func norm(_ ours: [Double], _ reference: [Double]) -> Double {
        var d = ours
        BLAS.axpy(-1, reference, &d)
        return BLAS.norm(d) / max(BLAS.norm(reference), .leastNormalMagnitude)
    }

    static func maxAbs(_ x: [Double]) -> Double { x.reduce(0.0) { max($0, abs($1)) } }
}
