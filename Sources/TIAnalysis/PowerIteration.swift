// Top-k eigenvalues by power iteration with deflation, the method PyHessian uses for the top
// Hessian eigenvalues. Plain power iteration converges to the eigenvalue of largest MAGNITUDE,
// so the values found are the k largest |λ| with their signs: a strongly negative curvature
// direction shows up here as a negative value. For the largest and smallest ALGEBRAIC
// eigenvalues (e.g. "is there negative curvature at all?") use `lanczosExtremes`.
import TILinalg

public struct PowerIteration: Sendable {
    /// How many eigenvalues (k).
    public var count: Int
    /// Stop when both the relative change of λ between iterations and the relative residual
    /// ‖Hv − λv‖/|λ| fall below this. With the PyHessian default 1e-3 the eigenvalue is
    /// typically accurate to well under 1 %: its error shrinks like the residual squared.
    public var tolerance: Double
    /// Cap per eigenvalue; an eigenvalue that hits it is reported with converged = false.
    public var maxIterations: Int

    public init(count: Int = 1, tolerance: Double = 1e-3, maxIterations: Int = 100) {
        precondition(count >= 1, "PowerIteration: count must be at least 1")
        precondition(tolerance > 0, "PowerIteration: tolerance must be positive")
        precondition(maxIterations >= 2, "PowerIteration: need at least 2 iterations to measure a change")
        self.count = count
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    /// The `count` eigenpairs of largest |λ|, in the order found (non-increasing |λ| when converged).
    /// Each eigenvalue starts from a fresh standard-normal vector drawn from `rng`; every iterate is
    /// re-orthogonalized against the eigenvectors already found, so later ones converge to the next
    /// |λ| instead of the first one again.
    public func topEigenpairs(of op: some SymmetricOperator, rng: inout SeededRandom,
                              progress: ProgressHandler? = nil) throws -> Eigenpairs {
        precondition(count <= op.domainDimension,
                     "PowerIteration: asked for \(count) eigenvalues of a \(op.domainDimension)-dimensional operator")
        let budget = count * maxIterations
        var hvps = 0
        var vectors: [[Double]] = []
        var values: [Double] = [], residuals: [Double] = [], iterations: [Int] = [], converged: [Bool] = []

        for index in 0..<count {
            var v = try randomNormalStart(for: op, rng: &rng)
            var lambda = 0.0, previous: Double? = nil
            var residual = Double.infinity
            var done = false
            var used = 0
            var r = [Double](repeating: 0, count: op.dimension)

            while used < maxIterations && !done {
                orthogonalize(&v, against: vectors)
                guard normalize(&v) else { throw AnalysisError.emptyDomain }
                var hv = try checkedApply(op, v, application: hvps + 1)
                hvps += 1
                used += 1
                lambda = BLAS.dot(v, hv)

                // Explicit residual: ‖Hv‖² − λ² would cancel catastrophically near convergence.
                r.withUnsafeMutableBufferPointer { rp in hv.withUnsafeBufferPointer { hp in
                    for i in 0..<rp.count { rp[i] = hp[i] }
                } }
                BLAS.axpy(-lambda, v, &r)
                let residualNorm = BLAS.norm(r)
                residual = lambda == 0 ? (residualNorm == 0 ? 0 : .infinity) : residualNorm / abs(lambda)

                if residualNorm == 0 {
                    done = true   // v is an exact eigenvector (including H v = 0)
                } else if let p = previous {
                    let change = abs(lambda - p) / max(abs(p), Double.leastNormalMagnitude)
                    done = change < tolerance && residual < tolerance
                }
                previous = lambda
                progress?(hvps, budget,
                          "power iteration: eigenvalue \(index + 1)/\(count), iteration \(used), λ = \(lambda), residual = \(residual)")
                if !done {
                    orthogonalize(&hv, against: vectors)
                    guard normalize(&hv) else { done = true; break }
                    v = hv
                }
            }
            vectors.append(v)
            values.append(lambda)
            residuals.append(residual)
            iterations.append(used)
            converged.append(done && residual < tolerance)
        }
        let result = EigenResult(values: values, residuals: residuals, iterations: iterations,
                                 converged: converged, hvpCount: hvps)
        return Eigenpairs(result: result, vectors: vectors)
    }
}
