// Lanczos with full reorthogonalization: m operator applications give a tridiagonal T whose
// eigenvalues (Ritz values) approximate both ends of the spectrum at once. This is what reveals
// negative curvature, which power iteration only finds when it dominates in magnitude.
// Full reorthogonalization keeps the basis orthonormal, so no spurious "ghost" copies of converged
// Ritz values appear. The price is storing the basis: steps × dimension Doubles.
import TILinalg

public struct Lanczos: Sendable {
    /// Maximum Krylov dimension m (operator applications).
    public var steps: Int
    /// The recurrence stops early when β falls below this times the largest |α|, β seen: the
    /// Krylov space is then invariant and its Ritz values are exact eigenvalues.
    public var breakdownTolerance: Double

    public init(steps: Int, breakdownTolerance: Double = 1e-10) {
        precondition(steps >= 1, "Lanczos: steps must be at least 1")
        self.steps = steps
        self.breakdownTolerance = breakdownTolerance
    }

    /// Runs the recurrence from `start` (projected into the operator's domain and normalized).
    public func decompose(_ op: some SymmetricOperator, start: [Double],
                          progress: ProgressHandler? = nil) throws -> LanczosDecomposition {
        precondition(start.count == op.dimension, "Lanczos: start vector has \(start.count) entries, operator \(op.dimension)")
        var q = start
        op.projectToDomain(&q)
        guard normalize(&q) else { throw AnalysisError.emptyDomain }

        let m = min(steps, op.domainDimension)
        var basis: [[Double]] = [q]
        var alpha: [Double] = [], beta: [Double] = []
        var scale = 0.0
        var lastBeta = 0.0
        for j in 0..<m {
            var w = try checkedApply(op, basis[j], application: j + 1)
            let a = BLAS.dot(w, basis[j])
            alpha.append(a)
            BLAS.axpy(-a, basis[j], &w)
            if j > 0 { BLAS.axpy(-beta[j - 1], basis[j - 1], &w) }
            let b = orthogonalize(&w, against: basis)
            scale = max(scale, abs(a), b)
            progress?(j + 1, m, "Lanczos step \(j + 1)/\(m), α = \(a), β = \(b)")
            lastBeta = b
            if j == m - 1 || b <= breakdownTolerance * scale { break }
            beta.append(b)
            BLAS.scale(&w, by: 1 / b)
            basis.append(w)
        }
        let brokeDown = lastBeta <= breakdownTolerance * scale
        return LanczosDecomposition(alpha: alpha, beta: beta, residualBeta: brokeDown ? 0 : lastBeta,
                                    basis: basis, hvpCount: alpha.count)
    }

    /// Runs from a standard-normal start drawn from `rng`.
    public func decompose(_ op: some SymmetricOperator, rng: inout SeededRandom,
                          progress: ProgressHandler? = nil) throws -> LanczosDecomposition {
        let start = try randomNormalStart(for: op, rng: &rng)
        return try decompose(op, start: start, progress: progress)
    }
}

/// H·V = V·T + β_m·v_{m+1}·e_mᵀ with T = tridiag(beta, alpha, beta).
public struct LanczosDecomposition {
    /// Diagonal of T (length m, the Krylov dimension actually built).
    public let alpha: [Double]
    /// Off-diagonal of T (length m − 1).
    public let beta: [Double]
    /// ‖residual‖ after the last step; 0 when the Krylov space became invariant.
    public let residualBeta: Double
    /// Orthonormal Lanczos vectors v_1 … v_m.
    public let basis: [[Double]]
    public let hvpCount: Int

    public var krylovDimension: Int { alpha.count }

    /// Eigen-decomposition of T: ascending Ritz values, for each the residual estimate
    /// ‖H·y − θ·y‖ = |β_m·s_m| (s_m: last component of T's eigenvector), the squared first
    /// component (the Gauss quadrature weight) and the eigenvectors of T as rows.
    public func ritz() throws -> RitzValues {
        let (values, vectors) = try BLAS.tridiagonalEigen(diagonal: alpha, offDiagonal: beta)
        let m = alpha.count
        let residuals = (0..<m).map { abs(residualBeta * vectors[$0 * m + m - 1]) }
        let weights = (0..<m).map { vectors[$0 * m] * vectors[$0 * m] }
        return RitzValues(values: values, residualNorms: residuals, weights: weights, vectorsOfT: vectors)
    }

