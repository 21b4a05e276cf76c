// The built executable on bad input: one clear line naming the file or value, a non-zero exit,
// and nothing written over what was there.
import XCTest
import Foundation
import TICore
import TIData

final class BadInputTests: XCTestCase {
    var executable: URL {
        var dir = URL(fileURLWithPath: #filePath)
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent(".build/debug/tianalyze")
    }

    func run(_ args: [String]) throws -> (status: Int32, stderr: String) {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            XCTFail("build the executable first (swift build --build-tests): \(executable.path)")
            return (0, "")
        }
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["TIANALYZE_KEEP_BLAS_CORE"] = "1"
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func tempRuns() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("teacher-count"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testLoadQuantizedOfAMissingFileNamesIt() throws {
        let runs = try tempRuns()
        let r = try run(["eval", "--runs", runs.path, "--quiet", "--load-quantized", runs.appendingPathComponent("gone-int8.safetensors").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("gone-int8.safetensors"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
    }

    func testUnknownModeIsAnArgumentError() throws {
        let r = try run(["qat", "--mode", "TI-X", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("TI-X"), r.stderr)
    }

    func testMalformedConfigNamesTheFile() throws {
        let runs = try tempRuns()
        let teacher = runs.appendingPathComponent("teacher-count")
        try Data("{\"hidden_size\": 128,".utf8).write(to: teacher.appendingPathComponent("config.json"))
        try Data(count: 16).write(to: teacher.appendingPathComponent("model.safetensors"))
        let r = try run(["qat", "--runs", runs.path, "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("config.json"), r.stderr)
        XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
    }

    func testTruncatedSafetensorsNamesTheFileAndLeavesItAlone() throws {
        let runs = try tempRuns()
        let teacher = runs.appendingPathComponent("teacher-count")
        let cfg = BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 64, numLabels: 8)
        try cfg.huggingFace.write(to: teacher.appendingPathComponent("config.json"))
        let junk = Data([200, 0, 0, 0, 0, 0, 0, 0]) + Data("{\"a\":".utf8)
        let weights = teacher.appendingPathComponent("model.safetensors")
        try junk.write(to: weights)
        let r = try run(["hessian", "--runs", runs.path, "--at", "init", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("model.safetensors"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: weights), junk, "a failed read must not touch the file")
    }

    func testUnknownLandscapeModeNamesIt() throws {
        let r = try run(["landscape", "--compare", "KD,XX", "--quiet"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("XX"), r.stderr)
    }
}
