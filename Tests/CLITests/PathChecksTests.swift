// Output folders checked before work: a file in the way, an output that is or contains an input
// (also through a symlink or a trailing slash), and what is not a collision (a sibling whose name
// merely starts the same).
import XCTest
import Foundation
import ArgumentParser
@testable import tianalyze

final class PathChecksTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "accepted" } catch let e as ValidationError { return e.message } catch { return "\(error)" }
    }

    func testOutputFolders() throws {
        let d = try tempDir()
        let file = d.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)
        XCTAssertEqual(message { try PathChecks.outputFolder(file.path, "--out") }, "--out '\(file.path)': expected a folder, found a file")
        XCTAssertEqual(message { try PathChecks.outputFolder(file.path + "/a/b", "--out") },
                       "--out '\(file.path)/a/b': expected a folder, but \(file.path) is a file")
        XCTAssertEqual(message { try PathChecks.outputFolder(d.appendingPathComponent("new/deeper").path, "--out") }, "accepted")
        XCTAssertFalse(FileManager.default.fileExists(atPath: d.appendingPathComponent("new").path), "checking creates nothing")
    }

    func testAnOutputThatIsOrContainsAnInputIsRefused() throws {
        let d = try tempDir()
        let ck = d.appendingPathComponent("runs/ck")
        try FileManager.default.createDirectory(at: ck, withIntermediateDirectories: true)
        let link = d.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: ck)
        for out in [ck.path, ck.path + "/", link.path, d.appendingPathComponent("runs/../runs/ck").path] {
            XCTAssertTrue(message { try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", ck.path)]) }
                .hasSuffix("expected a folder apart from the input --checkpoint '\(ck.path)', which it is (writing there would overwrite it)"), out)
        }
        XCTAssertTrue(message { try PathChecks.notOverwriting(d.appendingPathComponent("runs").path, "--out", inputs: [("--checkpoint", ck.path)]) }
            .contains("which it contains"))
        for out in [d.appendingPathComponent("runs/ck2").path, d.appendingPathComponent("runs/ck/sub").path, d.appendingPathComponent("c").path] {
            XCTAssertEqual(message { try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", ck.path), ("--data-dir", nil)]) }, "accepted", out)
        }
    }
}
