import Foundation
import XCTest
import TILinalg
import TITestSupport

/// Every kernel this host can run against the scalar definition, bit for bit. Kernels it cannot run
/// (on an AVX2-only host: AVX-VNNI, AVX-512 VNNI, AMX) are compiled but not executed here.
final class Int8GEMMTests: XCTestCase {
    /// The weight ranges the kernels treat differently: ternary (AVX2 widens every 16 groups), |w| ≤ 64
    /// (AVX2 widens every group), and full int8 (AVX2 hands over to the scalar kernel).
    enum WeightRange: CaseIterable { case ternary, sevenBit, full }

    func weights(_ count: Int, _ range: WeightRange, _ rng: inout SeededRandom, extreme: Bool = false) -> [Int8] {
        switch range {
        case .full: return codes(count, &rng, extreme: extreme)
        case .ternary: return (0..<count).map { _ in extreme ? (rng.next() & 1 == 0 ? -1 : 1) : Int8(rng.below(3) - 1) }
        case .sevenBit: return (0..<count).map { _ in extreme ? (rng.next() & 1 == 0 ? -64 : 64) : Int8(rng.below(129) - 64) }
        }
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

    /// Runs `kernel` and the reference on the same data; c is prefilled with a NaN payload so that
    /// writes outside the m × n entries (into the ldc gaps or past the end) show up as well.
    func compare(_ kernel: Int8GEMM.Kernel, m: Int, n: Int, k: Int, lda: Int, ldc: Int, withBias: Bool,
                 range: WeightRange = .full, extreme: Bool = false, seed: UInt64,
                 file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRandom(seed: seed)
        let a = codes(max(m * lda, 1), &rng, extreme: extreme)
        let ldw = k + Int(seed % 3)
        let w = weights(n * ldw, range, &rng, extreme: extreme)
        let bias: [Float]? = withBias ? (0..<n).map { _ in Float(rng.normal()) } : nil
        let scale = Float(0.001 + rng.uniform() * 0.05)
        let sentinel = Float(bitPattern: 0x7FC0_1234)
        var got = [Float](repeating: sentinel, count: m * ldc + 1), want = got
        let packed = w.withUnsafeBufferPointer { Int8GEMM.PackedWeight($0.baseAddress!, n: n, k: k, ldw: ldw) }
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                withOptionalPointer(bias) { bp in
                    Int8GEMM.gemm(m: m, a: ap.baseAddress!, lda: lda, weight: packed, scale: scale, bias: bp,
                                  c: &got, ldc: ldc, kernel: kernel)
                    Int8GEMM.reference(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, w: wp.baseAddress!, ldw: ldw,
                                       scale: scale, bias: bp, c: &want, ldc: ldc)
                }
            }
        }
        let identical = got.withUnsafeBytes { g in want.withUnsafeBytes { memcmp(g.baseAddress!, $0.baseAddress!, g.count) == 0 } }
        XCTAssertTrue(identical, "\(kernel.name) \(range) m=\(m) n=\(n) k=\(k) lda=\(lda) ldc=\(ldc) bias=\(withBias)",
                      file: file, line: line)
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
    func checkAgainstSgemm(kernel: Int8GEMM.Kernel?) {
        let m = 70, n = 45, k = 512
        var rng = SeededRandom(seed: 11)
        let a = codes(m * k, &rng).map { max($0, -127) }, w = codes(n * k, &rng).map { max($0, -127) }
        let bias: [Float] = (0..<n).map { _ in Float(rng.normal()) }
        let scale: Float = 0.0123
        var acc = [Float](repeating: 0, count: m * n), got = acc
        let af = a.map(Float.init), wf = w.map(Float.init)
        Float.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: af, lda: k, b: wf, ldb: k,
                   beta: 0, c: &acc, ldc: n)
        if let kernel {
            Int8GEMM.gemm(m: m, a: a, lda: k, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: scale, bias: bias,
                          c: &got, ldc: n, kernel: kernel)
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

    func testReferenceMatchesSgemmOfTheSameIntegers() { checkAgainstSgemm(kernel: nil) }

    func testPackedLayoutIsTheDocumentedOne() {
        let n = 35, k = 70, ldw = 72
        var rng = SeededRandom(seed: 5)
        let w = codes(n * ldw, &rng).map { $0 == 0 ? 1 : $0 }  // no zeros, so padding is recognizable
        let size = Int8GEMM.PackedWeight.byteCount(n: n, k: k)
        XCTAssertEqual(size, 64 * 128 + 4 * 64 + 64)  // n → 64, k → 128, then the trailer
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
        // The trailer: Σ_p w[j][p] per column (0 past n), then max |w|.
        let trailer = packed.withUnsafeBytes { raw in (0..<65).map { raw.load(fromByteOffset: 64 * 128 + 4 * $0, as: Int32.self) } }
        for col in 0..<64 {
            let sum = col < n ? (0..<k).reduce(0) { $0 + Int(w[col * ldw + $1]) } : 0
            XCTAssertEqual(Int(trailer[col]), sum, "column sum \(col)")
        }
        let maxAbs = (0..<n).flatMap { c in (0..<k).map { abs(Int(w[c * ldw + $0])) } }.max()!
        XCTAssertEqual(Int(trailer[64]), maxAbs)
    }

    // MARK: - Every kernel this host runs against the reference

    func testEveryKernelMatchesReferenceOverShapes() {
        XCTAssertTrue(Int8GEMM.Kernel.available.count >= 2 || !Int8GEMM.Kernel.avx2.isAvailable,
                      "an AVX2 host runs the scalar kernel and at least one vector kernel")
        for kernel in Int8GEMM.Kernel.available {
            var variant: UInt64 = 0
            for m in [0, 1, 3, 5, 15, 17, 33, 100] {
                for n in [1, 3, 16, 17, 33, 130] {
                    for k in [1, 2, 5, 63, 64, 65, 200, 512] {
                        variant += 1
                        // Every third case packed (lda = k, ldc = n), the others with gaps; bias on every other.
                        let lda = variant % 3 == 0 ? k : k + Int(variant % 7) * 9 + 1
                        let ldc = variant % 3 == 1 ? n : n + Int(variant % 5) + 1
                        let range = WeightRange.allCases[Int(variant % 3)]
                        compare(kernel, m: m, n: n, k: k, lda: lda, ldc: ldc, withBias: variant % 2 == 0, range: range,
                                seed: variant)
                    }
                }
            }
            // Many row blocks and column panels (the panels hold 256 KiB of packed weights).
            compare(kernel, m: 259, n: 300, k: 1000, lda: 1003, ldc: 301, withBias: true, range: .ternary, seed: 77)
        }
    }

    func testEveryKernelMatchesSgemmOfTheSameIntegers() {
        for kernel in Int8GEMM.Kernel.available { checkAgainstSgemm(kernel: kernel) }
    }

    /// The largest products of either sign at k = 512 in each weight range: |acc| reaches 8.4·10^6
    /// for full int8, close to the 2^24 limit of exact int → float conversion; |w| = 64 puts AVX2's
    /// int16 pair sums at 2·255·64 = 32640, 127 below saturation.
    func testExtremeCodesAtK512() {
        for kernel in Int8GEMM.Kernel.available {
            for (i, range) in WeightRange.allCases.enumerated() {
                let seed = 101 + 10 * UInt64(i)
                compare(kernel, m: 33, n: 17, k: 512, lda: 512, ldc: 17, withBias: false, range: range, extreme: true, seed: seed)
                compare(kernel, m: 47, n: 130, k: 512, lda: 515, ldc: 131, withBias: true, range: range, extreme: true,
                        seed: seed + 1)
            }
            // All −128 against all −128: acc = 512·16384 = 2^23 in every entry.
            let m = 20, n = 33, k = 512
            let a = [Int8](repeating: -128, count: m * k), w = [Int8](repeating: -128, count: n * k)
            var c = [Float](repeating: 0, count: m * n)
            Int8GEMM.gemm(m: m, a: a, lda: k, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: 0.5, bias: nil, c: &c,
                          ldc: n, kernel: kernel)
            XCTAssertEqual(c, [Float](repeating: 4_194_304, count: m * n), kernel.name)
        }
    }

    /// A ends exactly at a page boundary followed by an inaccessible page: reading one byte past the
    /// last row's k bytes crashes the test.
    func testReadsNoByteBeyondTheLastRow() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for kernel in Int8GEMM.Kernel.available {
            for (m, k, lda) in [(17, 65, 70), (32, 64, 64), (33, 200, 200), (1, 1, 1), (64, 130, 140), (5, 3, 3)] {
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
                let w = weights(n * k, .ternary, &rng)
                var got = [Float](repeating: 0, count: m * n), want = got
                Int8GEMM.gemm(m: m, a: a, lda: lda, weight: Int8GEMM.PackedWeight(w, n: n, k: k), scale: 1, bias: nil,
                              c: &got, ldc: n, kernel: kernel)
                Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: lda, w: w, ldw: k, scale: 1, bias: nil, c: &want, ldc: n)
                XCTAssertEqual(got, want, "\(kernel.name) m=\(m) k=\(k) lda=\(lda)")
            }
        }
    }

    /// The picked kernel keeps no state between calls (AMX: the tile configuration is per thread):
    /// concurrent calls must not disturb each other.
    func testConcurrentCallsFromSeveralThreads() {
        let jobs = 8
        let failures = Int8GEMMFailureCounter()
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            var rng = SeededRandom(seed: 900 + UInt64(job))
            let m = 64 + 16 * job + job, n = 48 + job, k = 128 + 33 * job
            let a = codes(m * k, &rng), w = weights(n * k, job % 2 == 0 ? .ternary : .full, &rng)
            let packed = Int8GEMM.PackedWeight(w, n: n, k: k)
            var want = [Float](repeating: 0, count: m * n)
            Int8GEMM.reference(m: m, n: n, k: k, a: a, lda: k, w: w, ldw: k, scale: 0.25, bias: nil, c: &want, ldc: n)
            for _ in 0..<20 {
                var got = [Float](repeating: 0, count: m * n)
                Int8GEMM.gemm(m: m, a: a, lda: k, weight: packed, scale: 0.25, bias: nil, c: &got, ldc: n)
                if got != want { failures.add() }
            }
        }
        XCTAssertEqual(failures.count, 0, "picked kernel \(Int8GEMM.kernelName)")
    }
}

private final class Int8GEMMFailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
