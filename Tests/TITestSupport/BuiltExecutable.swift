// The built `tianalyze` binary as the CLI tests run it: found from the package root, run with the
// BLAS core left alone (no re-exec), with stdout and stderr captured. Pipes are read before the
// wait, so a chatty command cannot block on a full pipe.
import Foundation
import XCTest

public enum BuiltExecutable {
    /// The package root, found upwards from a test source file.
    public static func packageRoot(from file: String = #filePath) -> URL {
        var dir = URL(fileURLWithPath: file)
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir.deleteLastPathComponent()
        }
        return dir
    }

    public static var url: URL { packageRoot().appendingPathComponent(".build/debug/tianalyze") }

    /// Runs `tianalyze args…`; a missing binary fails the calling test.
    public static func run(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws
        -> (status: Int32, stdout: String, stderr: String) {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            XCTFail("build the executable first (swift build --build-tests): \(url.path)", file: file, line: line)
            return (1, "", "")
        }
        let p = Process()
        p.executableURL = url
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["TIANALYZE_KEEP_BLAS_CORE"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
