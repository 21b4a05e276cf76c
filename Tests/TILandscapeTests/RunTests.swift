import Foundation
import TILandscape
import TILandscapeToy
import TILinalg
import XCTest

final class RunTests: XCTestCase {
    private var dirs: [URL] = []
    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(at: d) }
    }
    private func tempDir(_ label: String) -> URL {
        let d = Toy.tempDir(label)
        dirs.append(d)
        return d
    }

    private func setup(grid: String = "-1:1:5,-0.5:0.5:3") throws -> (LandscapeConfig, LandscapeSpace) {
        let space = LandscapeSpace.around(Toy.weights, directions: Toy.directions())
        let config = Toy.config(grid: try LandscapeGrid.parse(grid), space: space)
        return (config, space)
    }

    private func run(_ config: LandscapeConfig, _ space: LandscapeSpace, _ out: URL, shard: ShardSpec = .whole,
                     evaluator: ToyEvaluator = ToyEvaluator()) throws -> LandscapeProgress {
        var r = try LandscapeRun(config: config, space: space, outDir: out, shard: shard)
        r.durable = false
        return try r.run(evaluator)
    }

    private func read(_ dir: URL, _ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }

    private func csvLines(_ dir: URL) throws -> [String] {
        try read(dir, "landscape.csv").split(separator: "\n").map(String.init)
    }

    func testUninterruptedRunWritesCSVMetadataAndGrids() throws {
        let (config, space) = try setup()
        let out = tempDir("plain")
        var seen: [LandscapeProgress] = []
        var r = try LandscapeRun(config: config, space: space, outDir: out)
        r.durable = false
        let final = try r.run(ToyEvaluator()) { seen.append($0) }
        XCTAssertEqual(final.done, 15)
        XCTAssertEqual(seen.map(\.done), Array(0...15))
        XCTAssertEqual(seen.last?.remaining, 0)
        XCTAssertNotNil(seen.last?.etaSeconds)

        let lines = try csvLines(out)
        XCTAssertEqual(lines.first, "x,y,mode,loss,metric")
        XCTAssertEqual(lines.count, 1 + 15 * 2)
        XCTAssertTrue(lines[1].hasPrefix("-1.0,-0.5,KD,"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("-1.0,-0.5,TI-G,"), lines[2])

        let meta = try JSONDecoder().decode(LandscapeMetadata.self, from: Data(contentsOf: out.appendingPathComponent("landscape.json")))
        XCTAssertEqual(meta.configHash, config.configHash)
        XCTAssertTrue(meta.complete)

        // Grid file: 3 rows of 5 "x y v" lines, separated by blank lines; centre value = evaluation at θ.
        let grid = try read(out, "grid-KD-loss.dat").split(separator: "\n", omittingEmptySubsequences: false)
        let rows = grid.dropFirst().split(separator: "", omittingEmptySubsequences: true)
        XCTAssertEqual(rows.count, 3)
        XCTAssertTrue(rows.allSatisfy { $0.count == 5 })
        let centre = rows[1][rows[1].startIndex + 2].split(separator: " ")
        XCTAssertEqual(centre[0], "0.0")
        XCTAssertEqual(centre[1], "0.0")
        XCTAssertEqual(Double(centre[2]), try ToyEvaluator().evaluate(parameters: Toy.weights)[0][0])
        for name in ["grid-KD-metric.dat", "grid-TI-G-loss.dat", "grid-TI-G-metric.dat"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
    }

    func testThrowingEvaluatorThenRerunGivesIdenticalResultWithoutDuplicates() throws {
        let (config, space) = try setup()
        let reference = tempDir("ref"), resumed = tempDir("resume")
        _ = try run(config, space, reference)

        let crashing = ToyEvaluator()
        crashing.failAfter = 6
        XCTAssertThrowsError(try run(config, space, resumed, evaluator: crashing))
        XCTAssertEqual(try csvLines(resumed).count, 1 + 6 * 2, "finished points must be on disk after the crash")
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.appendingPathComponent("grid-KD-loss.dat").path))

        let second = ToyEvaluator()
        let p = try run(config, space, resumed, evaluator: second)
        XCTAssertEqual(second.calls, 15 - 6, "finished points must not be re-evaluated")
        XCTAssertEqual(p.resumed, 6)
        XCTAssertEqual(try read(resumed, "landscape.csv"), try read(reference, "landscape.csv"))
        XCTAssertEqual(try read(resumed, "grid-TI-G-metric.dat"), try read(reference, "grid-TI-G-metric.dat"))

        // A third run has nothing to do.
        let third = ToyEvaluator()
        _ = try run(config, space, resumed, evaluator: third)
        XCTAssertEqual(third.calls, 0)
        XCTAssertEqual(try read(resumed, "landscape.csv"), try read(reference, "landscape.csv"))
    }

    func testTornTailIsDroppedAndRecomputed() throws {
        let (config, space) = try setup()
        let reference = tempDir("ref2"), torn = tempDir("torn")
        _ = try run(config, space, reference)
        let full = try read(reference, "landscape.csv")
        let lines = full.split(separator: "\n", omittingEmptySubsequences: false)
        // 4 complete points, then the first line of point 5 and half of its second line.
        var text = lines[0...8].joined(separator: "\n") + "\n" + lines[9] + "\n"
        text += lines[10].prefix(lines[10].count / 2)
        try FileManager.default.createDirectory(at: torn, withIntermediateDirectories: true)
        try text.write(to: torn.appendingPathComponent("landscape.csv"), atomically: false, encoding: .utf8)
        // The landscape.json a run killed before its first periodic progress write leaves: its claim, 0 points.
        let claim = LandscapeMetadata(config: config, shard: .whole, pointsTotal: 15, pointsDone: 0, secondsPerPoint: nil,
                                      complete: false, recordChecksum: StableHash().hex)
        try JSONEncoder().encode(claim).write(to: torn.appendingPathComponent("landscape.json"))
        let ev = ToyEvaluator()
        _ = try run(config, space, torn, evaluator: ev)
        XCTAssertEqual(ev.calls, 15 - 4)
        XCTAssertEqual(try read(torn, "landscape.csv"), full)
    }

    /// `complete: true` is the last write: a run that fails writing its grid files leaves it false,
    /// and the rerun (nothing left to evaluate) writes them and only then says complete.
    func testCompleteIsWrittenAfterTheGridFiles() throws {
        let (config, space) = try setup()
        let out = tempDir("complete")
        let blocker = out.appendingPathComponent(LandscapeGridFiles.fileName(mode: config.modes[0], quantity: config.quantities[0]))
        try FileManager.default.createDirectory(at: blocker.appendingPathComponent("x"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try run(config, space, out))
        func meta() throws -> LandscapeMetadata {
            try JSONDecoder().decode(LandscapeMetadata.self, from: Data(contentsOf: out.appendingPathComponent("landscape.json")))
        }
        XCTAssertEqual(try meta().pointsDone, 15)
        XCTAssertFalse(try meta().complete, "all points done, but not the grid files")
        try FileManager.default.removeItem(at: blocker)
        let ev = ToyEvaluator()
        _ = try run(config, space, out, evaluator: ev)
        XCTAssertEqual(ev.calls, 0)
        XCTAssertTrue(try meta().complete)
        XCTAssertTrue(FileManager.default.fileExists(atPath: blocker.path))
    }

    /// A finished record changed afterwards (one number, or a NaN) is refused on resume; the same
    /// record saved with CRLF line ends is the same record.
    func testChangedRecordIsRefusedAndCRLFIsNot() throws {
        let (config, space) = try setup()
        let out = tempDir("tamper")
        _ = try run(config, space, out)
        let url = out.appendingPathComponent("landscape.csv")
        let original = try read(out, "landscape.csv")
        try original.replacingOccurrences(of: "\n", with: "\r\n").write(to: url, atomically: false, encoding: .utf8)
        let ev = ToyEvaluator()
        XCTAssertNoThrow(try run(config, space, out, evaluator: ev))
        XCTAssertEqual(ev.calls, 0)
        var lines = original.split(separator: "\n").map(String.init)
        var fields = lines[5].split(separator: ",").map(String.init)
        // A digit appended past Double's precision would read back as the same number: change the leading one.
        for edit in ["nan", (fields[3].hasPrefix("1") ? "2" : "1") + fields[3].dropFirst()] {
            fields[3] = edit
            lines[5] = fields.joined(separator: ",")
            try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try run(config, space, out)) { XCTAssertTrue("\($0)".contains("checksum mismatch"), "\($0)") }
        }
    }

    /// Temporaries a killed writer left (".<name>.tmp-<pid>") are removed when the run resumes.
    func testStaleTemporariesAreRemovedOnResume() throws {
        let (config, space) = try setup()
        let out = tempDir("stale")
        _ = try run(config, space, out)
        let stale = out.appendingPathComponent(".landscape.json.tmp-31337")
        try Data("{".utf8).write(to: stale)
        _ = try run(config, space, out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
    }

    /// Finished points lost below what landscape.json recorded are refused, not recomputed silently.
    func testRecordShorterThanRecordedIsRefused() throws {
        let (config, space) = try setup()
        let out = tempDir("short")
        _ = try run(config, space, out)
        let lines = try csvLines(out)
        try (lines.dropLast(2).joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("landscape.csv"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try run(config, space, out)) { XCTAssertTrue("\($0)".contains("landscape.json recorded 15"), "\($0)") }
    }

    func testCorruptionInTheMiddleIsRefusedNotDropped() throws {
        let (config, space) = try setup()
        let out = tempDir("corrupt")
        _ = try run(config, space, out)
        var lines = try csvLines(out)
        lines[3] = "garbage"
        try (lines.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("landscape.csv"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try run(config, space, out)) { XCTAssertTrue("\($0)".contains("refusing"), "\($0)") }
    }

    func testDifferentConfigInSameDirectoryIsRefused() throws {
        let (config, space) = try setup()
        let out = tempDir("mismatch")
        _ = try run(config, space, out)
        let other = Toy.config(grid: config.grid, space: space, evalSet: "toy, other split")
        XCTAssertNotEqual(other.configHash, config.configHash)
        XCTAssertThrowsError(try run(other, space, out)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(config.configHash) && text.contains(other.configHash), text)
            XCTAssertFalse(text.contains("\n"), "one-line error expected: \(text)")
        }
        // Directions that differ from the config are caught before anything is written.
        let space2 = LandscapeSpace.around(Toy.weights, directions: Toy.directions(seed: 99))
        XCTAssertThrowsError(try LandscapeRun(config: config, space: space2, outDir: out))
    }

    func testConfigHashIsStableAndSensitive() throws {
        let (config, _) = try setup()
        var c2 = config
        XCTAssertEqual(c2.configHash, config.configHash)
        c2.grid = try LandscapeGrid.parse("-1:1:5,-0.5:0.5:4")
        XCTAssertNotEqual(c2.configHash, config.configHash)
        c2 = config
        c2.modes = ["TI-G", "KD"]
        XCTAssertNotEqual(c2.configHash, config.configHash)
    }

    func testShardsMergeToExactlyTheUnshardedResult() throws {
        let (config, space) = try setup(grid: "-1:1:7,-1:1:5")
        let reference = tempDir("ref3"), sharded = tempDir("sharded")
        _ = try run(config, space, reference)
        for i in 0..<3 {
            let p = try run(config, space, sharded, shard: try ShardSpec(index: i, count: 3))
            XCTAssertEqual(p.total, ShardSpec.whole.points(total: 35).filter { $0 % 3 == i }.count)
        }
        // Merging before all shards exist, or with a shard missing, is refused.
        let shardDirs = try LandscapeMerge.shardDirectories(in: sharded)
        XCTAssertEqual(shardDirs.map(\.lastPathComponent), ["shard-0-of-3", "shard-1-of-3", "shard-2-of-3"])
        XCTAssertThrowsError(try LandscapeMerge.merge(dirs: Array(shardDirs.prefix(2)), into: sharded))

        let status = try LandscapeStatus.read(outDir: sharded)
        XCTAssertEqual(status.parts.map(\.shard.index), [0, 1, 2])
        XCTAssertTrue(status.parts.allSatisfy(\.complete))
        XCTAssertEqual(status.done, 35)

        try LandscapeMerge.merge(shardsIn: sharded)
        XCTAssertEqual(try LandscapeStatus.read(outDir: sharded).parts.first?.directory, sharded.lastPathComponent)
        for name in ["landscape.csv", "grid-KD-loss.dat", "grid-TI-G-metric.dat"] {
            XCTAssertEqual(try read(sharded, name), try read(reference, name), name)
        }
    }

    func testMergeRefusesIncompleteShardAndMixedConfigs() throws {
        let (config, space) = try setup()
        let out = tempDir("badmerge")
        let crashing = ToyEvaluator()
        crashing.failAfter = 2
        XCTAssertThrowsError(try run(config, space, out, shard: try ShardSpec(index: 0, count: 2), evaluator: crashing))
        _ = try run(config, space, out, shard: try ShardSpec(index: 1, count: 2))
        XCTAssertThrowsError(try LandscapeMerge.merge(shardsIn: out)) { XCTAssertTrue("\($0)".contains("incomplete"), "\($0)") }
        XCTAssertEqual(try LandscapeStatus.read(outDir: out).parts.map(\.done), [2, 7])

        let other = tempDir("othercfg")
        let config2 = Toy.config(grid: config.grid, space: space, evalSet: "different")
        _ = try run(config2, space, other, shard: try ShardSpec(index: 0, count: 2))
        _ = try run(config, space, out, shard: try ShardSpec(index: 0, count: 2))
        XCTAssertThrowsError(try LandscapeMerge.merge(
            dirs: [other.appendingPathComponent("shard-0-of-2"), out.appendingPathComponent("shard-1-of-2")], into: out)) {
            XCTAssertTrue("\($0)".contains("configHash"), "\($0)")
        }
    }

    func testOneDimensionalAndInterpolationRuns() throws {
        let w = Toy.weights
        let dirs = LandscapeDirections.random(weights: w, layout: Toy.layout, seed: 5, count: 1)
        let space = LandscapeSpace.around(w, directions: dirs)
        let config = Toy.config(grid: try LandscapeGrid.parse("-1:1:5", oneDimensional: true), space: space)
        let out = tempDir("oned")
        _ = try run(config, space, out)
        let grid = try read(out, "grid-KD-loss.dat").split(separator: "\n").dropFirst()
        XCTAssertEqual(grid.count, 5)
        XCTAssertEqual(grid.map { $0.split(separator: " ").count }, Array(repeating: 2, count: 5))
        XCTAssertTrue(try csvLines(out)[1].hasPrefix("-1.0,,KD,"))

        let b = w.map { $0 * 0.5 + 0.1 }
        let ispace = LandscapeSpace.between(w, b)
        let iconfig = Toy.config(grid: try LandscapeGrid.parse("3", kind: .interpolation), space: ispace)
        let iout = tempDir("interp")
        _ = try run(iconfig, ispace, iout)
        let last = try read(iout, "grid-TI-G-loss.dat").split(separator: "\n").last!.split(separator: " ")
        XCTAssertEqual(last[0], "1.0")
        XCTAssertEqual(Double(last[1]), try ToyEvaluator().evaluate(parameters: b)[1][0])
        // A 1-D space cannot drive a 2-D grid.
        XCTAssertThrowsError(try LandscapeRun(config: Toy.config(grid: try LandscapeGrid.parse("3"), space: space), space: space, outDir: out))
    }

    func testShardSpecFromEnvironment() throws {
        XCTAssertNil(try ShardSpec.fromEnvironment([:]))
        XCTAssertEqual(try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8"]),
                       try ShardSpec(index: 3, count: 8))
        XCTAssertEqual(try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "8",
                                                      "SLURM_ARRAY_TASK_MIN": "1"]), try ShardSpec(index: 7, count: 8))
        XCTAssertEqual(try ShardSpec.fromEnvironment(["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2"]),
                       try ShardSpec(index: 0, count: 2))
        XCTAssertEqual(try ShardSpec.fromEnvironment(["PMI_RANK": "5", "PMI_SIZE": "6"]), try ShardSpec(index: 5, count: 6))
        // SLURM wins over MPI variables set by the same job.
        XCTAssertEqual(try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4",
                                                      "PMI_RANK": "0", "PMI_SIZE": "2"]), try ShardSpec(index: 1, count: 4))
        XCTAssertThrowsError(try ShardSpec.fromEnvironment(["PMI_RANK": "2"]))
        XCTAssertThrowsError(try ShardSpec.fromEnvironment(["PMI_RANK": "6", "PMI_SIZE": "6"]))
        XCTAssertThrowsError(try ShardSpec.fromEnvironment(["OMPI_COMM_WORLD_RANK": "x", "OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertEqual(try ShardSpec(parsing: "2/5"), try ShardSpec(index: 2, count: 5))
        XCTAssertThrowsError(try ShardSpec(parsing: "5/5"))
        XCTAssertThrowsError(try ShardSpec(parsing: "1-4"))
    }
}

final class LockTests: XCTestCase {
    /// A second evaluator started on the same directory while the first is mid-run is refused.
    func testConcurrentRunOnSameDirectoryIsRefused() throws {
        let space = LandscapeSpace.around(Toy.weights, directions: Toy.directions())
        let config = Toy.config(grid: try LandscapeGrid.parse("3"), space: space)
        let out = Toy.tempDir("lock")
        defer { try? FileManager.default.removeItem(at: out) }
        final class Reentrant: LandscapeEvaluator {
            let modes = ["KD", "TI-G"], quantities = ["loss", "metric"]
            var inner: (() throws -> Void)?
            var innerError: Error?
            func evaluate(parameters: [Float]) throws -> [[Double]] {
                if let inner { self.inner = nil; do { try inner() } catch { innerError = error } }
                return [[1, 2], [3, 4]]
            }
        }
        let outer = Reentrant()
        outer.inner = {
            var r = try LandscapeRun(config: config, space: space, outDir: out)
            r.durable = false
            try r.run(ToyEvaluator())
        }
        var r = try LandscapeRun(config: config, space: space, outDir: out)
        r.durable = false
        try r.run(outer)
        XCTAssertTrue("\(outer.innerError.map { "\($0)" } ?? "no error")".contains("another process"), "\(String(describing: outer.innerError))")
        // Once the first run is over, the directory is free again.
        let again = ToyEvaluator()
        var r2 = try LandscapeRun(config: config, space: space, outDir: out)
        r2.durable = false
        try r2.run(again)
        XCTAssertEqual(again.calls, 0)
    }
}
