// Parallel.gemm against a plain triple loop in Double (an independent reference), and bitwise
// against itself on 1, 2 and 3 threads: the blocks depend on the shape, not the thread count.
import XCTest
@testable import TILinalg

final class ParallelGEMMTests: XCTestCase {
    override func tearDown() { Parallel.workers = 1 }

    /// Row-major op(A)·op(B) by loops in Double, on every 5th row (the others stay 0).
    func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in stride(from: 0, to: m, by: 5) {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    func product(_ t: (Bool, Bool), m: Int, n: Int, k: Int, a: [Float], b: [Float], beta: Float, c0: [Float], threads: Int) -> [Float] {
        Parallel.workers = threads
        var c = c0
        let lda = t.0 ? m : k, ldb = t.1 ? k : n
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Parallel.gemm(transA: t.0, transB: t.1, m: m, n: n, k: k, alpha: 1.5, a: ap.baseAddress!, lda: lda,
                                  b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    func testBlocksMatchReferenceAndAreThreadIndependent() {
        var rng = SeededRandom(seed: 11)
        // Ragged shapes: tall (row blocks), wide (column blocks), one block, prime extents.
        for (m, n, k) in [(997, 131, 67), (61, 1021, 83), (40, 40, 40), (509, 257, 129)] {
            for t in [(false, false), (false, true), (true, false), (true, true)] {
                let a: [Float] = rng.normalVector(m * k), b: [Float] = rng.normalVector(k * n), c0: [Float] = rng.normalVector(m * n)
                let lda = t.0 ? m : k, ldb = t.1 ? k : n
                let ref = reference(transA: t.0, transB: t.1, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb)
                let one = product(t, m: m, n: n, k: k, a: a, b: b, beta: 0.5, c0: c0, threads: 1)
                for i in 0..<(m * n) where (i / n) % 5 == 0 {
                    let want = 1.5 * ref[i] + 0.5 * Double(c0[i])
                    XCTAssertEqual(Double(one[i]), want, accuracy: 1e-5 * Double(k).squareRoot() * max(1, abs(want)),
                                   "\(m)×\(n)×\(k) \(t) entry \(i)")
                }
                for threads in [2, 3] {
                    XCTAssertEqual(product(t, m: m, n: n, k: k, a: a, b: b, beta: 0.5, c0: c0, threads: threads), one,
                                   "\(m)×\(n)×\(k) \(t) on \(threads) threads")
                }
            }
        }
    }

    func testBlockSizesDependOnShapeOnly() {
        // Small products are one block; large ones split into ≥ 32-wide blocks that cover the extent.
        XCTAssertEqual(GEMMBlocks.blockSize(extent: 40, work: 40 * 40 * 40), 40)
        let size = GEMMBlocks.blockSize(extent: 4096, work: 4096 * 768 * 768)
        XCTAssertGreaterThanOrEqual(size, GEMMBlocks.minimumBlockWidth)
        XCTAssertLessThanOrEqual((4096 + size - 1) / size, GEMMBlocks.maximumBlocks)
        XCTAssertGreaterThan((4096 + size - 1) / size, 1)
    }

    func testMapSharesTheBudgetWithItsItems() {
        Parallel.workers = 4
        XCTAssertEqual(Parallel.budget, 4)
        XCTAssertEqual(Parallel.map(2) { _ in Parallel.budget }, [2, 2], "two items on four threads: two each")
        XCTAssertEqual(Parallel.map(8) { _ in Parallel.budget }, [Int](repeating: 1, count: 8))
        XCTAssertEqual(Parallel.map(1) { _ in Parallel.budget }, [4], "one item keeps the whole budget")
        var inner: [Int] = []
        let lock = NSLock()
        Parallel.forEach(3) { _ in lock.lock(); inner.append(Parallel.budget); lock.unlock() }
        XCTAssertEqual(inner, [1, 1, 1])
        XCTAssertEqual(Parallel.budget, 4, "the caller's budget is restored")
    }
}
