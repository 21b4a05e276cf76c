// Matrices with known spectra for the analysis tests.
import TIAnalysis
import TILinalg

/// Row-major n×n orthogonal matrix: modified Gram–Schmidt on seeded Gaussian columns.
func randomOrthogonal(_ n: Int, rng: inout SeededRandom) -> [Double] {
    var columns: [[Double]] = (0..<n).map { _ in rng.normalVector(n) }
    for j in 0..<n {
        for i in 0..<j {
            let c = BLAS.dot(columns[i], columns[j])
            BLAS.axpy(-c, columns[i], &columns[j])
        }
        BLAS.scale(&columns[j], by: 1 / BLAS.norm(columns[j]))
    }
    var q = [Double](repeating: 0, count: n * n)
    for j in 0..<n { for i in 0..<n { q[i * n + j] = columns[j][i] } }
    return q
}

/// Q·diag(λ)·Qᵀ (row-major), symmetrized exactly so it is bit-for-bit symmetric.
func matrixWithSpectrum(_ lambdas: [Double], rng: inout SeededRandom) -> [Double] {
    let n = lambdas.count
    let q = randomOrthogonal(n, rng: &rng)
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in i..<n {
            var s = 0.0
            for k in 0..<n { s += q[i * n + k] * lambdas[k] * q[j * n + k] }
            a[i * n + j] = s
            a[j * n + i] = s
        }
    }
    return a
}

/// Symmetric matrix with N(0,1) entries.
func randomSymmetric(_ n: Int, rng: inout SeededRandom) -> [Double] {
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in i..<n { let x = rng.normal(); a[i * n + j] = x; a[j * n + i] = x } }
    return a
}

/// A 50-dimensional test spectrum: three well separated outliers (one negative) above a bulk in
/// [-2, 2], so both power iteration and Lanczos converge fast at the extremes.
let knownSpectrum: [Double] = [10, -7, 4.5] + (0..<47).map { -2 + 4 * Double($0) / 46 }

func trace(_ a: [Double], n: Int) -> Double { (0..<n).reduce(0) { $0 + a[$1 * n + $1] } }
