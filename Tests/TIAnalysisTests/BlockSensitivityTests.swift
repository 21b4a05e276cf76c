// Block traces and restricted eigenvalues against exact references, and the exact bit allocation
// against brute force over every assignment.
import XCTest
import TIAnalysis
import TILinalg

final class BlockSensitivityTests: XCTestCase {
    /// A dense symmetric 30×30 matrix with a shifted diagonal and blocks of 10, 12 and 8 coordinates (interleaved).
    private func blockedOperator() -> (DenseSymmetricOperator, [[Int]]) {
        var rng = SeededRandom(seed: 7)
        let n = 30
        var a = randomSymmetric(n, rng: &rng)
        for i in 0..<n { a[i * n + i] += Double(i % 5) }
        let b0 = Array(stride(from: 0, to: 30, by: 3))                 // 10 coordinates
        let b1 = (0..<30).filter { $0 % 3 == 1 } + [2, 5]                // 12
        let b2 = (0..<30).filter { $0 % 3 == 2 && $0 > 5 }               // 8
        return (DenseSymmetricOperator(matrix: a, n: n), [b0, b1.sorted(), b2])
    }

    func testBlockTracesSumToTheFullTraceOfTheSameProbes() throws {
        let (op, blocks) = blockedOperator()
        XCTAssertEqual(blocks.map(\.count).reduce(0, +), 30)
        var rng = SeededRandom(seed: 11)
        let r = try BlockHutchinsonTrace(probes: 40).estimate(op, blocks: blocks, rng: &rng)
        XCTAssertEqual(r.blocks.map(\.mean).reduce(0, +), r.full.mean, accuracy: 1e-10 * max(1, abs(r.full.mean)))
        // The full estimate is Hutchinson's with the same probes: the same seed gives the same mean.
        var again = SeededRandom(seed: 11)
        let h = try HutchinsonTrace(minProbes: 40, maxProbes: 40, tolerance: 0).estimate(op, rng: &again)
        XCTAssertEqual(r.full.mean, h.mean, accuracy: 1e-10 * max(1, abs(h.mean)))
        XCTAssertEqual(r.full.stderr, h.stderr, accuracy: 1e-10 * max(1, h.stderr))
        // Each block's estimate within four standard errors of its exact diagonal sum.
        let n = op.dimension
        for (b, est) in zip(blocks, r.blocks) {
            let exact = b.reduce(0.0) { $0 + op.matrix[$1 * n + $1] }
            XCTAssertLessThan(abs(est.mean - exact), 4 * est.stderr, "block of \(b.count): \(est.mean) ± \(est.stderr), exact \(exact)")
        }
    }

    func testBlockTracesOfADiagonalMatrixAreExact() throws {
        let d = (0..<12).map { Double($0) - 3.5 }
        var rng = SeededRandom(seed: 3)
        let r = try BlockHutchinsonTrace(probes: 3).estimate(DiagonalOperator(d), blocks: [[0, 1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11]], rng: &rng)
        XCTAssertEqual(r.blocks[0].mean, d[0..<4].reduce(0, +), accuracy: 1e-12)
        XCTAssertEqual(r.blocks[1].mean, d[4...].reduce(0, +), accuracy: 1e-12)
        XCTAssertEqual(r.blocks[0].stderr, 0, accuracy: 1e-12)
    }

