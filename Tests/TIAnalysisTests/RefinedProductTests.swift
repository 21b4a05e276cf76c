// Operators whose cheap product is biased (as a one-sided finite difference is, by (ε/2)·∇³L[v, v])
// and whose refined product is exact: the eigenvalues power iteration and Lanczos report must
// come from the refined products, with the bias left only at second order.
import XCTest
import TIAnalysis
import TILinalg
import TITestSupport

/// A·v plus a bias quadratic in v's direction (degree-1 homogeneous, like H·v's O(ε) term with ε ∝ 1/‖v‖).
struct BiasedOperator: SymmetricOperator {
    let exact: DenseSymmetricOperator
    let bias: Double
    let refines: Bool
    var dimension: Int { exact.dimension }
    func apply(_ v: [Double]) throws -> [Double] {
        var hv = try exact.apply(v)
        let norm = BLAS.norm(v)
        for i in hv.indices { hv[i] += bias * v[i] * v[i] / norm }
        return hv
    }
    func refinedProduct(_ v: [Double]) throws -> RefinedProduct? { refines ? RefinedProduct(product: try exact.apply(v)) : nil }
}

final class RefinedProductTests: XCTestCase {
    func operators() -> (biased: BiasedOperator, refined: CountingOperator<BiasedOperator>) {
        var rng = SeededRandom(seed: 21)
        let exact = DenseSymmetricOperator(matrix: matrixWithSpectrum(knownSpectrum, rng: &rng), n: 50)
        return (BiasedOperator(exact: exact, bias: 0.05, refines: false),
                CountingOperator(base: BiasedOperator(exact: exact, bias: 0.05, refines: true)))
    }

    func testPowerIterationReportsRefinedRayleighQuotients() throws {
        let (biased, refined) = operators()
        var rng = SeededRandom(seed: 3)
        let plain = try PowerIteration(count: 2, tolerance: 1e-10, maxIterations: 3000).topEigenpairs(of: biased, rng: &rng).result
        rng = SeededRandom(seed: 3)
        let better = try PowerIteration(count: 2, tolerance: 1e-10, maxIterations: 3000).topEigenpairs(of: refined, rng: &rng).result
        for (k, exact) in [10.0, -7].enumerated() {
            let before = relativeError(plain.values[k], exact), after = relativeError(better.values[k], exact)
            XCTAssertGreaterThan(before, 1e-4, "the bias must matter for this test to mean anything (eigenvalue \(exact))")
            XCTAssertLessThan(after, before / 20, "eigenvalue \(exact): \(better.values[k]) refined vs \(plain.values[k])")
        }
        XCTAssertEqual(better.hvpCount, better.iterations.reduce(0, +) + 2, "one refined product per reported pair")
        XCTAssertEqual(refined.applications, better.hvpCount)
    }

    func testLanczosExtremesReportRefinedRayleighQuotients() throws {
        let (biased, refined) = operators()
        var rng = SeededRandom(seed: 4)
        let plain = try lanczosExtremes(biased, k: 1, steps: 50, tol: 1e-8, rng: &rng)
        rng = SeededRandom(seed: 4)
        let better = try lanczosExtremes(refined, k: 1, steps: 50, tol: 1e-8, rng: &rng)
        let extremes = (knownSpectrum.min()!, knownSpectrum.max()!)
        for (p, b, exact) in [(plain.smallest.values[0], better.smallest.values[0], extremes.0),
                              (plain.largest.values[0], better.largest.values[0], extremes.1)] {
            XCTAssertGreaterThan(relativeError(p, exact), 1e-4, "the bias must matter (\(exact))")
            XCTAssertLessThan(relativeError(b, exact), relativeError(p, exact) / 20, "\(exact): \(b) refined vs \(p)")
        }
    }
}
