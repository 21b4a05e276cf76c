// A child process run with a deadline (for mpirun jobs, whose failure mode is a hang): stdout and
// stderr captured, the process group killed when the deadline passes.
import Foundation
import XCTest

public struct LaunchedResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let timedOut: Bool
    public let seconds: Double
}

public enum LaunchedProcess {
    public static func run(_ executable: URL, _ args: [String], environment extra: [String: String] = [:],
                           timeout: TimeInterval) throws -> LaunchedResult {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let start = Date()
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        try p.run()
        // Read both pipes while the child runs, so that a chatty child cannot block on a full pipe.
        let reader = PipeReader(out, err)
        let timedOut = exited.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            p.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut { kill(p.processIdentifier, SIGKILL); exited.wait() }
        }
        let (stdout, stderr) = reader.finish()
        return LaunchedResult(status: p.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut,
                              seconds: Date().timeIntervalSince(start))
    }
}

private final class PipeReader: @unchecked Sendable {
    private var data = [Data(), Data()]
    private let group = DispatchGroup()

    init(_ pipes: Pipe...) {
        for (i, pipe) in pipes.enumerated() {
            group.enter()
            DispatchQueue.global().async { [self] in
                data[i] = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
    }

    func finish() -> (String, String) {
        group.wait()
        return (String(decoding: data[0], as: UTF8.self), String(decoding: data[1], as: UTF8.self))
    }
}

/// `mpirun` as the tests launch it: installed by notebooks-cli/install-deps.sh (a missing mpirun
/// fails the test rather than skipping it); allowed to run as root and to place more ranks than cores.
public enum MPIRunner {
    public static var mpirun: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    public static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                     "TIANALYZE_KEEP_BLAS_CORE": "1"]

    public static func run(ranks: Int, _ executable: URL, _ args: [String], timeout: TimeInterval,
                           file: StaticString = #filePath, line: UInt = #line) throws -> LaunchedResult {
        guard let mpirun else {
            XCTFail("mpirun not found: run notebooks-cli/install-deps.sh (installs openmpi-bin)", file: file, line: line)
            return LaunchedResult(status: -1, stdout: "", stderr: "", timedOut: false, seconds: 0)
        }
        return try LaunchedProcess.run(mpirun, ["--oversubscribe", "-n", "\(ranks)", executable.path] + args,
                                       environment: environment, timeout: timeout)
    }
}
