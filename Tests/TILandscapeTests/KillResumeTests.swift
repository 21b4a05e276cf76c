// A real interruption: this test binary is started again as a child that runs a slow grid, the
// parent SIGKILLs it mid-run, then resumes in-process and compares with an uninterrupted run.
import Foundation
import TILandscape
import XCTest

final class KillResumeTests: XCTestCase {
    static let childDirKey = "TILANDSCAPE_KILL_CHILD_DIR"
    static let grid = "-1:1:7,-1:1:5"

    private static func setup() throws -> (LandscapeConfig, LandscapeSpace) {
        let space = LandscapeSpace.around(Toy.weights, directions: Toy.directions())
        return (Toy.config(grid: try LandscapeGrid.parse(grid), space: space), space)
    }

    /// The child's body; does nothing unless started by `testKilledRunResumesToIdenticalResult`.
    func testChildSlowRun() throws {
        guard let dir = ProcessInfo.processInfo.environment[Self.childDirKey] else { return }
        let (config, space) = try Self.setup()
        let slow = ToyEvaluator()
        slow.delay = 0.05
        try LandscapeRun(config: config, space: space, outDir: URL(fileURLWithPath: dir)).run(slow)
    }

    func testKilledRunResumesToIdenticalResult() throws {
        let (config, space) = try Self.setup()
        let reference = Toy.tempDir("killref"), killed = Toy.tempDir("killed")
        defer { for d in [reference, killed] { try? FileManager.default.removeItem(at: d) } }
        var r = try LandscapeRun(config: config, space: space, outDir: reference)
        r.durable = false
        try r.run(ToyEvaluator())

        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("cannot re-run the test binary at \(binary.path)")
        }
        let child = Process()
        child.executableURL = binary
        child.arguments = ["TILandscapeTests.KillResumeTests/testChildSlowRun"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childDirKey: killed.path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Wait until at least 5 of 35 points are on disk, then kill without warning.
        let csv = killed.appendingPathComponent("landscape.csv")
        let deadline = Date().addingTimeInterval(20)
        func lineCount() -> Int { ((try? String(contentsOf: csv, encoding: .utf8)) ?? "").filter { $0 == "\n" }.count }
        while lineCount() < 1 + 5 * 2 && Date() < deadline && child.isRunning { Thread.sleep(forTimeInterval: 0.01) }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal, "child should have been killed mid-run")
        let before = lineCount()
        XCTAssertGreaterThanOrEqual(before, 1 + 5 * 2)
        XCTAssertLessThan(before, 1 + 35 * 2, "child finished before it was killed; the test proves nothing")

        let resume = ToyEvaluator()
        var r2 = try LandscapeRun(config: config, space: space, outDir: killed)
        r2.durable = false
        let p = try r2.run(resume)
        XCTAssertEqual(p.done, 35)
        XCTAssertLessThan(resume.calls, 35, "points finished by the child must be reused")
        for name in ["landscape.csv", "grid-KD-loss.dat", "grid-TI-G-metric.dat"] {
            XCTAssertEqual(try String(contentsOf: killed.appendingPathComponent(name), encoding: .utf8),
                           try String(contentsOf: reference.appendingPathComponent(name), encoding: .utf8), name)
        }
    }
}
