// One Linear of Q8BERT's int8 export in integer arithmetic (IntegerLinear): its int32 sums against
// sums done by hand in Int64, on every kernel this host runs and the plain int32 loops; the bound
// that keeps them inside int32 (and inside Float's exact integers, which the kernel route needs) at
// the embedded model's widths; and the same bits on any thread count.
import XCTest
import TICore
import TILinalg

final class Q8BERTIntegerLinearTests: XCTestCase {
    /// Σ_p x[i, p]·w[j, p] + b[j] in Int64: the definition, independent of the code under test.
    func handSums(_ x: [Int8], _ w: [Int8], _ b: [Int32], m: Int, n: Int, k: Int) -> [Int64] {
        var out: [Int64] = []
        for i in 0..<m {
            for j in 0..<n {
                var s = Int64(b[j])
                for p in 0..<k { s += Int64(x[i * k + p]) * Int64(w[j * k + p]) }
                out.append(s)
            }
        }
        return out
    }

    func randomCodes(_ count: Int, seed: UInt64, limit: Int = 127) -> [Int8] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in Int8(rng.below(2 * limit + 1) - limit) }
    }

    func testTwoByThreeByHand() throws {
        // acc₀ = 2·1 − 3·2 + 127·3 + 10 = 387;  acc₁ = 2·(−127) − 3·100 + 127·(−64) − 5 = −8687.
        let x: [Int8] = [2, -3, 127], w: [Int8] = [1, 2, 3, -127, 100, -64], b: [Int32] = [10, -5]
        let step: Float = 0.0123
        for kernel in Int8GEMM.Kernel.available {
            let layer = try IntegerLinear(weightCodes: w, outFeatures: 2, inFeatures: 3, biasCodes: b, inputStep: 0.5,
                                          outputStep: step, kernel: kernel)
            guard case .kernel(let k, let parts) = layer.route else { return XCTFail("\(kernel.name): not the kernel route") }
            XCTAssertEqual(k, kernel)
            XCTAssertEqual(parts.count, kernel == .avx2 ? 2 : 1, "AVX2 takes |w| ≤ 64 only: 127 and 100 are split")
            XCTAssertEqual(x.withUnsafeBufferPointer { layer.sums($0.baseAddress!, rows: 1) }, [387, -8687], kernel.name)
            var y = [Float](repeating: .nan, count: 2)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, rows: 1, y: $0.baseAddress!) } }
            XCTAssertEqual(y, [Float(387 * Double(step)), Float(-8687 * Double(step))], kernel.name)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, rows: 0, y: $0.baseAddress!) } }
            XCTAssertEqual(x.withUnsafeBufferPointer { layer.sums($0.baseAddress!, rows: 0) }, [], "no rows, no sums")
        }
    }

    /// Shapes around the kernels' tiles (32 columns, 64 of k, 16 or 32 rows), every kernel, the split
    /// parts and the int32 loops: the same sums as the Int64 definition.
    func testSumsEqualTheHandSumsOnEveryRoute() throws {
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 33, 65), (40, 31, 130)] {
            let x = randomCodes(m * k, seed: UInt64(m * 1000 + k)), w = randomCodes(n * k, seed: UInt64(n + 7))
            let b = (0..<n).map { Int32($0 * 997 - 5000) }
            let want = handSums(x, w, b, m: m, n: n, k: k).map { Int32($0) }
            for kernel in Int8GEMM.Kernel.available {
                let layer = try IntegerLinear(weightCodes: w, outFeatures: n, inFeatures: k, biasCodes: b, inputStep: 1,
                                              outputStep: 1, kernel: kernel)
                x.withUnsafeBufferPointer { xp in
                    XCTAssertEqual(layer.sums(xp.baseAddress!, rows: m), want, "\(kernel.name) \(m)×\(n)×\(k)")
                    XCTAssertEqual(layer.referenceSums(xp.baseAddress!, rows: m), want, "int32 loops \(m)×\(n)×\(k)")
                }
            }
        }
    }

    /// The embedded model (hidden 128, FFN 512, BertConfig.small) at the worst codes, ±127 everywhere:
    /// |Σ x·w| ≤ 127·127·512 < 2^24, so the sums fit int32 and Float holds them exactly — the kernel
    /// route runs on every layer of it, on any host. Wider layers that could leave Float's exact
    /// integers take the int32 loops; sums that could leave int32 are refused.
    func testWorstCaseSumsAtTheEmbeddedWidthsStayExact() throws {
        let config = BertConfig.small(vocabSize: 100, maxPositions: 64, numLabels: 2)
        let widths = Set([config.hiddenSize, config.intermediateSize])
        XCTAssertEqual(widths.max(), 512)
        for k in widths {
            let n = 8, w = [Int8](repeating: 127, count: n * k), b = [Int32](repeating: -1_000_000, count: n)
            let bound = IntegerLinear.accumulatorBound(w, outFeatures: n, inFeatures: k, biasCodes: b)
            XCTAssertEqual(bound, 127 * 127 * Int64(k) + 1_000_000)
            XCTAssertLessThan(bound - 1_000_000, 1 << 24, "the products alone stay exact in Float")
            XCTAssertLessThan(bound, Int64(Int32.max))
            let x = [Int8](repeating: -127, count: 2 * k) + [Int8](repeating: 127, count: k)
            let want = handSums(x, w, b, m: 3, n: n, k: k).map { Int32($0) }
            for kernel in Int8GEMM.Kernel.available {
                let layer = try IntegerLinear(weightCodes: w, outFeatures: n, inFeatures: k, biasCodes: b, inputStep: 1, outputStep: 1, kernel: kernel)
                guard case .kernel = layer.route else { return XCTFail("\(kernel.name) at k = \(k): \(layer.route)") }
                XCTAssertEqual(x.withUnsafeBufferPointer { layer.sums($0.baseAddress!, rows: 3) }, want, "\(kernel.name) k = \(k)")
            }
        }
        // BERT-base's FFN2 (k = 3072) at the worst codes passes 2^24: int32 loops, still exact.
        let k = 3072, w = [Int8](repeating: -127, count: 2 * k)
        let wide = try IntegerLinear(weightCodes: w, outFeatures: 2, inFeatures: k, biasCodes: [7, 7], inputStep: 1, outputStep: 1)
        guard case .int32Loops = wide.route else { return XCTFail("\(wide.route)") }
        let x = [Int8](repeating: 127, count: k)
        XCTAssertEqual(x.withUnsafeBufferPointer { wide.sums($0.baseAddress!, rows: 1) }, [Int32(-127 * 127 * k + 7), Int32(-127 * 127 * k + 7)])
        // A bias that would wrap int32 with the products is refused, with the bound.
        XCTAssertThrowsError(try IntegerLinear(weightCodes: [127], outFeatures: 1, inFeatures: 1, biasCodes: [Int32.max - 100],
                                               inputStep: 1, outputStep: 1)) {
            XCTAssertEqual(($0 as? IntegerLinear.Overflow)?.bound, Int64(Int32.max) - 100 + 127 * 127)
        }
    }

    /// Row blocks split across threads give the same bits as one thread.
    func testForwardIsTheSameOnOneAndTwoThreads() throws {
        let (m, n, k) = (256, 128, 128)  // 4·2^20 multiply-adds: two row blocks
        let x = randomCodes(m * k, seed: 3), w = randomCodes(n * k, seed: 4)
        let layer = try IntegerLinear(weightCodes: w, outFeatures: n, inFeatures: k, biasCodes: (0..<n).map { Int32($0) },
                                      inputStep: 0.01, outputStep: 3.7e-5)
        func run(_ threads: Int) -> [UInt32] {
            let saved = Parallel.workers
            Parallel.workers = threads
            defer { Parallel.workers = saved }
            var y = [Float](repeating: .nan, count: m * n)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, rows: m, y: $0.baseAddress!) } }
            return y.map(\.bitPattern)
        }
        let one = run(1)
        XCTAssertEqual(one, run(2))
        let want = handSums(x, w, (0..<n).map { Int32($0) }, m: m, n: n, k: k).map { Float(Double($0) * Double(Float(3.7e-5))).bitPattern }
        XCTAssertEqual(one, want)
    }
}
