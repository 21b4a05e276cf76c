// The built binary under `mpirun -n 2` against the same binary as one process, on a tiny teacher:
// the Hessian results and the landscape grid are those of the single process (rank 0 writes them,
// the landscape merged without `tianalyze merge`), and a bad input ends both ranks with one line.
import XCTest
import Foundation
import TICore
import TIData
import TITestSupport

final class MPIRunTests: XCTestCase {
    func tempRuns() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-mpi-\(UUID().uuidString)")
        let cfg = BertConfig(vocabSize: SymbolVocabulary.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8,
                             maxPositions: 64, numLabels: 8)
        try Checkpoint.save(BertModel(config: cfg).initialParameters(seed: 1, std: 0.3), config: cfg, to: dir.appendingPathComponent("teacher-count"))
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// One process, then two ranks of one thread each, with the same arguments and separate outputs.
    func runBoth(_ args: [String], runs: URL, timeout: TimeInterval = 120) throws -> (single: URL, ranks: URL, stdout: String) {
        let single = runs.appendingPathComponent("single"), ranks = runs.appendingPathComponent("ranks")
        let one = try LaunchedProcess.run(BuiltExecutable.url, args + ["--runs", runs.path, "--out", single.path, "--threads", "1"],
                                          environment: MPIRunner.environment, timeout: timeout)
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try MPIRunner.run(ranks: 2, BuiltExecutable.url, args + ["--runs", runs.path, "--out", ranks.path, "--threads", "1"], timeout: timeout)
        XCTAssertFalse(two.timedOut, "mpirun -n 2 hung: \(two.stderr)")
        XCTAssertEqual(two.status, 0, two.stderr)
        return (single, ranks, two.stdout)
    }

