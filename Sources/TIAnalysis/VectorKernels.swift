// Vector kernels shared by the Krylov methods. Vectors can be the size of BERT's parameter
// buffer, so everything goes through BLAS and avoids temporary copies.
import TILinalg

/// Removes from `w` its components along the orthonormal `basis` (classical Gram–Schmidt).
/// A second pass runs only when the first removed most of `w` (Kahan–Parlett "twice is enough"),
/// which restores orthogonality to working precision at roughly half the cost of always
/// doing two passes. Returns the norm of the result.
@discardableResult
func orthogonalize(_ w: inout [Double], against basis: [[Double]]) -> Double {
    var normBefore = BLAS.norm(w)
    guard !basis.isEmpty else { return normBefore }
    for pass in 0..<2 {
        let coefficients = basis.map { BLAS.dot($0, w) }
        for (q, c) in zip(basis, coefficients) where c != 0 { BLAS.axpy(-c, q, &w) }
        let normAfter = BLAS.norm(w)
        if pass == 0 && normAfter > 0.7071 * normBefore { return normAfter }
        normBefore = normAfter
    }
    return normBefore
}

/// Scales `v` to unit length; returns false (leaving `v` unchanged) for a zero vector.
func normalize(_ v: inout [Double]) -> Bool {
    let nrm = BLAS.norm(v)
    guard nrm > 0, nrm.isFinite else { return false }
    BLAS.scale(&v, by: 1 / nrm)
    return true
}

/// A unit vector with standard normal entries in the operator's domain.
func randomNormalStart(for op: some SymmetricOperator, rng: inout SeededRandom) throws -> [Double] {
    var v: [Double] = rng.normalVector(op.dimension)
    op.projectToDomain(&v)
    guard normalize(&v) else { throw AnalysisError.emptyDomain }
    return v
}

/// A ±1 (Rademacher) vector restricted to the operator's domain; not normalized.
func rademacherProbe(for op: some SymmetricOperator, rng: inout SeededRandom) -> [Double] {
    var z = (0..<op.dimension).map { _ in rng.rademacher() }
    op.projectToDomain(&z)
    return z
}

/// ‖r‖ / |λ|, with |λ| floored at 1e-14 of the spectral scale so an eigenvalue at zero does not
/// divide by zero, and capped to a finite value because JSONEncoder rejects ±∞.
func relativeResidual(_ norm: Double, eigenvalue: Double, spectralScale: Double) -> Double {
    if norm == 0 { return 0 }
    let denominator = max(abs(eigenvalue), 1e-14 * spectralScale)
    guard denominator > 0 else { return .greatestFiniteMagnitude }
    return min(norm / denominator, .greatestFiniteMagnitude)
}
