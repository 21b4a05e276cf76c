import XCTest
import TIAnalysis
import TILinalg
import TITestSupport

final class PowerIterationTests: XCTestCase {
    func testTopThreeOfKnownSpectrumAreSignedAndTight() throws {
        var rng = SeededRandom(seed: 11)
        let op = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50)
        let pairs = try PowerIteration(count: 3, tolerance: 1e-9, maxIterations: 2000)
            .topEigenpairs(of: op, rng: &rng)
        let r = pairs.result
        // Largest |λ| first, sign kept: -7 comes before 4.5.
        for (found, exact) in zip(r.values, [10.0, -7, 4.5]) {
            XCTAssertLessThan(relativeError(found, exact), 1e-6, "eigenvalue \(exact) found as \(found)")
        }
        XCTAssertEqual(r.converged, [true, true, true])
        for res in r.residuals { XCTAssertLessThan(res, 1e-9) }
        XCTAssertEqual(r.hvpCount, r.iterations.reduce(0, +))
        // The eigenvectors really are eigenvectors and mutually orthogonal.
        for (i, (v, lambda)) in zip(pairs.vectors, r.values).enumerated() {
            var hv = try op.apply(v)
            BLAS.axpy(-lambda, v, &hv)
            let trueResidual = BLAS.norm(hv) / abs(lambda)
            XCTAssertLessThan(trueResidual, 1e-9, "eigenpair \(i)")
            XCTAssertEqual(r.residuals[i], trueResidual, accuracy: 1e-12, "reported residual must be the true one")
        }
        XCTAssertLessThan(abs(BLAS.dot(pairs.vectors[0], pairs.vectors[1])), 1e-9)
        XCTAssertLessThan(abs(BLAS.dot(pairs.vectors[1], pairs.vectors[2])), 1e-9)
    }

    func testDefaultToleranceGivesTopEigenvalueWithinOnePercent() throws {
        var rng = SeededRandom(seed: 12)
        let op = CountingOperator(base: DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50))
        let r = try PowerIteration().topEigenpairs(of: op, rng: &rng).result
        XCTAssertLessThan(relativeError(r.values[0], 10), 1e-2)
        XCTAssertTrue(r.converged[0])
        XCTAssertLessThanOrEqual(r.iterations[0], 100)
        XCTAssertEqual(op.applications, r.hvpCount, "the HVP count must match the operator's own count")
    }

    func testUnconvergedRunIsFlagged() throws {
        var rng = SeededRandom(seed: 13)
        let op = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50)
        let r = try PowerIteration(count: 1, tolerance: 1e-12, maxIterations: 3).topEigenpairs(of: op, rng: &rng).result
        XCTAssertEqual(r.converged, [false])
        XCTAssertEqual(r.iterations, [3])
    }

    func testSameSeedSameResultAndProgressIsReported() throws {
        var rngA = SeededRandom(seed: 14), rngB = SeededRandom(seed: 14)
        let op = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rngA), n: 50)
        _ = matrixWithSpectrum(knownSpectrum, rng: &rngB)
        var calls = 0, lastDone = 0, total = 0
        let a = try PowerIteration(count: 2).topEigenpairs(of: op, rng: &rngA) { done, t, _ in
            calls += 1; lastDone = done; total = t
        }
        let b = try PowerIteration(count: 2).topEigenpairs(of: op, rng: &rngB)
        XCTAssertEqual(a.result, b.result)
        XCTAssertEqual(calls, a.result.hvpCount)
        XCTAssertEqual(lastDone, a.result.hvpCount)
        XCTAssertEqual(total, 200)
    }

    func testOppositeSignPairIsReportedUnconvergedWhileLanczosResolvesIt() throws {
        let op = DiagonalOperator([5, -5, 1, 0.5, -0.25])
        var rng = SeededRandom(seed: 16)
        let r = try PowerIteration(count: 1, maxIterations: 50).topEigenpairs(of: op, rng: &rng).result
        XCTAssertEqual(r.converged, [false])
        XCTAssertGreaterThan(r.residuals[0], 1e-3)
        let ext = try lanczosExtremes(op, k: 1, steps: 5, tol: 1e-8, rng: &rng)
        XCTAssertEqual(ext.largest.values[0], 5, accuracy: 1e-10)
        XCTAssertEqual(ext.smallest.values[0], -5, accuracy: 1e-10)
    }

    func testNonFiniteProductIsAnError() {
        struct Broken: SymmetricOperator {
            var dimension: Int { 4 }
            func apply(_ v: [Double]) throws -> [Double] { [1, .nan, 0, 0] }
        }
        var rng = SeededRandom(seed: 15)
        XCTAssertThrowsError(try PowerIteration().topEigenpairs(of: Broken(), rng: &rng)) { error in
            XCTAssertEqual(error as? AnalysisError, .nonFiniteProduct(application: 1))
        }
    }
}
