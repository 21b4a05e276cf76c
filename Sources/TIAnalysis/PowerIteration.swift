// Top-k eigenvalues by power iteration with deflation, the method PyHessian uses for the top
// Hessian eigenvalues. Plain power iteration converges to the eigenvalue of largest MAGNITUDE,
// so the values found are the k largest |λ| with their signs: a strongly negative curvature
// direction shows up here as a negative value. For the largest and smallest ALGEBRAIC
// eigenvalues (e.g. "is there negative curvature at all?") use `lanczosExtremes`.
// Two eigenvalues of equal magnitude and opposite sign (±λ) make the iteration oscillate and
// it is then reported as not converged; Lanczos has no such problem.
import TILinalg

public struct PowerIteration: Sendable {
    /// How many eigenvalues (k).
    public var count: Int
    /// Stop when both the relative change of λ between iterations and the relative residual
    /// ‖Hv − λv‖/|λ| (of the operator deflated by the eigenvectors already found) fall below this.
    /// With the PyHessian default 1e-3 the eigenvalue is typically accurate to well under 1 %:
    /// its error shrinks like the residual squared.
    public var tolerance: Double
    /// Cap per eigenvalue; a deflation pass that hits it is reported with converged = false.
    public var maxIterations: Int

    public init(count: Int = 1, tolerance: Double = 1e-3, maxIterations: Int = 100) {
        precondition(count >= 1, "PowerIteration: count must be at least 1")
        precondition(tolerance > 0, "PowerIteration: tolerance must be positive")
        precondition(maxIterations >= 2, "PowerIteration: need at least 2 iterations to measure a change")
        self.count = count
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    /// The `count` eigenpairs of largest |λ|, ordered by decreasing |λ|.
    /// Each eigenvalue starts from a fresh standard-normal vector drawn from `rng`; every iterate is
    /// re-orthogonalized against the eigenvectors already found, so later ones converge to the next
    /// |λ| instead of the first one again. A final Rayleigh–Ritz step over the k vectors refines
    /// them for free. `iterations[i]`/`converged[i]` describe the i-th deflation pass; `residuals`
    /// are the true relative residuals of the returned pairs.
    /// `start` (projected into the domain) replaces the first eigenvalue's random vector and draws
    /// nothing from `rng` for it: warm-started from the eigenvector of a nearby operator (the Hessian
    /// a few training steps earlier) the iteration needs far fewer products. A start that vanishes in
    /// the domain falls back to a random one.
    public func topEigenpairs(of op: some SymmetricOperator, rng: inout SeededRandom, start: [Double]? = nil,
                              progress: ProgressHandler? = nil) throws -> Eigenpairs {
        precondition(count <= op.domainDimension,
                     "PowerIteration: asked for \(count) eigenvalues of a \(op.domainDimension)-dimensional operator")
        let budget = count * maxIterations
        var hvps = 0
        var vectors: [[Double]] = [], products: [[Double]] = []
        var iterations: [Int] = [], converged: [Bool] = []

        for index in 0..<count {
            var v = try index == 0 ? warmStart(start, for: op) ?? randomNormalStart(for: op, rng: &rng)
                                   : randomNormalStart(for: op, rng: &rng)
            var measured: (v: [Double], hv: [Double])? = nil
            var previous: Double? = nil
            var done = false
            var used = 0
            var r = [Double](repeating: 0, count: op.dimension)

            while used < maxIterations && !done {
                orthogonalize(&v, against: vectors)
                // A zero vector here means H maps the iterate into span(V): no further direction to find.
                guard normalize(&v) else {
                    if measured == nil { throw AnalysisError.emptyDomain }
                    break
                }
                let hv = try checkedApply(op, v, application: hvps + 1)
                hvps += 1
                used += 1
                let lambda = BLAS.dot(v, hv)

                // Residual of the deflated operator (I − VVᵀ)H restricted to V⊥. The plain residual
                // cannot fall below the error left in the earlier eigenvectors, so demanding it here
                // would stall later eigenvalues; the final Rayleigh–Ritz step removes that error.
                // Explicit vector, since ‖Hv‖² − λ² would cancel catastrophically near convergence.
                r.withUnsafeMutableBufferPointer { rp in hv.withUnsafeBufferPointer { hp in
                    for i in 0..<rp.count { rp[i] = hp[i] }
                } }
                BLAS.axpy(-lambda, v, &r)
                let residualNorm = orthogonalize(&r, against: vectors)
                let residual = residualNorm == 0 ? 0 : residualNorm / abs(lambda)

                if residualNorm == 0 {
                    done = true   // v is an exact eigenvector (including H v = 0)
                } else if let p = previous {
                    let change = abs(lambda - p) / max(abs(p), Double.leastNormalMagnitude)
                    done = change < tolerance && residual < tolerance
                }
                previous = lambda
                measured = (v, hv)
                progress?(hvps, budget,
                          "power iteration: eigenvalue \(index + 1)/\(count), iteration \(used), λ = \(lambda), residual = \(residual)")
                if !done { v = hv }   // orthogonalized and normalized at the top of the loop
            }
            vectors.append(measured!.v)
            products.append(measured!.hv)
            iterations.append(used)
            converged.append(done)
        }
        // The reported values come from the operator's most accurate products (see refinedProduct),
        // and their error estimate from the same Rayleigh–Ritz step on the lower-order products.
        var lowerOrder: [[Double]]? = nil
        for i in vectors.indices {
            if let p = try op.refinedProduct(vectors[i]) {
                try checkProduct(p.product, dimension: op.dimension, application: hvps + 1)
                products[i] = p.product
                if let l = p.lowerOrder { lowerOrder = (lowerOrder ?? products); lowerOrder![i] = l }
                hvps += p.applications
            }
        }
        let (values, residuals, refined) = try rayleighRitz(vectors: vectors, products: products)
        let lowerValues = try lowerOrder.map { try rayleighRitz(vectors: vectors, products: $0).0 }
        let result = EigenResult(values: values, residuals: residuals, iterations: iterations,
                                 converged: converged, hvpCount: hvps, errors: refinementErrors(values, lowerOrderValues: lowerValues))
        return Eigenpairs(result: result, vectors: refined)
    }

    /// The given start in the operator's domain, normalized; nil when there is none or it vanishes there.
    func warmStart(_ start: [Double]?, for op: some SymmetricOperator) -> [Double]? {
        guard var v = start else { return nil }
        precondition(v.count == op.dimension, "PowerIteration: start vector has \(v.count) entries, operator \(op.dimension)")
        op.projectToDomain(&v)
        return normalize(&v) ? v : nil
    }

    /// Rayleigh–Ritz on span(V) with the stored products HV: no extra operator applications.
    /// Deflation leaves each later eigenvector with the (small) error of the earlier ones mixed in;
    /// diagonalizing VᵀHV undoes that mixing. Returns values ordered by decreasing |λ|, true relative
    /// residuals ‖Hy − λy‖/|λ|, and the rotated vectors.
    func rayleighRitz(vectors: [[Double]], products: [[Double]]) throws -> ([Double], [Double], [[Double]]) {
        let k = vectors.count
        var g = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { g[i * k + j] = BLAS.dot(vectors[i], products[j]) } }
        let (theta, s) = try BLAS.symmetricEigen(symmetrized(g, n: k), n: k)
        let order = theta.indices.sorted { abs(theta[$0]) > abs(theta[$1]) }
        let scale = theta.map(abs).max() ?? 0
        var values: [Double] = [], residuals: [Double] = [], rotated: [[Double]] = []
        for a in order {
            var y = [Double](repeating: 0, count: vectors[0].count)
            var hy = y
            for i in 0..<k {
                BLAS.axpy(s[a * k + i], vectors[i], &y)
                BLAS.axpy(s[a * k + i], products[i], &hy)
            }
            BLAS.axpy(-theta[a], y, &hy)
            let rn = BLAS.norm(hy)
            values.append(theta[a])
            residuals.append(relativeResidual(rn, eigenvalue: theta[a], spectralScale: scale))
            rotated.append(y)
        }
        return (values, residuals, rotated)
    }
}
