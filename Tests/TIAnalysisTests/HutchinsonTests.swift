import XCTest
import TIAnalysis
import TILinalg

final class HutchinsonTests: XCTestCase {
    private func testOperator() -> (DenseSymmetricOperator, Double) {
        var rng = SeededRandom(seed: 41)
        let n = 40
        var a = randomSymmetric(n, rng: &rng)
        for i in 0..<n { a[i * n + i] += 2 }
        return (DenseSymmetricOperator(matrix: a, n: n), trace(a, n: n))
    }

    func testTraceWithinFourStandardErrors() throws {
        let (op, exact) = testOperator()
        var rng = SeededRandom(seed: 42)
        let r = try HutchinsonTrace(minProbes: 30, maxProbes: 300, tolerance: 1e-3).estimate(op, rng: &rng)
        XCTAssertGreaterThanOrEqual(r.probes, 30)
        XCTAssertGreaterThan(r.stderr, 0)
        XCTAssertLessThan(abs(r.mean - exact), 4 * r.stderr, "estimate \(r.mean) ± \(r.stderr), exact \(exact)")
        // The stderr estimates the true one: Var(zᵀAz) = 2·Σ_{i≠j} A_ij² for Rademacher z.
        let a = op.matrix, n = op.dimension
        var offDiagonal = 0.0
        for i in 0..<n { for j in 0..<n where i != j { offDiagonal += a[i * n + j] * a[i * n + j] } }
        let trueStderr = (2 * offDiagonal / Double(r.probes)).squareRoot()
        XCTAssertEqual(r.stderr, trueStderr, accuracy: 0.25 * trueStderr)
        // For this operator the stderr cannot reach 1e-3 relative within 300 probes.
        XCTAssertEqual(r.probes, 300)
        XCTAssertFalse(r.converged)
    }

    func testDeterministicPerSeedAndDifferentAcrossSeeds() throws {
        let (op, _) = testOperator()
        let estimator = HutchinsonTrace(minProbes: 30, maxProbes: 60)
        var r1 = SeededRandom(seed: 43), r2 = SeededRandom(seed: 43), r3 = SeededRandom(seed: 44)
        let a = try estimator.estimate(op, rng: &r1)
        let b = try estimator.estimate(op, rng: &r2)
        let c = try estimator.estimate(op, rng: &r3)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.mean, c.mean)
    }

    func testZeroVarianceStopsAtMinProbesNotEarlier() throws {
        // Rademacher probes give zᵀDz = tr(D) exactly for diagonal D: the stderr is 0 from the
        // second probe on, yet the estimator must still draw minProbes probes.
        let op = DiagonalOperator([1, 2, 3, -4, 5])
        var rng = SeededRandom(seed: 45)
        var calls = 0
        let r = try HutchinsonTrace(minProbes: 30, maxProbes: 100).estimate(op, rng: &rng) { _, _, _ in calls += 1 }
        XCTAssertEqual(r.probes, 30)
        XCTAssertEqual(calls, 30)
        XCTAssertTrue(r.converged)
        XCTAssertEqual(r.mean, 7, accuracy: 1e-12)
        XCTAssertEqual(r.stderr, 0, accuracy: 1e-12)
    }
}
