// The plane a training path mostly moves in (Li et al.'s PCA directions): principal directions of
// the saved points centred at the final point. The path has few points and long vectors, so the
// m×m Gram matrix of the m offsets is decomposed exactly (LAPACK) instead of the n×n covariance;
// a direction is the offsets combined by its Gram eigenvector, over √λ, which makes it unit length.
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

public enum TrajectoryPCA {
    /// `points` at `steps` (in path order; the last is the centre).
    public static func plane(points: [[Float]], steps: [Int]) throws -> TrajectoryPlane {
        precondition(points.count == steps.count && !points.isEmpty, "TrajectoryPCA: one step per point")
        let centre = points.last!
        let n = centre.count
        precondition(points.allSatisfy { $0.count == n }, "TrajectoryPCA: points differ in length")
        let offsets: [[Double]] = points.dropLast().map { p in (0..<n).map { Double(p[$0]) - Double(centre[$0]) } }
        let m = offsets.count
        guard m >= 2 else {
            throw LandscapeError.invalidConfig("a path of \(points.count) point(s) spans no plane; save the trajectory more often (--save-trajectory K with a smaller K)")
        }
        var gram = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in i..<m {
                let d = BLAS.dot(offsets[i], offsets[j])
                gram[i * m + j] = d; gram[j * m + i] = d
            }
        }
        let (values, vectors) = try BLAS.symmetricEigen(gram, n: m)
        let total = values.reduce(0) { $0 + max($1, 0) }
        let top = [m - 1, m - 2]
        // The second direction must be more than rounding: a straight path has no plane.
        guard total > 0, values[m - 2] > 1e-10 * values[m - 1] else {
            throw LandscapeError.invalidConfig("the path moves along one direction only (second principal variance \(values[m - 2]) of \(total)); no plane to draw")
        }
        let directions: [[Double]] = top.map { k in
            var v = [Double](repeating: 0, count: n)
            for i in 0..<m { BLAS.axpy(vectors[k * m + i], offsets[i], &v) }
            BLAS.scale(&v, by: 1 / values[k].squareRoot())
            return v
        }
        let coordinates = points.indices.map { i -> (step: Int, x: Double, y: Double) in
            guard i < m else { return (steps[i], 0, 0) }
            return (steps[i], BLAS.dot(offsets[i], directions[0]), BLAS.dot(offsets[i], directions[1]))
        }
        return TrajectoryPlane(centre: centre, directions: directions.map { $0.map(Float.init) },
                               variances: top.map { values[$0] }, explainedVariance: top.map { values[$0] / total },
                               coordinates: coordinates)
    }

    /// The path of a saved trajectory: θ₀ (step 0), every saved entry, in order.
    public static func points(of trajectory: Trajectory) -> (points: [[Float]], steps: [Int]) {
        ([trajectory.origin] + trajectory.deltas.indices.map(trajectory.point), [0] + trajectory.steps)
    }
}
