// The best-fitting quadratic of a surface (least squares) and the share of the surface it leaves
// unexplained: a convex bowl or a saddle is "smooth" in the sense that a second-order model of the
// loss describes it, whatever its curvature.
import Foundation

extension Roughness {
    /// Residual sum of squares of the least-squares fit by 1, x, y, x², xy, y² (1, x, x² on a
    /// line) over the total sum of squares about the mean; 0 when the surface is constant.
    static func residualShare(_ f: [Double], grid: LandscapeGrid) -> Double {
        let mean = f.reduce(0, +) / Double(f.count)
        let total = f.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else { return 0 }
        // Coordinates rescaled to about [-1, 1] keep the normal equations well conditioned.
        let sx = max(abs(grid.x.min), abs(grid.x.max)), sy = grid.y.map { max(abs($0.min), abs($0.max)) } ?? 1
        let basis: (Int) -> [Double] = { p in
            let c = grid.coordinates(of: p)
            let x = c.x / sx
            guard let y = c.y.map({ $0 / sy }) else { return [1, x, x * x] }
            return [1, x, y, x * x, x * y, y * y]
        }
        let k = grid.isTwoDimensional ? 6 : 3
        var normal = [Double](repeating: 0, count: k * k), rhs = [Double](repeating: 0, count: k)
        for p in 0..<f.count {
            let b = basis(p)
            for i in 0..<k {
                rhs[i] += b[i] * f[p]
                for j in 0..<k { normal[i * k + j] += b[i] * b[j] }
            }
        }
        // A grid too small to determine every coefficient (e.g. 2 points per axis) leaves the
        // quadratic underdetermined: what it cannot fit is then unexplained by definition.
        guard let coefficients = solve(normal, rhs, k) else { return .nan }
        var residual = 0.0
        for p in 0..<f.count {
            let b = basis(p)
            var q = 0.0
            for i in 0..<k { q += coefficients[i] * b[i] }
            residual += (f[p] - q) * (f[p] - q)
        }
        return min(1, residual / total)
    }

    /// Gaussian elimination with partial pivoting on a small dense system; nil when singular.
    static func solve(_ matrix: [Double], _ rhs: [Double], _ n: Int) -> [Double]? {
        var a = matrix, b = rhs
        let scale = matrix.map(abs).max() ?? 0
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0 * n + col]) < abs(a[$1 * n + col]) }!
            guard abs(a[pivot * n + col]) > 1e-12 * scale else { return nil }
            if pivot != col {
                for j in 0..<n { a.swapAt(col * n + j, pivot * n + j) }
                b.swapAt(col, pivot)
            }
            for row in (col + 1)..<n {
                let factor = a[row * n + col] / a[col * n + col]
                if factor == 0 { continue }
                for j in col..<n { a[row * n + j] -= factor * a[col * n + j] }
                b[row] -= factor * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = b[row]
            for j in (row + 1)..<n { s -= a[row * n + j] * x[j] }
            x[row] = s / a[row * n + row]
        }
        return x
    }
}
