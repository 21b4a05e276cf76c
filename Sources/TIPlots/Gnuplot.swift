// Figures are drawn by the gnuplot scripts in plots/, so they can be re-rendered and tweaked by
// hand from the same data files; Swift only runs gnuplot with the right variables and checks
// that a non-empty image came out.
import Foundation
import TIData

public enum PlotError: Error, CustomStringConvertible, Equatable {
    case gnuplotMissing(searched: String)
    case scriptMissing(String)
    case badVariable(String)
    case failed(script: String, output: String, reason: String)
    case noData(figure: String, reason: String)

    public var description: String {
        switch self {
        case .gnuplotMissing(let searched):
            return "gnuplot not found on PATH (searched \(searched)); install gnuplot (e.g. apt-get install gnuplot-nox) or set TIANALYZE_GNUPLOT"
        case .scriptMissing(let s): return "plot script not found: \(s)"
        case .badVariable(let s): return "gnuplot variable: \(s)"
        case .failed(let script, let output, let reason): return "gnuplot \(script) → \(output) failed: \(reason)"
        case .noData(let figure, let reason): return "figure \(figure): \(reason)"
        }
    }
}

public struct Gnuplot: Sendable {
    public let executable: URL
    /// Seconds before a hung gnuplot is killed.
    public var timeout: Double = 120

    public init(executable: URL) { self.executable = executable }

    /// `TIANALYZE_GNUPLOT` if set, else the first executable `gnuplot` on PATH.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Gnuplot {
        let fm = FileManager.default
        if let explicit = environment["TIANALYZE_GNUPLOT"], !explicit.isEmpty {
            guard fm.isExecutableFile(atPath: explicit) else { throw PlotError.gnuplotMissing(searched: "TIANALYZE_GNUPLOT=\(explicit)") }
            return Gnuplot(executable: URL(fileURLWithPath: explicit))
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("gnuplot")
            if fm.isExecutableFile(atPath: candidate.path) { return Gnuplot(executable: candidate) }
        }
        throw PlotError.gnuplotMissing(searched: path)
    }

    /// Renders `script` once per output (the format follows the extension: .svg → SVG, else PNG),
    /// passing `variables` as gnuplot string variables plus `out`. Each image is written to a
    /// temporary sibling and renamed, so a failed render never leaves a stale or half-written figure.
    public func render(script: URL, variables: [String: String], outputs: [URL]) throws {
        guard FileManager.default.fileExists(atPath: script.path) else { throw PlotError.scriptMissing(script.path) }
        for output in outputs {
            let dir = output.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let tmp = dir.appendingPathComponent(".\(output.deletingPathExtension().lastPathComponent).tmp-\(getpid()).\(output.pathExtension)")
            defer { try? FileManager.default.removeItem(at: tmp) }
            var vars = variables
            vars["out"] = tmp.path
            try run(script: script, assignments: try Self.assignments(vars), output: output)
            let size = (try? FileManager.default.attributesOfItem(atPath: tmp.path)[.size] as? Int) ?? 0
            guard size > 0 else {
                throw PlotError.failed(script: script.lastPathComponent, output: output.path, reason: "gnuplot wrote no image")
            }
            if rename(tmp.path, output.path) != 0 {
                throw PlotError.failed(script: script.lastPathComponent, output: output.path,
                                       reason: "rename failed (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Convenience: locate gnuplot on PATH and render.
    public static func render(script: URL, variables: [String: String], outputs: [URL]) throws {
        try locate().render(script: script, variables: variables, outputs: outputs)
    }

    /// `name='value'; …` with names checked and single quotes doubled (gnuplot's escape in '…').
    static func assignments(_ variables: [String: String]) throws -> String {
        try variables.keys.sorted().map { name -> String in
            guard let first = name.first, first.isLetter || first == "_",
                  name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw PlotError.badVariable("'\(name)' is not a gnuplot identifier")
            }
            let value = variables[name]!
            guard !value.contains("\n") else { throw PlotError.badVariable("value of \(name) contains a newline") }
            return "\(name)='\(value.replacingOccurrences(of: "'", with: "''"))'"
        }.joined(separator: "; ")
    }

    private func run(script: URL, assignments: String, output: URL) throws {
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("tianalyze-gnuplot-\(getpid())-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-e", assignments, script.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? errHandle.close() }
        // stderr goes to a file, not a pipe: a chatty script cannot block on a full pipe buffer.
        process.standardError = errHandle
        do { try process.run() } catch {
            throw PlotError.failed(script: script.lastPathComponent, output: output.path, reason: "cannot start \(executable.path): \(error.localizedDescription)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw PlotError.failed(script: script.lastPathComponent, output: output.path, reason: "timed out after \(Int(timeout)) s")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            let lastLines = err.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.allSatisfy { $0 == "^" } }.suffix(2).joined(separator: " | ")
            throw PlotError.failed(script: script.lastPathComponent, output: output.path,
                                   reason: "exit status \(process.terminationStatus): \(lastLines)")
        }
    }
}
