import Foundation
import XCTest
import TILinalg
import TITestSupport

final class Int8GEMMTests: XCTestCase {
    func requireAMX() throws {
        guard Int8GEMM.isAvailable else { throw XCTSkip("AMX-INT8 not available on this CPU/OS") }
    }

    /// Random int8 codes; `extreme` draws only −128 and 127, the largest products of either sign.
    func codes(_ count: Int, _ rng: inout SeededRandom, extreme: Bool = false) -> [Int8] {
        var out = [Int8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            // Eight codes per draw: the debug build is slow enough per element to matter here.
            var i = 0
            while i < count {
                var r = rng.next()
                for _ in 0..<min(8, count - i) {
                    raw[i] = extreme ? ((r & 1) == 0 ? 0x80 : 0x7F) : UInt8(truncatingIfNeeded: r)
                    r >>= 8
                    i += 1
                }
            }
        }
        return out
    }

    /// Runs the AMX kernel and the reference on the same data; c is prefilled with a NaN payload so
    /// that writes outside the m × n entries (into the ldc gaps or past the end) show up as well.
    func compare(m: Int, n: Int, k: Int, lda: Int, ldc: Int, withBias: Bool, extreme: Bool = false,
                 seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRandom(seed: seed)
        let a = codes(max(m * lda, 1), &rng, extreme: extreme)
        let ldw = k + Int(seed % 3)
        let w = codes(n * ldw, &rng, extreme: extreme)
        let bias: [Float]? = withBias ? (0..<n).map { _ in Float(rng.normal()) } : nil
        let scale = Float(0.001 + rng.uniform() * 0.05)
        let sentinel = Float(bitPattern: 0x7FC0_1234)
        var got = [Float](repeating: sentinel, count: m * ldc + 1), want = got
        let packed = w.withUnsafeBufferPointer { Int8GEMM.PackedWeight($0.baseAddress!, n: n, k: k, ldw: ldw) }
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                withOptionalPointer(bias) { bp in
                    Int8GEMM.gemm(m: m, a: ap.baseAddress!, lda: lda, weight: packed, scale: scale, bias: bp,
                                  c: &got, ldc: ldc)
                    Int8GEMM.reference(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, w: wp.baseAddress!, ldw: ldw,
                                       scale: scale, bias: bp, c: &want, ldc: ldc)
                }
            }
        }
        let identical = got.withUnsafeBytes { g in want.withUnsafeBytes { memcmp(g.baseAddress!, $0.baseAddress!, g.count) == 0 } }
        XCTAssertTrue(identical, "m=\(m) n=\(n) k=\(k) lda=\(lda) ldc=\(ldc) bias=\(withBias)", file: file, line: line)
    }

    func withOptionalPointer<R>(_ x: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let x else { return body(nil) }
        return x.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    // MARK: - The reference and the packing (any CPU)

    func testReferenceComputesTheDocumentedFormula() {
        // a = [[1, −2, 3], [127, −128, 0]], w = [[1, 0, −1], [−1, 1, 1]]: acc = [[−2, 0], [127, −255]].
        let a: [Int8] = [1, -2, 3, 127, -128, 0], w: [Int8] = [1, 0, -1, -1, 1, 1]
        let bias: [Float] = [0.5, -1]
        var c = [Float](repeating: 0, count: 4)
        Int8GEMM.reference(m: 2, n: 2, k: 3, a: a, lda: 3, w: w, ldw: 3, scale: 0.1, bias: bias, c: &c, ldc: 2)
        let expected: [Float] = [Float(-2) * 0.1 + 0.5, 0 * 0.1 - 1, Float(127) * 0.1 + 0.5, Float(-255) * 0.1 - 1]
        XCTAssertEqual(c, expected)
        Int8GEMM.reference(m: 2, n: 2, k: 3, a: a, lda: 3, w: w, ldw: 3, scale: 0.1, bias: nil, c: &c, ldc: 2)
        XCTAssertEqual(c, [Float(-2) * 0.1, 0, Float(127) * 0.1, Float(-255) * 0.1])
    }

    /// With |acc| and every partial sum below 2^24, sgemm of the same integers in Float is exact in
    /// any summation order, so Float(acc)·scale + bias from it must match bit for bit.
    func checkAgainstSgemm(useAMX: Bool) {
        let m = 70, n = 45, k = 512
        var rng = SeededRandom(seed: 11)
        let a = codes(m * k, &rng).map { max($0, -127) }, w = codes(n * k, &rng).map { max($0, -127) }
        let bias: [Float] = (0..<n).map { _ in Float(rng.normal()) }
        let scale: Float = 0.0123
        var acc = [Float](repeating: 0, count: m * n), got = acc
        let af = a.map(Float.init), wf = w.map(Float.init)
        Float.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: af, lda: k, b: wf, ldb: k,
                   beta: 0, c: &acc, ldc: n)
        if useAMX {
            Int8GEMM.gemm(m: m, a: a, lda: k, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: scale, bias: bias,
                          c: &got, ldc: n)
        } else {
            Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: k, w: w, ldw: k, scale: scale, bias: bias, c: &got, ldc: n)
        }
        for i in 0..<m {
            for j in 0..<n {
                XCTAssertEqual(got[i * n + j].bitPattern, (acc[i * n + j] * scale + bias[j]).bitPattern, "(\(i), \(j))")
            }
        }
        // The check has teeth only if sgemm's sums are large: a few hundred thousand here.
        XCTAssertGreaterThan(acc.map(abs).max()!, 100_000)
    }

    func testReferenceMatchesSgemmOfTheSameIntegers() { checkAgainstSgemm(useAMX: false) }

    func testPackedLayoutIsTheDocumentedOne() {
        let n = 35, k = 70, ldw = 72
        var rng = SeededRandom(seed: 5)
        let w = codes(n * ldw, &rng).map { $0 == 0 ? 1 : $0 }  // no zeros, so padding is recognizable
        let size = Int8GEMM.PackedWeight.byteCount(n: n, k: k)
        XCTAssertEqual(size, 64 * 128)  // n → 64, k → 128
        let packed = Int8GEMM.PackedWeight(w, n: n, k: k, ldw: ldw)
        let bytes = packed.withUnsafeBytes { [Int8]($0.bindMemory(to: Int8.self)) }
        XCTAssertEqual(bytes.count, size)
        for col in 0..<64 {
            for p in 0..<128 {
                let step = p / 64, q = p % 64
                let offset = (col / 32) * 2 * 2048 + step * 2048 + ((col % 32) / 16) * 1024 + 64 * (q / 4) + 4 * (col % 16) + q % 4
                let expected: Int8 = col < n && p < k ? w[col * ldw + p] : 0
                if bytes[offset] != expected {
                    XCTFail("column \(col), k \(p): \(bytes[offset]) at \(offset), expected \(expected)")
                    return
                }
            }
        }
    }

    // MARK: - AMX against the reference

    func testAMXMatchesReferenceOverShapes() throws {
        try requireAMX()
        var variant: UInt64 = 0
        for m in [0, 1, 15, 16, 17, 33, 832] {
            for n in [1, 3, 16, 17, 130] {
                for k in [1, 63, 64, 65, 128, 200, 512] {
                    variant += 1
                    // Every third case packed (lda = k, ldc = n), the others with gaps; bias on every other.
                    let lda = variant % 3 == 0 ? k : k + Int(variant % 7) * 9 + 1
                    let ldc = variant % 3 == 1 ? n : n + Int(variant % 5) + 1
                    compare(m: m, n: n, k: k, lda: lda, ldc: ldc, withBias: variant % 2 == 0, seed: variant)
                }
            }
        }
    }

    func testAMXMatchesSgemmOfTheSameIntegers() throws {
        try requireAMX()
        checkAgainstSgemm(useAMX: true)
    }

    /// ±128·±127 products at k = 512: |acc| reaches 8.4·10^6, close to the 2^24 limit of exact
    /// int → float conversion, and each sign pattern must come out exact.
    func testExtremeCodesAtK512() throws {
        try requireAMX()
        compare(m: 33, n: 17, k: 512, lda: 512, ldc: 17, withBias: false, extreme: true, seed: 101)
        compare(m: 47, n: 130, k: 512, lda: 515, ldc: 131, withBias: true, extreme: true, seed: 102)
        // All −128 against all −128: acc = 512·16384 = 2^23 in every entry.
        let m = 20, n = 33, k = 512
        let a = [Int8](repeating: -128, count: m * k), w = [Int8](repeating: -128, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        Int8GEMM.gemm(m: m, a: a, lda: k, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: 0.5, bias: nil, c: &c, ldc: n)
        XCTAssertEqual(c, [Float](repeating: 4_194_304, count: m * n))
    }

    /// A ends exactly at a page boundary followed by an inaccessible page: reading one byte past the
    /// last row's k bytes crashes the test.
    func testReadsNoByteBeyondTheLastRow() throws {
        try requireAMX()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for (m, k, lda) in [(17, 65, 70), (32, 64, 64), (33, 200, 200), (1, 1, 1), (64, 130, 140)] {
            let bytes = (m - 1) * lda + k
            let mapped = (bytes + page - 1) / page * page + page
            let base = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
            XCTAssertNotEqual(base, MAP_FAILED)
            defer { munmap(base, mapped) }
            XCTAssertEqual(mprotect(base + mapped - page, page, PROT_NONE), 0)
            let a = (base + mapped - page - bytes).bindMemory(to: Int8.self, capacity: bytes)
            var rng = SeededRandom(seed: UInt64(m * 1000 + k))
            for i in 0..<bytes { a[i] = Int8(truncatingIfNeeded: rng.next()) }
            let n = 19
            let w = codes(n * k, &rng)
            var got = [Float](repeating: 0, count: m * n), want = got
            Int8GEMM.gemm(m: m, a: a, lda: lda, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: 1, bias: nil,
                          c: &got, ldc: n)
            Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: lda, w: w, ldw: k, scale: 1, bias: nil, c: &want, ldc: n)
            XCTAssertEqual(got, want, "m=\(m) k=\(k) lda=\(lda)")
        }
    }

    /// Tile configuration is per-thread state: concurrent calls must not disturb each other.
    func testConcurrentCallsFromSeveralThreads() throws {
        try requireAMX()
        let jobs = 8
        let failures = Int8GEMMFailureCounter()
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            var rng = SeededRandom(seed: 900 + UInt64(job))
            let m = 64 + 16 * job + job, n = 48 + job, k = 128 + 33 * job
            let a = codes(m * k, &rng), w = codes(n * k, &rng)
            let packed = Int8GEMM.PackedWeight(w, n: n, k: k)
            var want = [Float](repeating: 0, count: m * n)
            Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: k, w: w, ldw: k, scale: 0.25, bias: nil, c: &want, ldc: n)
            for _ in 0..<20 {
                var got = [Float](repeating: 0, count: m * n)
                Int8GEMM.gemm(m: m, a: a, lda: k, weight: packed, scale: 0.25, bias: nil, c: &got, ldc: n)
                if got != want { failures.add() }
            }
        }
        XCTAssertEqual(failures.count, 0)
    }
}

private final class Int8GEMMFailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
