import XCTest
import TILinalg
import TITestSupport

final class LinalgTests: XCTestCase {
    func testGemmMatchesNaiveInBothPrecisions() {
        func check<T: BLASScalar>(_: T.Type, tol: T) {
            var rng = SeededRandom(seed: 1)
            let m = 5, n = 7, k = 3
            let a: [T] = rng.normalVector(m * k), b: [T] = rng.normalVector(n * k)
            var c = [T](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                T.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k,
                       b: bp.baseAddress!, ldb: k, beta: 0, c: cp.baseAddress!, ldc: n)
            } } }
            for i in 0..<m { for j in 0..<n {
                var s: T = 0
                for p in 0..<k { s += a[i * k + p] * b[j * k + p] }
                XCTAssertLessThan(abs(s - c[i * n + j]), tol)
            } }
        }
        check(Float.self, tol: 1e-5)
        check(Double.self, tol: 1e-12)
    }

    func testSymmetricEigenRecoversKnownSpectrum() throws {
        // Q diag(λ) Qᵀ with Q a Householder reflection has eigenvalues λ exactly.
        let lambdas: [Double] = [-2, 0.5, 1, 3]
        var rng = SeededRandom(seed: 7)
        var u: [Double] = rng.normalVector(4)
        let un = BLAS.norm(u); BLAS.scale(&u, by: 1 / un)
        var a = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 {
            var s = 0.0
            for p in 0..<4 {
                let qip = (i == p ? 1 : 0) - 2 * u[i] * u[p]
                let qjp = (j == p ? 1 : 0) - 2 * u[j] * u[p]
                s += qip * lambdas[p] * qjp
            }
            a[i * 4 + j] = s
        } }
        let (w, v) = try BLAS.symmetricEigen(a, n: 4)
        for (x, y) in zip(w, lambdas.sorted()) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        // A·v = λ·v for the first eigenvector
        for i in 0..<4 {
            var s = 0.0
            for j in 0..<4 { s += a[i * 4 + j] * v[j] }
            XCTAssertEqual(s, w[0] * v[i], accuracy: 1e-12)
        }
    }

    func testTridiagonalEigen() throws {
        // Path-graph Laplacian-like tridiagonal with known eigenvalues 2 - 2cos(kπ/(n+1)).
        let n = 6
        let (w, _) = try BLAS.tridiagonalEigen(diagonal: .init(repeating: 2, count: n), offDiagonal: .init(repeating: -1, count: n - 1))
        for k in 1...n {
            XCTAssertEqual(w[k - 1], 2 - 2 * cos(Double(k) * .pi / Double(n + 1)), accuracy: 1e-12)
        }
    }

    func testLayoutCoversBufferExactlyOnce() {
        let layout = ParameterLayout([("a.weight", [3, 4], .matrix), ("a.bias", [3], .bias), ("ln.weight", [4], .layerNormGain)])
        XCTAssertEqual(layout.count, 19)
        var covered = [Int](repeating: 0, count: layout.count)
        for s in layout.slots { for i in s.range { covered[i] += 1 } }
        XCTAssertEqual(covered, [Int](repeating: 1, count: 19))
        XCTAssertEqual(layout.slots(matching: "a.*").count, 2)
        XCTAssertEqual(layout.slots(matching: "bias").count, 1)
    }

    func testSeededRandomIsDeterministicAndSeedSensitive() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let xa = (0..<8).map { _ in a.next() }, xb = (0..<8).map { _ in b.next() }, xc = (0..<8).map { _ in c.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, xc)
        var r = SeededRandom(seed: 5)
        let z = (0..<20000).map { _ in r.normal() }
        let mean = z.reduce(0, +) / Double(z.count)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(z.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }
}
