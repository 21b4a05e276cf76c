// The trajectory plane through the landscape engine: the grid's space maps each path point's
// written coordinates back onto the saved point (within float16 error of the offsets), the final
// point is the grid's centre, and a finished surface has its roughness beside it.
import Foundation
import XCTest
@testable import TIStudies
import TICore
import TIData
import TILandscape
import TILinalg

final class TrajectoryLandscapeTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-trajland-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testPathCoordinatesMapBackOntoTheSavedPoints() throws {
        let target = TinyAnalysisTarget.make(train: 16, studentNoise: 0.05)
        let n = target.parameters.count
        // A bent path from the teacher to the student.
        var rng = SeededRandom(seed: 9)
        let bend: [Float] = rng.normalVector(n)
        let steps = [0, 4, 8, 12, 16]
        let path: [[Float]] = steps.map { s in
            let t = Float(s) / 16
            return (0..<n).map { i in
                let line: Float = target.teacher[i] + t * (target.parameters[i] - target.teacher[i])
                return line + 0.02 * t * (1 - t) * bend[i]
            }
        }
        let run = try tempDir(), out = try tempDir()
        var bytes = TrajectoryFile.header(origin: path[0], every: 4)
        for (k, s) in steps.enumerated().dropFirst() {
            bytes += TrajectoryFile.entry(step: s, parameters: k == steps.count - 1 ? target.parameters : path[k], origin: path[0])
        }
        try Data(bytes).write(to: run.appendingPathComponent(TrajectoryFile.name))

        var o = LandscapeOptions()
        o.modes = [try LandscapeMode(parsing: "KD")]
        o.objective = .task; o.grid = "5"; o.evalSize = 8; o.batchSize = 8
        o.trajectory = ("synthetic", try TrajectoryGridPlane.load(run: run))
        let (progress, _) = try LandscapeStudy.run(target: target, options: o, outDir: out)
        XCTAssertEqual(progress.done, 25)

        let space = try LandscapeStudy.surfaceSpace(target: target, options: o, communicator: SingleProcess.shared).0
        let rows = try String(contentsOf: out.appendingPathComponent(TrajectoryGridPlane.pathFile), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map { Double($0)! } }
        XCTAssertEqual(rows.map { Int($0[0]) }, steps)
        XCTAssertEqual(Array(rows.last!.dropFirst()), [0, 0], "the final point is the centre")
        for (k, r) in rows.enumerated() {
            XCTAssertLessThanOrEqual(abs(r[1]), 1); XCTAssertLessThanOrEqual(abs(r[2]), 1)
            let mapped = space.parameters(x: r[1], y: r[2])
            let offset = (0..<n).map { abs(path[k][$0] - target.parameters[$0]) }.max()!
            let err = (0..<n).map { abs(mapped[$0] - (k == steps.count - 1 ? target.parameters[$0] : path[k][$0])) }.max()!
            XCTAssertLessThan(err, 2e-3 * offset + 1e-6, "path point \(k) (step \(steps[k]))")
        }
        let roughness = try String(contentsOf: out.appendingPathComponent("roughness.csv"), encoding: .utf8)
        XCTAssertEqual(roughness.split(separator: "\n").count, 1 + RoughnessMetrics.names.count)
    }

    func testInterpolationBetweenTwoPointsStartsAtTheFirst() throws {
        let target = TinyAnalysisTarget.make(train: 16, studentNoise: 0.05)
        var o = LandscapeOptions()
        o.interpolate = true
        let start = target.teacher.map { $0 * 0.5 }
        o.interpolationStart = ("half", start)
        let (space, label, _, _) = try LandscapeStudy.surfaceSpace(target: target, options: o, communicator: SingleProcess.shared)
        XCTAssertEqual(space.parameters(x: 0, y: nil), start)
        XCTAssertEqual(space.parameters(x: 1, y: nil), target.parameters)
        XCTAssertTrue(label.contains("half"))
        o.interpolationStart = ("short", [1, 2])
        XCTAssertThrowsError(try LandscapeStudy.surfaceSpace(target: target, options: o, communicator: SingleProcess.shared))
    }
}
