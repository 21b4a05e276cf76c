// The landscape over R ranks (threads standing in for MPI processes): rank r evaluates every R-th
// point in its own shard folder, rank 0 merges once all are done, and the merged files are those of
// one process byte for byte; a rerun (a job resubmitted after the scheduler killed it) resumes each
// shard and merges again; a direction file is created by rank 0 alone.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TILandscape
import TILinalg

final class DistributedLandscapeTests: XCTestCase {
    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-distland-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("grid-") || $0 == "landscape.csv" }.sorted()
    }

    func testRanksMergeIntoTheSingleProcessGrid() throws {
        let target = TinyAnalysisTarget.make(train: 8, studentNoise: 0.05)
        var o = LandscapeOptions()
        o.modes = [try LandscapeMode(parsing: "KD")]
        o.grid = "-0.5:0.5:3"; o.evalSize = 8; o.batchSize = 4
        let single = tempDir()
        _ = try LandscapeStudy.run(target: target, options: o, outDir: single)
        for ranks in [2, 3] {
            let out = tempDir()
            o.directionFile = out.appendingPathComponent("dirs.dir").path
            let o = o
            let results = try ThreadGroup.run(ranks: ranks) { comm in
                try LandscapeStudy.run(target: target, options: o, outDir: out, communicator: comm).0
            }
            XCTAssertEqual(results[0].done, 9, "rank 0 reports the merged grid")
            // Rank r > 0 reports its own shard: points r, r + R, … of 9.
            XCTAssertEqual(results.dropFirst().map(\.total), (1..<ranks).map { (9 - $0 + ranks - 1) / ranks })
            XCTAssertEqual(try files(out), try files(single))
            for f in try files(single) {
                XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(f)), try Data(contentsOf: single.appendingPathComponent(f)), "\(f), \(ranks) ranks")
            }
            let again = try ThreadGroup.run(ranks: ranks) { comm in
                try LandscapeStudy.run(target: target, options: o, outDir: out, communicator: comm).0
            }
            XCTAssertEqual(again[1].resumed, again[1].total, "the rerun finds every point of each shard done")
            XCTAssertEqual(again[0].done, 9)
        }
    }

    func testAnExplicitShardUnderRanksIsRefused() throws {
        let target = TinyAnalysisTarget.make(train: 8)
        var o = LandscapeOptions()
        o.modes = [try LandscapeMode(parsing: "KD")]
        o.grid = "3"; o.evalSize = 4; o.batchSize = 4
        o.shard = try ShardSpec(index: 1, count: 4)
        let given = o
        let out = tempDir()
        XCTAssertThrowsError(try ThreadGroup.run(ranks: 2) { comm in
            try LandscapeStudy.run(target: target, options: given, outDir: out, communicator: comm).0
        }) { XCTAssertTrue("\($0)".contains("shard 1/4 given while 2 ranks split the grid"), "\($0)") }
    }
}
