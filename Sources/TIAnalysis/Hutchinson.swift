// Hutchinson's estimator tr(H) ≈ mean of zᵀHz over Rademacher probes z. Rademacher probes give
// the smallest variance among i.i.d. probe distributions (2·Σ_{i≠j} H_ij²; the diagonal adds none).
// Unlike a "relative change of the running mean" rule, which can stop after two lucky probes, the
// stop rule here uses the standard error and never fires before `minProbes`.
import TILinalg

public struct HutchinsonTrace: Sendable {
    /// Probes always drawn before the stop rule is consulted (the stderr itself needs enough samples).
    public var minProbes: Int
    public var maxProbes: Int
    /// Stop once stderr / |mean| < tolerance.
    public var tolerance: Double

    public init(minProbes: Int = 30, maxProbes: Int = 100, tolerance: Double = 1e-3) {
        precondition(minProbes >= 3, "HutchinsonTrace: minProbes must be at least 3")
        precondition(maxProbes >= minProbes, "HutchinsonTrace: maxProbes must be at least minProbes")
        precondition(tolerance >= 0, "HutchinsonTrace: tolerance must be non-negative")
        self.minProbes = minProbes
        self.maxProbes = maxProbes
        self.tolerance = tolerance
    }

    /// Estimates the trace of `op` over its domain (for a MaskedOperator: the selected sub-block).
    public func estimate(_ op: some SymmetricOperator, rng: inout SeededRandom,
                         progress: ProgressHandler? = nil) throws -> TraceResult {
        var stats = RunningMean()
        var converged = false
        while stats.count < maxProbes {
            let z = rademacherProbe(for: op, rng: &rng)
            let hz = try checkedApply(op, z, application: stats.count + 1)
            stats.add(BLAS.dot(z, hz))
            progress?(stats.count, maxProbes,
                      "Hutchinson probe \(stats.count)/\(maxProbes), trace ≈ \(stats.mean) ± \(stats.standardError)")
            // `<=` so an exactly known trace (zero variance, e.g. a diagonal H) stops at minProbes.
            if stats.count >= minProbes && stats.standardError <= tolerance * abs(stats.mean) {
                converged = true
                break
            }
        }
        return TraceResult(mean: stats.mean, stderr: stats.standardError, probes: stats.count,
                           converged: converged, dimension: op.domainDimension)
    }
}

/// Welford's running mean and variance: one pass, no catastrophic cancellation.
struct RunningMean {
    private(set) var count = 0
    private(set) var mean = 0.0
    private var sumSquaredDeviations = 0.0

    mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        sumSquaredDeviations += delta * (x - mean)
    }

    /// Sample standard deviation (n − 1 denominator) / √n; infinite with fewer than 2 samples.
    var standardError: Double {
        guard count >= 2 else { return .infinity }
        let variance = max(0, sumSquaredDeviations / Double(count - 1))
        return (variance / Double(count)).squareRoot()
    }
}
