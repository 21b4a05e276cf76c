// Power iteration from a given start vector (the warm start curvature tracking along a QAT run uses):
// the hand-computed iterates of a 2×2 diagonal, no draw from the generator, and fewer products from
// a nearby eigenvector than from a random vector on a known spectrum.
import XCTest
import TIAnalysis
import TILinalg
import TITestSupport

final class WarmStartPowerIterationTests: XCTestCase {
    func testTwoIterationsFromAGivenStartFollowTheHandComputedSequence() throws {
        // diag(3, 1) from (1, 1): v₀ = (1, 1)/√2 gives λ₀ = 2; v₁ ∝ H·v₀ = (3, 1) gives λ₁ = (9·3 + 1)/10 = 2.8.
        // Two iterations end at v₁, whose Rayleigh quotient is the reported value.
        var rng = SeededRandom(seed: 3)
        let r = try PowerIteration(count: 1, tolerance: 1e-12, maxIterations: 2)
            .topEigenpairs(of: DiagonalOperator([3, 1]), rng: &rng, start: [1, 1]).result
        XCTAssertEqual(r.values[0], 2.8, accuracy: 1e-14)
        XCTAssertEqual(r.iterations, [2])
        XCTAssertEqual(r.converged, [false])
        // Three iterations: v₂ ∝ (9, 1), λ₂ = (81·3 + 1)/82.
        let r3 = try PowerIteration(count: 1, tolerance: 1e-12, maxIterations: 3)
            .topEigenpairs(of: DiagonalOperator([3, 1]), rng: &rng, start: [1, 1]).result
        XCTAssertEqual(r3.values[0], 244.0 / 82.0, accuracy: 1e-14)
    }

    func testAGivenStartDrawsNothingFromTheGenerator() throws {
        var used = SeededRandom(seed: 21), untouched = SeededRandom(seed: 21)
        _ = try PowerIteration(count: 1).topEigenpairs(of: DiagonalOperator([5, 2, 1]), rng: &used, start: [1, 1, 1])
        XCTAssertEqual(used.next(), untouched.next(), "the start vector replaces the random draw")
    }

    func testWarmStartNearTheEigenvectorNeedsFewerProductsAndFindsTheSameValue() throws {
        var rng = SeededRandom(seed: 22)
        let matrix = matrixWithSpectrum(knownSpectrum, rng: &rng)
        let op = DenseSymmetricOperator(matrix: matrix, n: 50)
        let iteration = PowerIteration(count: 1, tolerance: 1e-8, maxIterations: 2000)
        let cold = try iteration.topEigenpairs(of: op, rng: &rng)
        // The eigenvector of a nearby operator: the same matrix plus a small symmetric perturbation.
        var perturbed = matrix
        let noise = randomSymmetric(50, rng: &rng)
        for i in perturbed.indices { perturbed[i] += 0.01 * noise[i] }
        var other = SeededRandom(seed: 23)
        let nearby = try iteration.topEigenpairs(of: DenseSymmetricOperator(matrix: perturbed, n: 50), rng: &other).vectors[0]
        var fresh = SeededRandom(seed: 24)
        let warm = try iteration.topEigenpairs(of: op, rng: &fresh, start: nearby)
        XCTAssertEqual(warm.result.values[0], 10, accuracy: 1e-6)
        XCTAssertEqual(cold.result.values[0], 10, accuracy: 1e-6)
        // The error shrinks by |λ₂/λ₁| = 0.7 per iteration: a start 1e-2 off saves about log(1e-2)/log(0.7) ≈ 13.
        XCTAssertLessThan(warm.result.iterations[0] + 10, cold.result.iterations[0],
                          "warm \(warm.result.iterations[0]) vs cold \(cold.result.iterations[0]) iterations")
        // Starting exactly on the eigenvector (e₁ of a diagonal): a zero residual stops it after one product.
        let e1 = [1.0] + [Double](repeating: 0, count: 49)
        let exact = try iteration.topEigenpairs(of: DiagonalOperator(knownSpectrum), rng: &fresh, start: e1)
        XCTAssertEqual(exact.result.iterations, [1])
        XCTAssertEqual(exact.result.values[0], 10)
        XCTAssertTrue(exact.result.converged[0])
    }

    func testAStartOutsideTheDomainFallsBackToARandomVector() throws {
        var rng = SeededRandom(seed: 25)
        let r = try PowerIteration(count: 1, tolerance: 1e-10, maxIterations: 500)
            .topEigenpairs(of: DiagonalOperator([4, 1]), rng: &rng, start: [0, 0]).result
        XCTAssertEqual(r.values[0], 4, accuracy: 1e-8)
    }
}
