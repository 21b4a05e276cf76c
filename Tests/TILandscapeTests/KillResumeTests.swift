// A real interruption: a helper process (tianalyze-test-child, built with the tests) runs a slow
// grid, the test SIGKILLs it mid-run, then resumes in-process and compares with an uninterrupted run.
import Foundation
import TILandscape
import TILandscapeToy
import XCTest

final class KillResumeTests: XCTestCase {
    /// The helper sits next to the test bundle in the build directory.
    static var childBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tianalyze-test-child")
    }

    func testKilledRunResumesToIdenticalResult() throws {
        let (config, space) = try Toy.slowRunSetup()
        let reference = Toy.tempDir("killref"), killed = Toy.tempDir("killed")
        defer { for d in [reference, killed] { try? FileManager.default.removeItem(at: d) } }
        var r = try LandscapeRun(config: config, space: space, outDir: reference)
        r.durable = false
        try r.run(ToyEvaluator())

        let binary = Self.childBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            return XCTFail("no helper at \(binary.path): build it with swift build --build-tests")
        }
        let child = Process()
        child.executableURL = binary
        child.arguments = ["landscape-slow-run", killed.path]
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