    /// The Ritz vector y = V·s for the i-th ascending Ritz value.
    public func ritzVector(_ ritz: RitzValues, index i: Int) -> [Double] {
        let m = alpha.count
        var y = [Double](repeating: 0, count: basis[0].count)
        for k in 0..<m { BLAS.axpy(ritz.vectorsOfT[i * m + k], basis[k], &y) }
        return y
    }
}

public struct RitzValues: Sendable {
    /// Ascending.
    public let values: [Double]
    /// Absolute residual estimates |β_m·s_m|.
    public let residualNorms: [Double]
    /// Squared first components; they sum to 1.
    public let weights: [Double]
    /// Eigenvectors of T as rows (row-major m×m).
    public let vectorsOfT: [Double]
}

/// The k largest and k smallest algebraic eigenvalues from one Lanczos run.
public struct LanczosExtremes {
    /// Descending: largest first.
    public var largest: EigenResult
    /// Ascending: smallest (most negative) first.
    public var smallest: EigenResult
    /// Ritz vectors matching `largest.values` and `smallest.values`.
    public var largestVectors: [[Double]]
    public var smallestVectors: [[Double]]
    public var decomposition: LanczosDecomposition
}

/// Largest and smallest algebraic eigenvalues of `op` from one Lanczos run of `steps` applications
/// from a seeded normal start. A Ritz value counts as converged when its relative residual
/// estimate |β_m·s_m| / |θ| is below `tol`. Both lists share the run's HVP count and hold
/// min(k, Krylov dimension) values; with a tiny Krylov space they can overlap.
/// A converged flag means the Ritz pair is accurate, not that no eigenvalue lies beyond it: a
/// start vector nearly orthogonal to an extreme eigenvector can delay its discovery.
public func lanczosExtremes(_ op: some SymmetricOperator, k: Int = 1, steps: Int = 100, tol: Double = 1e-3,
                            rng: inout SeededRandom, progress: ProgressHandler? = nil) throws -> LanczosExtremes {
    precondition(k >= 1, "lanczosExtremes: k must be at least 1")
    let decomposition = try Lanczos(steps: steps).decompose(op, rng: &rng, progress: progress)
    let ritz = try decomposition.ritz()
    let m = ritz.values.count
    let spectralScale = ritz.values.map(abs).max() ?? 0

    var refinedCount = 0
    func summary(_ indices: [Int]) throws -> (EigenResult, [[Double]]) {
        var values = indices.map { ritz.values[$0] }
        var residuals = indices.map {
            relativeResidual(ritz.residualNorms[$0], eigenvalue: ritz.values[$0], spectralScale: spectralScale)
        }
        let vectors = indices.map { decomposition.ritzVector(ritz, index: $0) }
        var errors: [Double]? = nil
        // With a dearer accurate product (see refinedProduct): the Ritz vector's Rayleigh quotient
        // and true residual from it replace the tridiagonal's values; the lower-order product's
        // Rayleigh quotient gives the error estimate.
        for (i, y) in vectors.enumerated() {
            guard let p = try op.refinedProduct(y) else { continue }
            refinedCount += p.applications
            let hy = p.product
            try checkProduct(hy, dimension: op.dimension, application: decomposition.hvpCount + refinedCount)
            let yy = BLAS.dot(y, y)
            let lambda = BLAS.dot(y, hy) / yy
            var r = hy
            BLAS.axpy(-lambda, y, &r)
            values[i] = lambda
            residuals[i] = relativeResidual(BLAS.norm(r) / BLAS.norm(y), eigenvalue: lambda, spectralScale: spectralScale)
            if let lower = p.lowerOrder {
                errors = errors ?? Array(repeating: 0, count: indices.count)
                errors![i] = abs(BLAS.dot(y, lower) / yy - lambda)
            }
        }
        let result = EigenResult(values: values, residuals: residuals,
                                 iterations: Array(repeating: m, count: indices.count),
                                 converged: residuals.map { $0 < tol }, hvpCount: decomposition.hvpCount + refinedCount,
                                 errors: errors)
        return (result, vectors)
    }
    let kk = min(k, m)
    let (largest, largestVectors) = try summary((0..<kk).map { m - 1 - $0 })
    let (smallest, smallestVectors) = try summary(Array(0..<kk))
    return LanczosExtremes(largest: largest, smallest: smallest, largestVectors: largestVectors,
                           smallestVectors: smallestVectors, decomposition: decomposition)
}
