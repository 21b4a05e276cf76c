import XCTest
import TIAnalysis
import TILinalg

final class DensityTests: XCTestCase {
    func testWeightsFirstMomentAndNormalization() throws {
        var rng = SeededRandom(seed: 51)
        let n = 50
        let a = matrixWithSpectrum(knownSpectrum, rng: &rng)
        let op = DenseSymmetricOperator(matrix: a, n: n)
        let runs = 20
        let r = try SpectralDensityEstimator(runs: runs, steps: 20, bins: 2000).estimate(op, rng: &rng)
        XCTAssertEqual(r.nodes.count, runs)
        XCTAssertEqual(r.hvpCount, runs * 20)
        for w in r.weights { XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12) }

        // Σ w·θ = vᵀHv for the run's unit Rademacher probe, an unbiased estimate of tr(H)/n with
        // variance 2·Σ_{i≠j} H_ij² / n² per run.
        var offDiagonal = 0.0
        for i in 0..<n { for j in 0..<n where i != j { offDiagonal += a[i * n + j] * a[i * n + j] } }
        let stderr = (2 * offDiagonal).squareRoot() / Double(n) / Double(runs).squareRoot()
        XCTAssertLessThan(abs(r.moment(1) - trace(a, n: n) / Double(n)), 4 * stderr)
        XCTAssertEqual(r.moment(0), 1, accuracy: 1e-12)
        // Second moment tr(H²)/n is also exact in expectation; just check the right magnitude.
        let exactSecond = knownSpectrum.map { $0 * $0 }.reduce(0, +) / Double(n)
        XCTAssertEqual(r.moment(2), exactSecond, accuracy: 0.5 * exactSecond)

        let step = r.grid[1] - r.grid[0]
        var integral = 0.5 * (r.density.first! + r.density.last!)
        for d in r.density.dropFirst().dropLast() { integral += d }
        XCTAssertEqual(integral * step, 1, accuracy: 1e-9)
        XCTAssertTrue(r.density.allSatisfy { $0 >= 0 })
        XCTAssertLessThanOrEqual(r.grid.first!, -7)
        XCTAssertGreaterThanOrEqual(r.grid.last!, 10)
    }

    func testDiagonalWithFewDistinctValuesHitsThemWithMultiplicityWeights() throws {
        // Rademacher probes have v_i² = 1/n, so each node's weight is its multiplicity / n exactly.
        let distinct: [Double] = [-1, 0.5, 2, 5]
        let multiplicity = [3, 5, 2, 6]
        var d = [Double]()
        for (x, m) in zip(distinct, multiplicity) { d += Array(repeating: x, count: m) }
        var rng = SeededRandom(seed: 52)
        let r = try SpectralDensityEstimator(runs: 3, steps: 10, bins: 500, sigmaSquared: 1e-3)
            .estimate(DiagonalOperator(d), rng: &rng)
        XCTAssertEqual(r.sigmaSquared, 1e-3)
        for (nodes, weights) in zip(r.nodes, r.weights) {
            XCTAssertEqual(nodes.count, 4)
            for k in 0..<4 {
                XCTAssertEqual(nodes[k], distinct[k], accuracy: 1e-10)
                XCTAssertEqual(weights[k], Double(multiplicity[k]) / 16, accuracy: 1e-10)
            }
        }
        XCTAssertEqual(r.traceEstimate, zip(distinct, multiplicity).map { $0 * Double($1) }.reduce(0, +), accuracy: 1e-9)
        // The smoothed curve peaks at the largest-weight node (5, weight 6/16).
        let peak = r.density.indices.max { r.density[$0] < r.density[$1] }!
        XCTAssertEqual(r.grid[peak], 5, accuracy: 2 * (r.grid[1] - r.grid[0]))
    }

    func testDefaultSigmaFollowsSpectralRange() throws {
        var rng = SeededRandom(seed: 53)
        let r = try SpectralDensityEstimator(runs: 1, steps: 5, bins: 100).estimate(DiagonalOperator([0, 200, 400, 100, 300]), rng: &rng)
        XCTAssertEqual(r.sigmaSquared, 1e-5 * 400, accuracy: 1e-9)
        let small = try SpectralDensityEstimator(runs: 1, steps: 2, bins: 100).estimate(DiagonalOperator([0, 0.1]), rng: &rng)
        XCTAssertEqual(small.sigmaSquared, 1e-5)
    }
}
