// Exact references for small problems: materialize an operator column by column so its spectrum
// can be checked against LAPACK, and measure how symmetric an HVP really is (a finite-difference
// or mixed-precision HVP is only approximately symmetric).
import TILinalg

/// The matrix of `op` restricted to `coordinates` (all coordinates when nil), row-major k×k with
/// entry (i, j) = e_{c_i}ᵀ H e_{c_j}. Costs one application per selected coordinate.
public func denseMatrix(of op: some SymmetricOperator, coordinates: [Int]? = nil,
                        progress: ProgressHandler? = nil) throws -> [Double] {
    let n = op.dimension
    let selected = coordinates ?? Array(0..<n)
    let k = selected.count
    var result = [Double](repeating: 0, count: k * k)
    var unit = [Double](repeating: 0, count: n)
    for (j, c) in selected.enumerated() {
        precondition(c >= 0 && c < n, "denseMatrix: coordinate \(c) outside 0..<\(n)")
        unit[c] = 1
        let column = try checkedApply(op, unit, application: j + 1)
        unit[c] = 0
        for (i, r) in selected.enumerated() { result[i * k + j] = column[r] }
        progress?(j + 1, k, "column \(j + 1)/\(k)")
    }
    return result
}

/// The sub-block of a masked operator over its selected coordinates (its domain).
public func denseMatrix<Base>(of op: MaskedOperator<Base>, progress: ProgressHandler? = nil) throws -> [Double] {
    try denseMatrix(of: op.base, coordinates: op.coordinates, progress: progress)
}

/// max |A − Aᵀ| / max |A| for a row-major n×n matrix; 0 for the zero matrix.
public func symmetryError(_ a: [Double], n: Int) -> Double {
    precondition(a.count == n * n, "symmetryError: expected \(n * n) entries, got \(a.count)")
    var asym = 0.0, scale = 0.0
    for i in 0..<n {
        for j in 0..<n {
            scale = max(scale, abs(a[i * n + j]))
            if j > i { asym = max(asym, abs(a[i * n + j] - a[j * n + i])) }
        }
    }
    return scale == 0 ? 0 : asym / scale
}

/// (A + Aᵀ)/2: the symmetric part, to feed a slightly asymmetric measured matrix to dsyev.
public func symmetrized(_ a: [Double], n: Int) -> [Double] {
    precondition(a.count == n * n, "symmetrized: expected \(n * n) entries, got \(a.count)")
    var s = a
    for i in 0..<n {
        for j in (i + 1)..<n {
            let m = 0.5 * (a[i * n + j] + a[j * n + i])
            s[i * n + j] = m
            s[j * n + i] = m
        }
    }
    return s
}
