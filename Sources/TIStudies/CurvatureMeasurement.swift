// One curvature measurement of an objective at one point, as curvature tracking takes it along a
// QAT run: the top eigenvalue by power iteration (warm-started from the previous measurement's
// eigenvector when there is one), the Lanczos extremes of a short run, and a Hutchinson trace with
// its standard error. All of them use the objective's one-sided products in Double (bias about 1e-7
// relative, see DatasetObjective), not the extrapolated products `hessian` reports its pairs with:
// along a run the power iteration's own tolerance (1e-3) dominates, and the six gradients a refined
// pair costs would be a fifth of a measurement. A measurement costs iterations + Lanczos steps +
// probes gradients of the probe set, plus one forward per probe batch (and the teacher's, for KD).
import Foundation
import TILinalg
import TICore
import TIAnalysis

public struct CurvatureMeasurement: Sendable {
    public var lambdaMax: Double
    /// ‖H·y − λ·y‖ of the returned pair: an eigenvalue of H lies within this distance of `lambdaMax`
    /// (for a symmetric H; the products' own bias, about 1e-7 relative, is not included).
    public var lambdaMaxError: Double
    public var iterations: Int
    public var lanczosMin: Double
    public var lanczosMax: Double
    public var trace: Double
    public var traceStandardError: Double
    /// The top eigenvector (unit length), the next measurement's warm start.
    public var vector: [Double]
    /// True when the power iteration started from a given vector rather than a random one.
    public var warmStarted: Bool
    public var seconds: Double

    /// Measures the Hessian of `objective` at θ. Random draws (a cold start, Lanczos' start vector,
    /// the trace probes) come from `rng` only.
    public static func measure<T: BLASScalar>(_ objective: DatasetObjective<T>, at θ: [T], options o: CurvatureTrackingOptions,
                                              start: [Double]?, rng: inout SeededRandom) throws -> CurvatureMeasurement {
        let began = Date()
        let plain = OneSidedOperator(base: objective.hessianOperator(at: θ))
        let top = try PowerIteration(count: 1, tolerance: o.tolerance, maxIterations: o.maxIterations)
            .topEigenpairs(of: plain, rng: &rng, start: start)
        let lambda = top.result.values[0]
        let ext = try lanczosExtremes(plain, k: 1, steps: min(o.lanczosSteps, plain.dimension), tol: o.tolerance, rng: &rng)
        let trace = try HutchinsonTrace(minProbes: o.traceProbes, maxProbes: o.traceProbes, tolerance: 0).estimate(plain, rng: &rng)
        return CurvatureMeasurement(lambdaMax: lambda, lambdaMaxError: abs(lambda) * top.result.residuals[0], iterations: top.result.iterations[0],
                                    lanczosMin: ext.smallest.values[0], lanczosMax: ext.largest.values[0],
                                    trace: trace.mean, traceStandardError: trace.stderr, vector: top.vectors[0],
                                    warmStarted: start != nil, seconds: Date().timeIntervalSince(began))
    }

    /// The top eigenvalue alone, from a random start (the per-minibatch eigenvalues of Figure 5).
    public static func topEigenvalue<T: BLASScalar>(_ objective: DatasetObjective<T>, at θ: [T], options o: CurvatureTrackingOptions,
                                                    rng: inout SeededRandom) throws -> (value: Double, iterations: Int) {
        let top = try PowerIteration(count: 1, tolerance: o.tolerance, maxIterations: o.maxIterations)
            .topEigenpairs(of: OneSidedOperator(base: objective.hessianOperator(at: θ)), rng: &rng)
        return (top.result.values[0], top.result.iterations[0])
    }
}

/// An operator's cheap products only: algorithms that would refine their reported pairs (Lanczos)
/// report the iteration's own values instead.
struct OneSidedOperator<Base: SymmetricOperator>: SymmetricOperator {
    let base: Base
    var dimension: Int { base.dimension }
    var domainDimension: Int { base.domainDimension }
    func apply(_ v: [Double]) throws -> [Double] { try base.apply(v) }
    func projectToDomain(_ v: inout [Double]) { base.projectToDomain(&v) }
}
