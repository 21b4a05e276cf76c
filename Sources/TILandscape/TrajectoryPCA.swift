// The plane a training path mostly moves in (Li et al.'s PCA directions): principal directions of
// the saved points centred at the final point. The path has few points and long vectors, so the
// m×m Gram matrix of the m offsets is decomposed exactly (LAPACK) instead of the n×n covariance;
// a direction is the offsets combined by its Gram eigenvector, over √λ, which makes it unit length.
// The offsets are never held whole: they are formed one stretch of parameters at a time from the
// path (a float16 trajectory stays float16 in memory), so a MiniLM-sized path costs its file's size
// plus two directions, not m float64 copies of the model.
import Foundation
import TIData
import TILinalg

public struct TrajectoryPlane: Sendable {
    /// The final point of the path: the plane's origin.
    public let centre: [Float]
    /// Two orthonormal directions, the first the path's main direction.
    public let directions: [[Float]]
    /// Squared length of the offsets along each direction (the Gram eigenvalues).
    public let variances: [Double]
    /// Each direction's share of the offsets' total squared length.
    public let explainedVariance: [Double]
    /// Every point's coordinates on the plane (offset from the centre projected on each direction).
    public let coordinates: [(step: Int, x: Double, y: Double)]
}

/// A path of points that can be read one stretch of coordinates at a time.
public protocol PathPoints {
    var pointCount: Int { get }
    var dimension: Int { get }
    /// Coordinates `range` of point `k` into `out` (range.count values).
    func copy(point k: Int, range: Range<Int>, into out: UnsafeMutablePointer<Double>)
}

/// Points held as float32 vectors (tests, small paths).
public struct DensePath: PathPoints {
    public let points: [[Float]]
    public init(_ points: [[Float]]) { self.points = points }
    public var pointCount: Int { points.count }
    public var dimension: Int { points.first?.count ?? 0 }
    public func copy(point k: Int, range: Range<Int>, into out: UnsafeMutablePointer<Double>) {
        for (o, j) in range.enumerated() { out[o] = Double(points[k][j]) }
    }
}

/// A saved trajectory as a path: θ₀ then every saved entry, decoded from float16 on demand.
extension Trajectory: PathPoints {
    public var pointCount: Int { steps.count + 1 }
    public var dimension: Int { origin.count }
    public func copy(point k: Int, range: Range<Int>, into out: UnsafeMutablePointer<Double>) {
        for (o, j) in range.enumerated() {
            let delta = k == 0 ? 0 : HalfPrecision.float(fromHalf: deltas[k - 1][j])
            out[o] = Double(origin[j] + delta)
        }
    }
}

public enum TrajectoryPCA {
    /// Parameters per stretch: m offsets of this many float64 values at a time.
    public static let defaultStretch = 1 << 16

    /// `points` at `steps` (in path order; the last is the centre).
    public static func plane(points: [[Float]], steps: [Int]) throws -> TrajectoryPlane {
        precondition(points.allSatisfy { $0.count == points.first?.count }, "TrajectoryPCA: points differ in length")
        return try plane(path: DensePath(points), steps: steps)
    }

    /// The plane of a saved trajectory, its steps starting with 0 for θ₀.
    public static func plane(of trajectory: Trajectory) throws -> TrajectoryPlane {
        try plane(path: trajectory, steps: [0] + trajectory.steps)
    }

    /// `stretch`: parameters per pass (any positive value gives the same plane up to summation order).
    public static func plane(path: some PathPoints, steps: [Int], stretch: Int = defaultStretch) throws -> TrajectoryPlane {
        precondition(path.pointCount == steps.count && path.pointCount > 0, "TrajectoryPCA: one step per point")
        let m = path.pointCount - 1
        guard m >= 2 else {
            throw LandscapeError.invalidConfig("a path of \(path.pointCount) point(s) spans no plane; save the trajectory more often (--save-trajectory K with a smaller K)")
        }
        let gram = offsetGram(path, stretch: stretch)
        let (values, vectors) = try BLAS.symmetricEigen(gram, n: m)
        let total = values.reduce(0) { $0 + max($1, 0) }
        let top = [m - 1, m - 2]
        // The second direction must be more than rounding: a straight path has no plane.
        guard total > 0, values[m - 2] > 1e-10 * values[m - 1] else {
            throw LandscapeError.invalidConfig("the path moves along one direction only (second principal variance \(values[m - 2]) of \(total)); no plane to draw")
        }
        let weights = top.map { k in (0..<m).map { vectors[k * m + $0] / values[k].squareRoot() } }
        let (centre, directions) = centreAndDirections(path, weights: weights, stretch: stretch)
        // Offset i along direction k is (G·v_k)_i / √λ_k = √λ_k · v_k[i], exactly the projection.
        let coordinates = steps.indices.map { i -> (step: Int, x: Double, y: Double) in
            guard i < m else { return (steps[i], 0, 0) }
            return (steps[i], values[top[0]].squareRoot() * vectors[top[0] * m + i], values[top[1]].squareRoot() * vectors[top[1] * m + i])
        }
        return TrajectoryPlane(centre: centre, directions: directions,
                               variances: top.map { values[$0] }, explainedVariance: top.map { values[$0] / total },
                               coordinates: coordinates)
    }

    /// The m×m Gram matrix of the offsets (every point but the last, minus the last), summed over stretches.
    static func offsetGram(_ path: some PathPoints, stretch: Int) -> [Double] {
        let m = path.pointCount - 1
        var gram = [Double](repeating: 0, count: m * m)
        forEachStretch(path, stretch) { offsets, _, width, _ in
            for i in 0..<m {
                for j in i..<m {
                    let d = Double.dot(width, offsets.p + i * width, offsets.p + j * width)
                    gram[i * m + j] += d
                    if j != i { gram[j * m + i] += d }
                }
            }
        }
        return gram
    }

    /// The last point (float32) and each direction Σ_i w[i]·offset_i, one stretch at a time.
    static func centreAndDirections(_ path: some PathPoints, weights: [[Double]], stretch: Int) -> ([Float], [[Float]]) {
        let n = path.dimension, m = path.pointCount - 1
        var centre = [Float](repeating: 0, count: n)
        var directions = weights.map { _ in [Float](repeating: 0, count: n) }
        forEachStretch(path, stretch) { offsets, last, width, start in
            for c in 0..<width { centre[start + c] = Float(last.p[c]) }
            for (k, w) in weights.enumerated() {
                var v = [Double](repeating: 0, count: width)
                for i in 0..<m { Double.axpy(width, w[i], offsets.p + i * width, &v) }
                for c in 0..<width { directions[k][start + c] = Float(v[c]) }
            }
        }
        return (centre, directions)
    }

    /// Calls `body` with the m offsets (row-major, `width` per row), the last point, the width and
    /// the first coordinate of each stretch of coordinates.
    static func forEachStretch(_ path: some PathPoints, _ stretch: Int, _ body: (Buffer<Double>, Buffer<Double>, Int, Int) -> Void) {
        precondition(stretch > 0, "TrajectoryPCA: stretch must be positive")
        let n = path.dimension, m = path.pointCount - 1
        let offsets = Buffer<Double>(uninitialized: m * stretch), last = Buffer<Double>(uninitialized: stretch)
        var start = 0
        while start < n {
            let width = min(stretch, n - start), range = start..<(start + width)
            path.copy(point: m, range: range, into: last.p)
            for i in 0..<m {
                let row = offsets.p + i * width
                path.copy(point: i, range: range, into: row)
                for c in 0..<width { row[c] -= last.p[c] }
            }
            body(offsets, last, width, start)
            start += width
        }
    }
}