    func testRestrictedTopEigenvaluesOfABlockDiagonalQuadraticAreItsBlocks() throws {
        // H = diag(A, B, C) with known spectra, each block rotated; a block's restricted operator sees its own top eigenvalue.
        let spectra: [[Double]] = [[5, 1, -2, 0.5], [3, 2.9, 1, 0, -1], [0.7, 0.2, 0.1]]
        var rng = SeededRandom(seed: 5)
        let n = spectra.map(\.count).reduce(0, +)
        var h = [Double](repeating: 0, count: n * n)
        var coordinates: [[Int]] = []
        var start = 0
        for s in spectra {
            let m = matrixWithSpectrum(s, rng: &rng), k = s.count
            for i in 0..<k { for j in 0..<k { h[(start + i) * n + start + j] = m[i * k + j] } }
            coordinates.append(Array(start..<(start + k)))
            start += k
        }
        let full = DenseSymmetricOperator(matrix: h, n: n)
        for (s, c) in zip(spectra, coordinates) {
            var r = SeededRandom(seed: 9)
            let e = try PowerIteration(count: 1, tolerance: 1e-10, maxIterations: 5000).topEigenpairs(of: SubspaceOperator(base: full, coordinates: c), rng: &r)
            let top = s.max { abs($0) < abs($1) }!  // power iteration finds the largest magnitude
            XCTAssertEqual(e.result.values[0], top, accuracy: 1e-6, "block spectrum \(s)")
        }
    }

    /// Every assignment of one option per block, by enumeration.
    private func bruteForce(_ options: [[AllocationOption]]) -> [(size: Int, cost: Double)] {
        var out = [(size: 0, cost: 0.0)]
        for block in options { out = out.flatMap { p in block.map { (p.size + $0.size, p.cost + $0.cost) } } }
        return out
    }

    private func toyProblem(seed: UInt64) -> [[AllocationOption]] {
        var rng = SeededRandom(seed: seed)
        let bits = [2, 2, 3, 4, 8]  // ternary and 2 bits share a size, as in the model
        return (0..<4).map { _ in
            let n = 16 * (1 + Int(rng.uniform() * 8)), sensitivity = rng.uniform() * 3
            return bits.enumerated().map { k, b in
                AllocationOption(size: n * b / 8 + 4, cost: sensitivity * pow(2, -Double(b)) * (k == 1 ? 1.7 : 1) + (rng.uniform() < 0.2 ? -0.01 : 0))
            }
        }
    }

    func testAllocationMatchesBruteForceAndNeverExceedsTheBudget() {
        for seed in UInt64(1)...6 {
            let options = toyProblem(seed: seed)
            let all = bruteForce(options)
            XCTAssertEqual(all.count, 625)
            let frontier = ParetoAllocation.frontier(options)
            let sizes = Set(all.map(\.size)).sorted()
            for budget in [sizes.first! - 1] + sizes + [sizes.last! + 100] {
                let feasible = all.filter { $0.size <= budget }
                let best = ParetoAllocation.best(on: frontier, budget: budget)
                guard let minCost = feasible.map(\.cost).min() else { XCTAssertNil(best); continue }
                guard let best else { return XCTFail("no allocation under \(budget), brute force has one") }
                XCTAssertLessThanOrEqual(best.size, budget)
                XCTAssertEqual(best.cost, minCost, accuracy: 1e-12, "seed \(seed) budget \(budget)")
                // The chosen options add up to the point's size and cost.
                let size = zip(options, best.choice).reduce(0) { $0 + $1.0[$1.1].size }
                let cost = zip(options, best.choice).reduce(0.0) { $0 + $1.0[$1.1].cost }
                XCTAssertEqual(size, best.size)
                XCTAssertEqual(cost, best.cost, accuracy: 1e-12)
            }
        }
    }

    func testParetoFrontierIsMonotoneAndComplete() {
        for seed in UInt64(1)...6 {
            let options = toyProblem(seed: seed)
            let frontier = ParetoAllocation.frontier(options)
            for (a, b) in zip(frontier, frontier.dropFirst()) {
                XCTAssertLessThan(a.size, b.size)
                XCTAssertLessThan(b.cost, a.cost)
            }
            // Brute force's non-dominated set is exactly the frontier's (size, cost) pairs.
            let all = bruteForce(options)
            let nonDominated = all.filter { p in !all.contains { q in q.size <= p.size && q.cost <= p.cost && (q.size < p.size || q.cost < p.cost) } }
            let expected = Set(nonDominated.map { "\($0.size)" }).count
            XCTAssertEqual(frontier.count, expected, "seed \(seed)")
        }
    }
}
