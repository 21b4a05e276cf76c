// The packed-code cache: reuse while a ternary matrix is unchanged, re-packing as soon as any entry
// changes in place, nothing for a non-ternary matrix, and eviction beyond the capacity.
import XCTest
import TILinalg

final class TernaryWeightCacheTests: XCTestCase {
    func ternary(_ count: Int, alpha: Float, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(rng.below(3) - 1) * alpha }
    }

    /// The product through the cached packing against the reference on codes taken from w afresh.
    func checkProduct(_ cache: TernaryWeightCache, _ w: UnsafePointer<Float>, n: Int, k: Int, line: UInt = #line) {
        let m = 7
        var rng = SeededRandom(seed: 5)
        let a = (0..<(m * k)).map { _ in Int8(rng.below(255) - 127) }
        guard let (packed, alpha) = cache.packed(w, n: n, k: k) else { return XCTFail("not ternary", line: line) }
        let codes = (0..<(n * k)).map { Int8(w[$0] > 0 ? 1 : w[$0] < 0 ? -1 : 0) }
        let expectedAlpha = (0..<(n * k)).map { abs(w[$0]) }.max()!
        XCTAssertEqual(alpha, expectedAlpha, line: line)
        var got = [Float](repeating: 0, count: m * n), want = got
        Int8GEMM.gemm(m: m, a: a, lda: k, weight: packed, scale: 0.5 * alpha, bias: nil, c: &got, ldc: n)
        Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: k, w: codes, ldw: k, scale: 0.5 * expectedAlpha, bias: nil,
                           c: &want, ldc: n)
        XCTAssertEqual(got, want, line: line)
    }

    func testUnchangedWeightsAreServedFromTheCacheAndChangedOnesRepacked() {
        let cache = TernaryWeightCache(capacityBytes: 1 << 20)
        let n = 40, k = 70
        var w = ternary(n * k, alpha: 0.03, seed: 1)
        w.withUnsafeBufferPointer { checkProduct(cache, $0.baseAddress!, n: n, k: k) }
        w.withUnsafeBufferPointer { checkProduct(cache, $0.baseAddress!, n: n, k: k) }
        XCTAssertEqual(cache.packs, 1)
        XCTAssertEqual(cache.hits, 1)
        w.withUnsafeMutableBufferPointer { p in
            let address = p.baseAddress!
            // One sign flipped in place, at the last entry: same pointer, same shape, still ternary.
            p[n * k - 1] = p[n * k - 1] == 0 ? 0.03 : -p[n * k - 1]
            checkProduct(cache, address, n: n, k: k)
            XCTAssertEqual(cache.packs, 2, "a changed entry is re-packed")
            // A zero becoming nonzero, in the middle.
            let zero = (0..<(n * k)).first { p[$0] == 0 }!
            p[zero] = -0.03
            checkProduct(cache, address, n: n, k: k)
            XCTAssertEqual(cache.packs, 3)
            // Every entry scaled: same codes, new α.
            for i in 0..<(n * k) { p[i] *= 2 }
            checkProduct(cache, address, n: n, k: k)
            XCTAssertEqual(cache.packs, 4)
            // −0 for 0 changes nothing the GEMM sees: still a hit.
            let zero2 = (0..<(n * k)).first { p[$0] == 0 }!
            p[zero2] = -0.0
            checkProduct(cache, address, n: n, k: k)
            XCTAssertEqual(cache.packs, 4)
            XCTAssertEqual(cache.hits, 2)
            // Not ternary: nil, and nothing stale afterwards.
            p[0] = 0.01
            XCTAssertNil(cache.packed(address, n: n, k: k))
            p[0] = 0.06
            checkProduct(cache, address, n: n, k: k)
            XCTAssertEqual(cache.packs, 6)
        }
        // The same memory read as another shape is another matrix.
        w.withUnsafeBufferPointer { checkProduct(cache, $0.baseAddress!, n: k, k: n) }
        XCTAssertEqual(cache.packs, 7)
    }

    func testLeastRecentlyUsedEntriesGoBeyondTheCapacity() {
        let n = 64, k = 128
        let bytes = n * k + Int8GEMM.PackedWeight.byteCount(n: n, k: k)
        let cache = TernaryWeightCache(capacityBytes: 2 * bytes)
        let ws = (0..<3).map { ternary(n * k, alpha: 0.1, seed: UInt64($0)) }
        func touch(_ i: Int) { ws[i].withUnsafeBufferPointer { _ = cache.packed($0.baseAddress!, n: n, k: k) } }
        touch(0); touch(1); touch(0)  // 1 is now the least recently used
        XCTAssertEqual(cache.packs, 2)
        touch(2)  // evicts 1
        touch(0)
        XCTAssertEqual(cache.packs, 3, "0 was kept")
        touch(1)
        XCTAssertEqual(cache.packs, 4, "1 was evicted")
    }
}