    func testHessianUnderTwoRanksWritesTheSingleProcessResults() throws {
        let runs = try tempRuns()
        let (single, ranks, stdout) = try runBoth(["hessian", "--at", "init", "--mode", "KD", "--samples", "12", "--batch-size", "4",
                                                   "--top-k", "2", "--max-iter", "12", "--lanczos-steps", "6", "--trace-probes", "3",
                                                   "--per-example", "3", "--hvp-difference", "central", "--quiet"], runs: runs)
        XCTAssertTrue(stdout.contains("hessian over 2 ranks × 1 threads"), stdout)
        XCTAssertEqual(stdout.components(separatedBy: "top eigenvalues").count - 1, 1, "rank 0 alone prints: \(stdout)")
        let a = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: single.appendingPathComponent("hessian.json")))
        let b = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: ranks.appendingPathComponent("hessian.json")))
        XCTAssertEqual(a.hvpCount, b.hvpCount)
        let pairs = zip(a.eigenvalues, b.eigenvalues).map { $0 } + [(a.report.trace.mean, b.report.trace.mean)]
            + zip(a.report.largestEigenvalues.values + a.report.smallestEigenvalues.values,
                  b.report.largestEigenvalues.values + b.report.smallestEigenvalues.values).map { $0 }
        XCTAssertEqual(pairs.count, 5)
        for (x, y) in pairs { XCTAssertLessThanOrEqual(abs(x - y), 1e-10 * max(abs(x), abs(y)), "\(x) vs \(y)") }
        for file in ["eigs-KD.csv", "per-example-KD.csv"] {
            XCTAssertEqual(try Data(contentsOf: single.appendingPathComponent(file)), try Data(contentsOf: ranks.appendingPathComponent(file)), file)
        }
    }

    func testLandscapeUnderTwoRanksIsTheSingleProcessGridMergedByRankZero() throws {
        let runs = try tempRuns()
        let (single, ranks, _) = try runBoth(["landscape", "--at", "init", "--mode", "KD", "--grid", "3", "--eval-size", "8",
                                              "--batch-size", "4", "--quiet"], runs: runs)
        let files = try FileManager.default.contentsOfDirectory(atPath: single.path).filter { $0.hasPrefix("grid-") }.sorted()
        XCTAssertEqual(files.count, 3, "\(files)")  // KD × (loss, task_loss, metric)
        for file in files + ["landscape.csv"] {
            XCTAssertEqual(try Data(contentsOf: single.appendingPathComponent(file)), try Data(contentsOf: ranks.appendingPathComponent(file)), file)
        }
        let shards = try FileManager.default.contentsOfDirectory(atPath: ranks.path).filter { $0.hasPrefix("shard-") }.sorted()
        XCTAssertEqual(shards, ["shard-0-of-2", "shard-1-of-2"])
    }

    /// QAT data-parallel: two ranks train the student one process trains (Float rounding apart: only
    /// the grouping of the gradient sum differs), rank 0 alone writes and prints, and the run records 2 ranks.
    func testQATUnderTwoRanksTrainsTheSingleProcessStudent() throws {
        let runs = try tempRuns()
        let (single, ranks, stdout) = try runBoth(["qat", "--mode", "KD", "--epochs", "1", "--batch-size", "1000",
                                                   "--eval-every", "6", "--quiet"], runs: runs, timeout: 300)
        XCTAssertEqual(stdout.components(separatedBy: "KD on count").count - 1, 1, "rank 0 alone prints: \(stdout)")
        let meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: ranks.appendingPathComponent("metadata.json")))
        XCTAssertEqual(meta.ranks, 2)
        func lastEval(_ dir: URL) throws -> [Double] {
            let lines = try String(contentsOf: dir.appendingPathComponent("evals.csv"), encoding: .utf8).split(separator: "\n")
            XCTAssertGreaterThan(lines.count, 2)
            return lines.last!.split(separator: ",").compactMap { Double($0) }
        }
        let (a, b) = (try lastEval(single), try lastEval(ranks))
        XCTAssertEqual(a.count, b.count)
        // 12 steps: the same steps and metrics, losses to Float rounding amplified by the steps (a ternary
        // weight near its threshold flips on a rounding difference; over a few hundred steps the runs
        // drift apart as with any other change of summation order, see docs/distributed.md).
        for (x, y) in zip(a, b) { XCTAssertLessThanOrEqual(abs(x - y), 1e-3 * max(1, abs(x)), "\(a) vs \(b)") }
    }

    func testABadCheckpointEndsBothRanksWithOneLine() throws {
        let runs = try tempRuns()
        let bad = runs.appendingPathComponent("bad")
        try FileManager.default.copyItem(at: runs.appendingPathComponent("teacher-count"), to: bad)
        try Data([200, 0, 0, 0, 0, 0, 0, 0]).write(to: bad.appendingPathComponent("model.safetensors"))
        let r = try MPIRunner.run(ranks: 2, BuiltExecutable.url, ["hessian", "--runs", runs.path, "--checkpoint", bad.path, "--at", "init",
                                                                   "--quiet", "--out", runs.appendingPathComponent("out").path], timeout: 60)
        XCTAssertFalse(r.timedOut, "a failing run under mpirun hung")
        XCTAssertNotEqual(r.status, 0)
        let ours = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(ours.count, 1, r.stderr)
        XCTAssertTrue(ours.first?.contains("model.safetensors") ?? false, r.stderr)
    }

    func testACommandThatDoesNotSplitItsWorkRefusesRanks() throws {
        let runs = try tempRuns()
        let r = try MPIRunner.run(ranks: 2, BuiltExecutable.url, ["eval", "--runs", runs.path, "--quiet",
                                                                   "--checkpoint", runs.appendingPathComponent("teacher-count").path], timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertNotEqual(r.status, 0)
        let ours = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(ours, ["Error: this command runs as one process; start it without mpirun/srun (finetune, qat, hessian and landscape split their work across ranks)"], r.stderr)
    }

    /// srun without an MPI plugin: each task initializes MPI as a world of one; rather than R copies
    /// of the whole job, the mismatch stops the run with one line.
    func testATaskThatMPISeesAloneWhileTheLauncherSaysTwoStops() throws {
        let runs = try tempRuns()
        let env = MPIRunner.environment.merging(["SLURM_STEP_ID": "0", "SLURM_NTASKS": "2", "SLURM_PROCID": "0"]) { $1 }
        let r = try LaunchedProcess.run(BuiltExecutable.url, ["hessian", "--runs", runs.path, "--at", "init", "--quiet",
                                                              "--out", runs.appendingPathComponent("out").path], environment: env, timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") },
                       ["Error: the launcher started 2 ranks but MPI sees 1; under srun pass --mpi=pmix (or the plugin the site's OpenMPI uses)"], r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs.appendingPathComponent("out").path), "nothing computed or written")
    }

    /// The parts of hessian.json compared above.
    struct Summary: Decodable {
        struct Eigen: Decodable { var values: [Double] }
        struct Trace: Decodable { var mean: Double }
        struct Report: Decodable { var trace: Trace; var largestEigenvalues: Eigen; var smallestEigenvalues: Eigen }
        var eigenvalues: [Double]
        var hvpCount: Int
        var report: Report
    }
}
