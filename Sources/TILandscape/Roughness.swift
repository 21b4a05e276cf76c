// "Smoother" as numbers: roughness metrics of one sampled surface (2-D grid or 1-D line), pure
// functions of the values on a uniform grid, so a contour plot's impression can be written in a
// table with its spread over direction seeds. Every metric is dimensionless (divided by the
// surface's loss range or its centre loss) so surfaces of different objectives compare, and a flat
// surface gives 0 for each.
import Foundation

public struct RoughnessMetrics: Sendable, Equatable {
    /// Mean |Δf| over interior points, the discrete Laplacian taken in coordinates rescaled so each
    /// axis spans 1 (second differences · width² / spacing²), divided by the loss range.
    public var laplacian: Double
    /// Σ |f(next) − f| along every grid line, averaged over the lines of each axis and summed over
    /// the axes, divided by the loss range (1 for a monotone 1-D curve, 2 for a 1-D bowl).
    public var totalVariation: Double
    /// Interior points strictly below all of their 8 (2-D) or 2 (1-D) neighbours.
    public var localMinima: Int
    /// The largest f(p) − f(centre) over grid points within `radius` of the centre, divided by |f(centre)|.
    public var sharpness: Double
    /// Residual sum of squares after the least-squares quadratic (1, x, y, x², xy, y²), divided by
    /// the total sum of squares about the mean: 0 for any quadratic surface.
    public var residualShare: Double

    public init(laplacian: Double, totalVariation: Double, localMinima: Int, sharpness: Double, residualShare: Double) {
        self.laplacian = laplacian; self.totalVariation = totalVariation; self.localMinima = localMinima
        self.sharpness = sharpness; self.residualShare = residualShare
    }

    public static let names = ["laplacian", "total_variation", "local_minima", "sharpness", "residual_share"]
    public var values: [Double] { [laplacian, totalVariation, Double(localMinima), sharpness, residualShare] }
}

public enum Roughness {
    /// Metrics of `values` on `grid` (point p at `grid.coordinates(of: p)`, rows of constant y).
    /// The centre is the grid point nearest the origin (x = y = 0; t = 0 on an interpolation line);
    /// `radius` defaults to a quarter of the narrower axis's width.
    public static func measure(_ values: [Double], on grid: LandscapeGrid, radius: Double? = nil) -> RoughnessMetrics {
        precondition(values.count == grid.pointCount, "Roughness: \(values.count) values for \(grid.pointCount) grid points")
        let nx = grid.x.num, ny = grid.y?.num ?? 1
        // A diverged point (NaN, ±inf) has no place in a range or a fit: the surface's metrics are
        // NaN, while its minima are still counted among the finite points.
        guard values.allSatisfy(\.isFinite) else {
            return RoughnessMetrics(laplacian: .nan, totalVariation: .nan, localMinima: strictLocalMinima(values, nx: nx, ny: ny),
                                    sharpness: .nan, residualShare: .nan)
        }
        let lo = values.min()!, hi = values.max()!
        let range = hi - lo
        let r = radius ?? 0.25 * min(grid.x.max - grid.x.min, grid.y.map { $0.max - $0.min } ?? .infinity)
        return RoughnessMetrics(
            laplacian: range > 0 ? meanAbsoluteLaplacian(values, grid: grid) / range : 0,
            totalVariation: range > 0 ? totalVariation(values, nx: nx, ny: ny) / range : 0,
            localMinima: strictLocalMinima(values, nx: nx, ny: ny),
            sharpness: sharpness(values, grid: grid, radius: r),
            residualShare: residualShare(values, grid: grid))
    }

    /// Mean |Δf| over interior points in unit-width coordinates (the f″ of a 1-D line).
    static func meanAbsoluteLaplacian(_ f: [Double], grid: LandscapeGrid) -> Double {
        let nx = grid.x.num, ny = grid.y?.num ?? 1
        // f(u) with u = x / width: d²f/du² = width² · d²f/dx², and spacing = width / (n − 1).
        let cx = Double((nx - 1) * (nx - 1)), cy = Double((ny - 1) * (ny - 1))
        let yRange = grid.y == nil ? 0..<1 : 1..<(ny - 1)
        guard nx >= 3, grid.y == nil || ny >= 3 else { return 0 }
        var sum = 0.0, count = 0
        for j in yRange {
            for i in 1..<(nx - 1) {
                let p = j * nx + i
                var lap = cx * (f[p + 1] - 2 * f[p] + f[p - 1])
                if grid.y != nil { lap += cy * (f[p + nx] - 2 * f[p] + f[p - nx]) }
                sum += abs(lap); count += 1
            }
        }
        return sum / Double(count)
    }

    static func totalVariation(_ f: [Double], nx: Int, ny: Int) -> Double {
        var alongX = 0.0, alongY = 0.0
        for j in 0..<ny { for i in 1..<max(nx, 1) { alongX += abs(f[j * nx + i] - f[j * nx + i - 1]) } }
        for i in 0..<nx { for j in 1..<max(ny, 1) { alongY += abs(f[j * nx + i] - f[(j - 1) * nx + i]) } }
        return alongX / Double(ny) + (ny > 1 ? alongY / Double(nx) : 0)
    }

    static func strictLocalMinima(_ f: [Double], nx: Int, ny: Int) -> Int {
        guard nx >= 3, ny == 1 || ny >= 3 else { return 0 }
        let rows = ny == 1 ? 0..<1 : 1..<(ny - 1)
        let dys = ny == 1 ? [0] : [-1, 0, 1]
        var n = 0
        for j in rows {
            for i in 1..<(nx - 1) {
                let v = f[j * nx + i]
                var lowest = v.isFinite
                for dy in dys { for dx in -1...1 where (dx != 0 || dy != 0) && f[(j + dy) * nx + i + dx] <= v { lowest = false } }
                if lowest { n += 1 }
            }
        }
        return n
    }

    /// The grid point nearest the origin.
    static func centre(of grid: LandscapeGrid) -> Int {
        (0..<grid.pointCount).min { a, b in
            let ca = grid.coordinates(of: a), cb = grid.coordinates(of: b)
            return ca.x * ca.x + (ca.y ?? 0) * (ca.y ?? 0) < cb.x * cb.x + (cb.y ?? 0) * (cb.y ?? 0)
        }!
    }

    /// Largest rise within `radius` of the centre over |f(centre)|: 0 when nothing rises, +inf when
    /// the centre loss is 0 and something does.
    static func sharpness(_ f: [Double], grid: LandscapeGrid, radius: Double) -> Double {
        let c = centre(of: grid)
        let o = grid.coordinates(of: c)
        var rise = 0.0
        for p in 0..<grid.pointCount {
            let q = grid.coordinates(of: p)
            let dx = q.x - o.x, dy = (q.y ?? 0) - (o.y ?? 0)
            // A relative slack so points placed exactly on the radius count despite rounding.
            if dx * dx + dy * dy <= radius * radius * (1 + 1e-12) { rise = max(rise, f[p] - f[c]) }
        }
        if rise == 0 { return 0 }
        return f[c] == 0 ? .infinity : rise / abs(f[c])
    }
}
