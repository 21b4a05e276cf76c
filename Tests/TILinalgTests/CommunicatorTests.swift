import XCTest
@testable import TILinalg

/// The in-process rank group against hand-computed collectives: the reference the MPI back-end and
/// every data-parallel test lean on.
final class CommunicatorTests: XCTestCase {
    func testSharesCoverEveryItemOnceInOrder() {
        for count in [0, 1, 5, 7, 32] {
            for size in 1...5 {
                let shares = (0..<size).map { SingleProcess.share(of: count, rank: $0, size: size) }
                XCTAssertEqual(shares.flatMap { Array($0) }, Array(0..<count), "count \(count), size \(size)")
                XCTAssertLessThanOrEqual(shares.map(\.count).max()! - shares.map(\.count).min()!, 1)
            }
        }
    }

    func testSumIsTakenInRankOrderWithTheSameBitsOnEveryRank() throws {
        // 1 + 1e-16 + … depends on the order: summed in rank order the tiny terms vanish one by one.
        let parts: [[Double]] = [[1, 0.5], [1e-16, 0.25], [1e-16, -0.125], [-1, 2]]
        let expected = parts.dropFirst().reduce(parts[0]) { s, p in zip(s, p).map { $0 + $1 } }
        let sums = try ThreadGroup.run(ranks: 4) { comm -> [Double] in
            var x = parts[comm.rank]
            comm.sumInRankOrder(&x)
            return x
        }
        for s in sums { XCTAssertEqual(s, expected) }
        XCTAssertEqual(expected[0], 0, "the tiny terms were absorbed by 1 before -1 cancelled it")
    }

    func testMaximumBroadcastAndGather() throws {
        let out = try ThreadGroup.run(ranks: 3) { comm -> ([Double], [Float], [[UInt8]], Double) in
            var m = [Double(comm.rank), -Double(comm.rank)]
            comm.maximum(&m)
            var b: [Float] = comm.rank == 2 ? [7, 8] : [0, 0]
            comm.broadcast(&b, from: 2)
            let g = comm.allGather([UInt8(comm.rank), 9])
            comm.barrier()
            return (m, b, g, comm.sum(Double(comm.rank + 1)))
        }
        for o in out {
            XCTAssertEqual(o.0, [2, 0])
            XCTAssertEqual(o.1, [7, 8])
            XCTAssertEqual(o.2, [[0, 9], [1, 9], [2, 9]])
            XCTAssertEqual(o.3, 6)
        }
    }

    func testAFailingRankEndsTheGroupWithItsOwnError() {
        struct Broken: Error {}
        XCTAssertThrowsError(try ThreadGroup.run(ranks: 3) { comm -> Int in
            if comm.rank == 1 { throw Broken() }
            comm.barrier()  // the others would wait here for ever without the failure path
            return comm.rank
        }) { XCTAssertTrue($0 is Broken, "got \($0)") }
        XCTAssertThrowsError(try ThreadGroup.run(ranks: 2) { comm -> Int in
            if comm.rank == 0 { comm.abort("rank 0: bad input") }
            comm.barrier()
            return 0
        }) { XCTAssertEqual(($0 as? RankAborted)?.message, "rank 0: bad input") }
    }
}
