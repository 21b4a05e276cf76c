import Foundation
import XCTest
import TIAnalysis
import TILinalg
import TITestSupport

final class OperatorTests: XCTestCase {
    func testDenseBuilderAndLapackAgreeWithPowerIteration() throws {
        var rng = SeededRandom(seed: 31)
        let n = 30
        // A random symmetric bulk plus two planted spikes, so the top two |λ| are separated and
        // power iteration converges in a reasonable number of steps.
        var a = randomSymmetric(n, rng: &rng)
        let u: [Double] = rng.normalVector(n), w: [Double] = rng.normalVector(n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] += 3 * u[i] * u[j] - 2 * w[i] * w[j] } }
        let op = DenseSymmetricOperator(matrix: a, n: n)

        let built = try denseMatrix(of: op)
        XCTAssertLessThan(relativeVectorError(built, a), 1e-14)
        XCTAssertLessThan(symmetryError(built, n: n), 1e-14)

        let (values, vectors) = try BLAS.symmetricEigen(built, n: n)
        let byMagnitude = values.indices.sorted { abs(values[$0]) > abs(values[$1]) }
        let pairs = try PowerIteration(count: 2, tolerance: 1e-10, maxIterations: 5000).topEigenpairs(of: op, rng: &rng)
        XCTAssertEqual(pairs.result.converged, [true, true])
        for (k, idx) in byMagnitude.prefix(2).enumerated() {
            XCTAssertLessThan(relativeError(pairs.result.values[k], values[idx]), 1e-8)
            let exactVector = Array(vectors[(idx * n)..<((idx + 1) * n)])
            XCTAssertEqual(abs(BLAS.dot(exactVector, pairs.vectors[k])), 1, accuracy: 1e-6)
        }
    }

    func testSymmetryErrorSeesAsymmetry() {
        let a: [Double] = [1, 2, 2.5, 4]
        XCTAssertEqual(symmetryError(a, n: 2), 0.5 / 4, accuracy: 1e-15)
        XCTAssertEqual(symmetryError(symmetrized(a, n: 2), n: 2), 0)
        XCTAssertEqual(symmetryError([0, 0, 0, 0], n: 2), 0)
    }

    func testMaskedOperatorHasTheSubBlockSpectrum() throws {
        var rng = SeededRandom(seed: 32)
        let n = 12
        let a = randomSymmetric(n, rng: &rng)
        let selected = [1, 3, 4, 7, 8, 10]
        var mask = [Double](repeating: 0, count: n)
        for i in selected { mask[i] = 1 }
        let op = MaskedOperator(base: DenseSymmetricOperator(matrix: a, n: n), mask: mask)
        XCTAssertEqual(op.domainDimension, 6)
        XCTAssertEqual(op.coordinates, selected)

        var block = [Double]()
        for i in selected { for j in selected { block.append(a[i * n + j]) } }
        XCTAssertEqual(try denseMatrix(of: op), block)
        let exact = try BLAS.symmetricEigen(block, n: 6, wantVectors: false).values

        // Output never leaks into unselected coordinates.
        let hv = try op.apply([Double](repeating: 1, count: n))
        for i in 0..<n where mask[i] == 0 { XCTAssertEqual(hv[i], 0) }

        // Lanczos stops at the sub-block's dimension and finds its spectrum, with no zero
        // eigenvalues from the masked-out coordinates.
        let d = try Lanczos(steps: 20).decompose(op, rng: &rng)
        XCTAssertEqual(d.krylovDimension, 6)
        XCTAssertLessThan(relativeVectorError(try d.ritz().values, exact), 1e-10)

        let top = try PowerIteration(count: 1, tolerance: 1e-10, maxIterations: 5000).topEigenpairs(of: op, rng: &rng)
        let largestMagnitude = exact.max { abs($0) < abs($1) }!
        XCTAssertLessThan(relativeError(top.result.values[0], largestMagnitude), 1e-8)
        for i in 0..<n where mask[i] == 0 { XCTAssertEqual(top.vectors[0][i], 0) }

        let tr = try HutchinsonTrace(minProbes: 30, maxProbes: 400, tolerance: 0).estimate(op, rng: &rng)
        XCTAssertEqual(tr.dimension, 6)
        XCTAssertLessThan(abs(tr.mean - trace(block, n: 6)), 4 * tr.stderr)
    }

    func testSubspaceOperatorIsTheCompressedSubBlock() throws {
        var rng = SeededRandom(seed: 33)
        let n = 12
        let a = randomSymmetric(n, rng: &rng)
        let layout = ParameterLayout([("w", [2, 3], .matrix), ("b", [2], .bias), ("g", [4], .layerNormGain)])
        XCTAssertEqual(layout.count, n)
        let selectedSlots = layout.slots(matching: "g") + layout.slots(matching: "b")
        let base = FunctionOperator(dimension: n) { try DenseSymmetricOperator(matrix: a, n: n).apply($0) }
        let op = SubspaceOperator(base: base, slots: selectedSlots)
        XCTAssertEqual(op.coordinates, Array(6..<12), "slot order must not matter")
        XCTAssertEqual(op.dimension, 6)

        var block = [Double]()
        for i in op.coordinates { for j in op.coordinates { block.append(a[i * n + j]) } }
        XCTAssertEqual(try denseMatrix(of: op), block)
        let masked = MaskedOperator(base: base, mask: layout.mask(for: selectedSlots))
        XCTAssertEqual(try denseMatrix(of: masked), block)

        let ext = try lanczosExtremes(op, k: 1, steps: 6, tol: 1e-8, rng: &rng)
        let exact = try BLAS.symmetricEigen(block, n: 6, wantVectors: false).values
        XCTAssertEqual(ext.largest.values[0], exact[5], accuracy: 1e-10)
        XCTAssertEqual(ext.smallest.values[0], exact[0], accuracy: 1e-10)
        let full = op.expand(ext.largestVectors[0])
        XCTAssertEqual(full.count, n)
        XCTAssertEqual(Array(full[6...]), ext.largestVectors[0])
        XCTAssertTrue(full[0..<6].allSatisfy { $0 == 0 })
    }

    func testResultsOfSingularOperatorsStayFiniteAndEncodable() throws {
        var rng = SeededRandom(seed: 34)
        let op = DiagonalOperator([3, 0, 0, 0])
        let top = try PowerIteration(count: 2).topEigenpairs(of: op, rng: &rng).result
        XCTAssertEqual(top.values[0], 3, accuracy: 1e-12)
        XCTAssertEqual(top.values[1], 0, accuracy: 1e-12)
        let ext = try lanczosExtremes(op, k: 2, steps: 4, rng: &rng)
        XCTAssertEqual(ext.smallest.values[0], 0, accuracy: 1e-12)
        let report = HessianReport(topEigenvalues: top, largestEigenvalues: ext.largest, smallestEigenvalues: ext.smallest)
        XCTAssertNoThrow(try JSONEncoder().encode(report))
    }

    func testCountingOperatorCountsThroughCopies() throws {
        let op = CountingOperator(base: DiagonalOperator([1, 2, 3]))
        let copy = op
        _ = try op.apply([1, 1, 1])
        _ = try copy.apply([1, 1, 1])
        XCTAssertEqual(op.applications, 2)
    }

    func testWrongLengthIsAnError() {
        XCTAssertThrowsError(try DiagonalOperator([1, 2]).apply([1, 2, 3]))
    }
}
