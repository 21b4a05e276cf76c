// Eigenvalue density by stochastic Lanczos quadrature (Ghorbani et al. 2019; PyHessian's
// "density"). For a unit probe v, vᵀ f(H) v = Σ_i w_i f(θ_i) with Ritz values θ_i and weights
// w_i = (first component of T's i-th eigenvector)², exact for polynomials of degree < 2m.
// With Rademacher v/√n, E[vᵀ f(H) v] = tr f(H)/n, so the weighted nodes average to the spectral
// density; smoothing each node with a Gaussian turns them into a plottable curve.
import Foundation
import TILinalg

public struct SpectralDensityEstimator: Sendable {
    /// Independent probes; PyHessian uses 1. More runs reduce the variance of the weights.
    public var runs: Int
    /// Lanczos steps per run (PyHessian: 100). Capped at the operator's domain dimension.
    public var steps: Int
    /// Grid points of the smoothed density.
    public var bins: Int
    /// Variance of the smoothing Gaussian; nil means PyHessian's 1e-5·max(1, spectral range).
    public var sigmaSquared: Double?

    public init(runs: Int = 1, steps: Int = 100, bins: Int = 10_000, sigmaSquared: Double? = nil) {
        precondition(runs >= 1 && steps >= 1, "SpectralDensityEstimator: runs and steps must be at least 1")
        precondition(bins >= 2, "SpectralDensityEstimator: need at least 2 bins")
        precondition(sigmaSquared.map { $0 > 0 } ?? true, "SpectralDensityEstimator: sigmaSquared must be positive")
        self.runs = runs
        self.steps = steps
        self.bins = bins
        self.sigmaSquared = sigmaSquared
    }

    public func estimate(_ op: some SymmetricOperator, rng: inout SeededRandom,
                         progress: ProgressHandler? = nil) throws -> DensityResult {
        let lanczos = Lanczos(steps: steps)
        let perRun = min(steps, op.domainDimension)
        var nodes: [[Double]] = [], weights: [[Double]] = []
        var hvps = 0
        for run in 0..<runs {
            let probe = rademacherProbe(for: op, rng: &rng)
            let offset = run * perRun
            let decomposition = try lanczos.decompose(op, start: probe) { done, _, message in
                progress?(offset + done, runs * perRun, "SLQ run \(run + 1)/\(runs): \(message)")
            }
            hvps += decomposition.hvpCount
            let ritz = try decomposition.ritz()
            nodes.append(ritz.values)
            // dstev's vectors are unit length, so the weights sum to 1 up to rounding; renormalize
            // so each run is exactly a probability measure.
            let total = ritz.weights.reduce(0, +)
            weights.append(ritz.weights.map { $0 / total })
        }
        let curve = smoothedDensity(nodes: nodes, weights: weights)
        return DensityResult(nodes: nodes, weights: weights, grid: curve.grid, density: curve.density,
                             sigmaSquared: curve.sigmaSquared, dimension: op.domainDimension, hvpCount: hvps)
    }

    /// Run-averaged sum of weighted Gaussians on an even grid covering all nodes plus a margin of
    /// max(0.01, 5σ) so the tails are not cut off, normalized to integrate to 1 (trapezoid rule).
    /// The grid spacing is range/bins: with a very wide spectrum and the default σ² the Gaussians
    /// may be narrower than the spacing; raise `bins` or set `sigmaSquared` then.
    func smoothedDensity(nodes: [[Double]], weights: [[Double]]) -> (grid: [Double], density: [Double], sigmaSquared: Double) {
        let all = nodes.joined()
        let lo0 = all.min() ?? 0, hi0 = all.max() ?? 0
        let variance = sigmaSquared ?? 1e-5 * max(1, hi0 - lo0)
        let margin = max(0.01, 5 * variance.squareRoot())
        let lo = lo0 - margin, hi = hi0 + margin
        let step = (hi - lo) / Double(bins - 1)
        let grid = (0..<bins).map { lo + Double($0) * step }

        var density = [Double](repeating: 0, count: bins)
        let normalizer = 1 / (2 * Double.pi * variance).squareRoot()
        let cutoff = 12 * variance.squareRoot()   // exp(-72) is far below Double's resolution of the peak
        for (ns, ws) in zip(nodes, weights) {
            for (node, w) in zip(ns, ws) where w > 0 {
                let first = max(0, Int(((node - cutoff - lo) / step).rounded(.down)))
                let last = min(bins - 1, Int(((node + cutoff - lo) / step).rounded(.up)))
                guard first <= last else { continue }
                for g in first...last {
                    let d = grid[g] - node
                    density[g] += w * normalizer * Foundation.exp(-d * d / (2 * variance))
                }
            }
        }
        let integral = trapezoid(density, step: step)
        if integral > 0 { for g in density.indices { density[g] /= integral } }
        return (grid, density, variance)
    }
}

/// ∫ over an even grid by the trapezoid rule.
func trapezoid(_ y: [Double], step: Double) -> Double {
    guard y.count >= 2 else { return 0 }
    var s = 0.5 * (y[0] + y[y.count - 1])
    for i in 1..<(y.count - 1) { s += y[i] }
    return s * step
}
