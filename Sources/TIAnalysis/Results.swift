// What goes into hessian.json. Only summaries are Codable; eigenvectors and Krylov bases can be
// the size of the model and travel separately (see `Eigenpairs`, `LanczosDecomposition`).

/// Eigenvalue estimates, one entry per eigenvalue in every array.
/// `residuals` are relative: ‖Hv − λv‖ / |λ| (Lanczos: the estimate |β_m·s_m| / |θ|).
public struct EigenResult: Codable, Equatable, Sendable {
    public var values: [Double]
    public var residuals: [Double]
    /// Power iteration: iterations spent on each eigenvalue. Lanczos: the Krylov dimension used.
    public var iterations: [Int]
    public var converged: [Bool]
    /// Operator applications (Hessian-vector products) spent on the whole result.
    public var hvpCount: Int
    /// Estimated truncation error of each value from the refined products (see `RefinedProduct`):
    /// nil when the operator's products are exact up to rounding (no refinement to estimate).
    public var errors: [Double]?

    public init(values: [Double], residuals: [Double], iterations: [Int], converged: [Bool], hvpCount: Int,
                errors: [Double]? = nil) {
        precondition(values.count == residuals.count && values.count == iterations.count && values.count == converged.count,
                     "EigenResult: per-eigenvalue arrays differ in length")
        self.values = values
        self.residuals = residuals
        self.iterations = iterations
        self.converged = converged
        self.hvpCount = hvpCount
        self.errors = errors
    }

    public var allConverged: Bool { converged.allSatisfy { $0 } }
}

/// Eigenvalue summary plus the unit eigenvectors (vectors[i] belongs to result.values[i]).
public struct Eigenpairs {
    public var result: EigenResult
    public var vectors: [[Double]]
}

/// Hutchinson estimate of tr(H). `stderr` is the sample standard deviation over probes / √probes.
public struct TraceResult: Codable, Equatable, Sendable {
    public var mean: Double
    public var stderr: Double
    public var probes: Int
    /// True when the stop rule (stderr/|mean| < tol after minProbes) fired before maxProbes.
    public var converged: Bool
    /// Dimension of the operator's domain, so callers can report the trace per parameter.
    public var dimension: Int

    public init(mean: Double, stderr: Double, probes: Int, converged: Bool, dimension: Int) {
        self.mean = mean
        self.stderr = stderr
        self.probes = probes
        self.converged = converged
        self.dimension = dimension
    }
}

/// Stochastic Lanczos quadrature: per run, Gauss quadrature nodes (Ritz values) and weights
/// (squared first components, summing to 1), and the run-averaged Gaussian-smoothed density.
public struct DensityResult: Codable, Equatable, Sendable {
    public var nodes: [[Double]]
    public var weights: [[Double]]
    public var grid: [Double]
    /// Integrates to 1 over `grid` (trapezoid rule).
    public var density: [Double]
    /// Variance of the smoothing Gaussian actually used.
    public var sigmaSquared: Double
    /// Dimension of the operator's domain (the n in "first moment ≈ tr(H)/n").
    public var dimension: Int
    public var hvpCount: Int

    public init(nodes: [[Double]], weights: [[Double]], grid: [Double], density: [Double],
                sigmaSquared: Double, dimension: Int, hvpCount: Int) {
        self.nodes = nodes
        self.weights = weights
        self.grid = grid
        self.density = density
        self.sigmaSquared = sigmaSquared
        self.dimension = dimension
        self.hvpCount = hvpCount
    }

    /// Σ w·θᵖ averaged over runs: an unbiased estimate of tr(Hᵖ)/n when p ≤ 2·steps − 1.
    public func moment(_ p: Int) -> Double {
        precondition(p >= 0, "moment: order must be non-negative")
        guard !nodes.isEmpty else { return 0 }
        var total = 0.0
        for (ns, ws) in zip(nodes, weights) {
            for (x, w) in zip(ns, ws) { total += w * pow(x, p) }
        }
        return total / Double(nodes.count)
    }

    /// n · first moment: an SLQ estimate of tr(H), one probe per run.
    public var traceEstimate: Double { Double(dimension) * moment(1) }
}

@inline(__always) private func pow(_ x: Double, _ p: Int) -> Double {
    var r = 1.0
    for _ in 0..<p { r *= x }
    return r
}

/// One dev example's extreme Hessian eigenvalues (paper Figure 5: histograms of the positive and
/// negative max eigenvalue per example). `smallestEigenvalue` is the most negative eigenvalue when
/// the Hessian is indefinite, and positive when it is positive definite.
public struct PerExampleSpectrumRow: Codable, Equatable, Sendable {
    public var exampleIndex: Int
    /// The gold label as text, so classification and regression (STS-B) tasks share one format.
    public var label: String
    public var largestEigenvalue: Double
    public var smallestEigenvalue: Double
    public var largestResidual: Double
    public var smallestResidual: Double
    public var largestConverged: Bool
    public var smallestConverged: Bool
    public var hvpCount: Int

    public init(exampleIndex: Int, label: String, largestEigenvalue: Double, smallestEigenvalue: Double,
                largestResidual: Double, smallestResidual: Double, largestConverged: Bool,
                smallestConverged: Bool, hvpCount: Int) {
        self.exampleIndex = exampleIndex
        self.label = label
        self.largestEigenvalue = largestEigenvalue
        self.smallestEigenvalue = smallestEigenvalue
        self.largestResidual = largestResidual
        self.smallestResidual = smallestResidual
        self.largestConverged = largestConverged
        self.smallestConverged = smallestConverged
        self.hvpCount = hvpCount
    }
}
