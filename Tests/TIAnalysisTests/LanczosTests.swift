import XCTest
import TIAnalysis
import TILinalg
import TITestSupport

final class LanczosTests: XCTestCase {
    func testExtremesOfKnownSpectrumIncludingNegativeCurvature() throws {
        var rng = SeededRandom(seed: 21)
        let op = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50)
        // Fewer steps than the dimension: the outliers must converge, not be found by exhaustion.
        let ext = try lanczosExtremes(op, k: 2, steps: 30, tol: 1e-8, rng: &rng)
        XCTAssertEqual(ext.decomposition.krylovDimension, 30)
        XCTAssertLessThan(abs(ext.largest.values[0] - 10), 1e-8)
        XCTAssertLessThan(abs(ext.largest.values[1] - 4.5), 1e-8)
        XCTAssertLessThan(abs(ext.smallest.values[0] - -7), 1e-8)
        XCTAssertEqual(Array(ext.largest.converged), [true, true])
        XCTAssertTrue(ext.smallest.converged[0])
        XCTAssertEqual(ext.largest.hvpCount, 30)
        // The bulk edge -2 sits next to other bulk values and must not be claimed as converged to 1e-8
        // unless it really is that accurate.
        let second = ext.smallest.values[1]
        if ext.smallest.converged[1] { XCTAssertLessThan(abs(second - -2), 1e-6) }
        // Ritz vectors are eigenvectors.
        let y = ext.smallestVectors[0]
        XCTAssertLessThan(relativeVectorError(try op.apply(y), y.map { -7 * $0 }), 1e-7)
    }

    func testResidualEstimateMatchesTrueResidual() throws {
        var rng = SeededRandom(seed: 22)
        let op = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50)
        let d = try Lanczos(steps: 8).decompose(op, rng: &rng)
        let ritz = try d.ritz()
        for i in [0, 7] {
            let y = d.ritzVector(ritz, index: i)
            var r = try op.apply(y)
            BLAS.axpy(-ritz.values[i], y, &r)
            XCTAssertEqual(BLAS.norm(r), ritz.residualNorms[i], accuracy: 1e-9 * 10)
        }
        XCTAssertEqual(ritz.weights.reduce(0, +), 1, accuracy: 1e-12)
    }

    func testBasisStaysOrthonormalAndFullRunRecoversWholeSpectrum() throws {
        var rng = SeededRandom(seed: 23)
        let n = 30
        let a = randomSymmetric(n, rng: &rng)
        let d = try Lanczos(steps: n).decompose(DenseSymmetricOperator(matrix: a, n: n), rng: &rng)
        var worst = 0.0
        for i in 0..<d.basis.count {
            for j in 0...i { worst = max(worst, abs(BLAS.dot(d.basis[i], d.basis[j]) - (i == j ? 1 : 0))) }
        }
        XCTAssertLessThan(worst, 1e-12, "full reorthogonalization must keep the basis orthonormal")
        let ritz = try d.ritz().values
        let exact = try BLAS.symmetricEigen(a, n: n, wantVectors: false).values
        XCTAssertLessThan(relativeVectorError(ritz, exact), 1e-10)
    }

    func testInvariantSubspaceStopsEarlyWithExactValues() throws {
        let op = DiagonalOperator([3, 3, -1, -1, -1, 2, 2, 2])
        var rng = SeededRandom(seed: 24)
        let d = try Lanczos(steps: 8).decompose(op, rng: &rng)
        XCTAssertEqual(d.krylovDimension, 3, "three distinct eigenvalues span a 3-dimensional Krylov space")
        XCTAssertEqual(d.residualBeta, 0)
        let values = try d.ritz().values
        XCTAssertEqual(values[0], -1, accuracy: 1e-12)
        XCTAssertEqual(values[1], 2, accuracy: 1e-12)
        XCTAssertEqual(values[2], 3, accuracy: 1e-12)
    }
}
