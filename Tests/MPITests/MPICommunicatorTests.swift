// MPICommunicator under mpirun: the collectives give every rank the same bits, equal to the rank-order
// definition (and to the thread group's); an abort on one rank ends the job; no launcher, no MPI.
import XCTest
import Foundation
import TILinalg
import TIMPI
import TITestSupport

final class MPICommunicatorTests: XCTestCase {
    var child: URL { BuiltExecutable.packageRoot().appendingPathComponent(".build/debug/tianalyze-mpi-child") }

    /// The child's inputs, restated: 1e16, −1e16, 1, 3 (Float: 3e7, −3e7, 1.75, 3) scaled per element.
    func input(rank r: Int, count n: Int) -> [Double] {
        let base: [Double] = [1e16, -1e16, 1, 3]
        return (0..<n).map { i in base[r % 4] * (1 + Double(i) / 8) + Double(r) / 7 }
    }
    func inputF(rank r: Int, count n: Int) -> [Float] {
        let base: [Float] = [3e7, -3e7, 1.75, 3]
        return (0..<n).map { i in base[r % 4] * (1 + Float(i) / 8) + Float(r) / 7 }
    }
    func hex(_ xs: [Double]) -> String { xs.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }

    /// Σ_r x_r by its definition: a left-to-right loop over ranks.
    func rankOrderSum<T: FloatingPoint>(_ parts: [[T]]) -> [T] {
        parts.dropFirst().reduce(parts[0]) { s, p in zip(s, p).map { $0 + $1 } }
    }

    func testCollectivesMatchTheRankOrderDefinitionOnEveryRank() throws {
        for (ranks, n) in [(2, 10), (3, 10), (4, 3)] {
            let r = try MPIRunner.run(ranks: ranks, child, ["collectives", "\(n)"], timeout: 60)
            XCTAssertFalse(r.timedOut, "mpirun -n \(ranks) hung")
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n").map(String.init).sorted()
            XCTAssertEqual(lines.count, ranks, r.stdout)
            let sum = rankOrderSum((0..<ranks).map { input(rank: $0, count: n) })
            let sumF = rankOrderSum((0..<ranks).map { inputF(rank: $0, count: n) }).map(Double.init)
            let maxima = (0..<n).map { i in (0..<ranks).map { Double((i + $0) % ranks) - 0.5 }.max()! }
            let gather = (0..<ranks).map { q in (Array("rank\(q)".utf8) + [UInt8](repeating: UInt8(q), count: q)).map(String.init).joined(separator: ".") }
            for q in 0..<ranks {
                XCTAssertEqual(lines[q], "rank \(q) sum \(hex(sum)) sumf \(hex(sumF)) max \(hex(maxima)) bcast \(hex([7.5, -2.25, 3])) gather \(gather.joined(separator: "|"))")
            }
            // The order matters for these inputs (so the test can tell rank order from another).
            if ranks == 3 {
                let reversed = rankOrderSum((0..<ranks).reversed().map { input(rank: $0, count: n) })
                XCTAssertNotEqual(hex(sum), hex(reversed))
            }
            // The thread group, which the library tests use in place of mpirun, agrees bit for bit.
            let threads = try ThreadGroup.run(ranks: ranks) { comm -> [Double] in
                var x = self.input(rank: comm.rank, count: n)
                comm.sumInRankOrder(&x)
                return x
            }
            XCTAssertEqual(hex(threads[0]), hex(sum))
        }
    }

    func testAnAbortOnOneRankEndsEveryRankWithItsLine() throws {
        let r = try MPIRunner.run(ranks: 2, child, ["fail-on-rank", "1"], timeout: 60)
        XCTAssertFalse(r.timedOut, "a rank waiting in a barrier hung after another rank's abort")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.components(separatedBy: "Error: rank 1 failed on purpose").count - 1, 1, r.stderr)
        XCTAssertFalse(r.stdout.contains("passed the barrier"), r.stdout)
    }

    func testWithoutALauncherTheSameBinaryIsOneProcess() throws {
        let r = try LaunchedProcess.run(child, ["launch"], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "single\n")
        let ranks = try MPIRunner.run(ranks: 2, child, ["launch"], timeout: 60)
        XCTAssertEqual(ranks.stdout.split(separator: "\n").sorted(), ["rank 0 of 2", "rank 1 of 2"], ranks.stderr)
    }

    func testLaunchKindFromEnvironment() {
        XCTAssertEqual(MPILaunch.kind(environment: [:]), .singleProcess)
        XCTAssertEqual(MPILaunch.kind(environment: ["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "2"]), .ranks(size: 4))
        XCTAssertEqual(MPILaunch.kind(environment: ["OMPI_COMM_WORLD_SIZE": "1"]), .singleProcess)
        XCTAssertEqual(MPILaunch.kind(environment: ["PMI_SIZE": "2", "PMI_RANK": "1"]), .ranks(size: 2))
        XCTAssertEqual(MPILaunch.kind(environment: ["PMIX_RANK": "0"]), .ranks(size: nil))
        // sbatch sets SLURM_NTASKS in the batch script itself: ranks only inside an srun step.
        XCTAssertEqual(MPILaunch.kind(environment: ["SLURM_NTASKS": "8", "SLURM_PROCID": "0"]), .singleProcess)
        XCTAssertEqual(MPILaunch.kind(environment: ["SLURM_NTASKS": "8", "SLURM_STEP_ID": "0", "SLURM_PROCID": "3"]), .ranks(size: 8))
        XCTAssertEqual(MPILaunch.kind(environment: ["SLURM_NTASKS": "1", "SLURM_STEP_ID": "0"]), .singleProcess)
        XCTAssertEqual(MPILaunch.launchRank(environment: ["SLURM_NTASKS": "8", "SLURM_STEP_ID": "0", "SLURM_PROCID": "3"]), 3)
        XCTAssertEqual(MPILaunch.launchRank(environment: ["SLURM_NTASKS": "8", "SLURM_PROCID": "3"]), 0)
    }
}
