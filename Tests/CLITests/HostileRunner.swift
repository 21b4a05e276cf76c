// Runs the built tianalyze on one corpus case the way a user's shell would, but fenced: a wall-clock
// limit (a hang is a failure, not a stuck suite) and an address-space limit (an unbounded allocation
// fails fast instead of taking the machine). TIANALYZE_BINARY runs the corpus against another build.
import Foundation
@testable import tianalyze

struct HostileRun {
    var status: Int32
    /// True when the process died of a signal (a trap) rather than exiting.
    var signalled: Bool
    var timedOut: Bool
    var seconds: Double
    var stdout: String
    var stderr: String

    /// The lines a user sees on stderr, blank ones dropped.
    var stderrLines: [String] {
        stderr.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

enum HostileRunner {
    /// Address-space limit of every run (KiB): far above what any case needs, far below the machine.
    static let addressSpaceKiB = 6_000_000

    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["TIANALYZE_BINARY"] { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: #filePath)
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent(".build/debug/tianalyze")
    }

    /// True when the corpus runs against another build (then every case runs that build's process).
    static var foreignBinary: Bool { ProcessInfo.processInfo.environment["TIANALYZE_BINARY"] != nil }

    /// Parses `args` in this process as the executable's main does, without running the command:
    /// the refusal line and exit code of a value refused when the command line is parsed, at the
    /// cost of a parse rather than a process start (status 0: the command line was accepted).
    static func parse(_ args: [String]) -> HostileRun {
        let start = Date()
        var run = HostileRun(status: 0, signalled: false, timedOut: false, seconds: 0, stdout: "", stderr: "")
        do {
            _ = try Tianalyze.parseAsRoot(args)
        } catch {
            let (line, code) = ErrorMessages.errorLine(error)
            run.status = code.rawValue
            run.stderr = line.map { $0 + "\n" } ?? ""
        }
        run.seconds = Date().timeIntervalSince(start)
        return run
    }

    /// Runs `args` in `directory` and waits at most `timeout` seconds.
    static func run(_ args: [String], in directory: URL, timeout: Double) throws -> HostileRun {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("tia-hostile-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: logs) }
        let out = logs.appendingPathComponent("stdout"), err = logs.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -v \(addressSpaceKiB); exec \"$0\" \"$@\"", executable.path] + args
        p.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["TIANALYZE_KEEP_BLAS_CORE"] = "1"
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        let finished = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in finished.signal() }
        let start = Date()
        try p.run()
        let timedOut = finished.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let read = { (u: URL) in String(decoding: (try? Data(contentsOf: u)) ?? Data(), as: UTF8.self) }
        return HostileRun(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal, timedOut: timedOut,
                          seconds: Date().timeIntervalSince(start), stdout: read(out), stderr: read(err))
    }
}
