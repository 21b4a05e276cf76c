// Append-only CSV logs that stream results to disk as they are produced. Each row is written
// and flushed at once, so an interrupted run keeps everything up to its last finished row.
import Foundation
import TIData

public final class CSVLog {
    public let url: URL
    let handle: FileHandle
    public let header: [String]

    /// Opens (creating with the header if absent) an append-only CSV. With `truncateAfter`, rows
    /// whose first column exceeds that step are dropped first (resuming from a checkpoint).
    public init(_ url: URL, header: [String], truncateAfter step: Int? = nil) throws {
        self.url = url; self.header = header
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let step, fm.fileExists(atPath: url.path) {
            var kept = [header.joined(separator: ",")]
            for line in InputFile.lines(try InputFile.text(url), omittingEmpty: true).dropFirst() {
                guard let first = line.split(separator: ",").first, let s = Int(first), s <= step else { continue }
                kept.append(String(line))
            }
            try AtomicFile.write(kept.joined(separator: "\n") + "\n", to: url)
        } else if !fm.fileExists(atPath: url.path) || step == nil {
            try AtomicFile.write(header.joined(separator: ",") + "\n", to: url)
        }
        guard let h = FileHandle(forWritingAtPath: url.path) else {
            throw DataError.io(file: url.path, reason: "cannot open for appending")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func append(_ values: [String]) throws {
        precondition(values.count == header.count, "CSVLog \(url.lastPathComponent): \(values.count) values for \(header.count) columns")
        do {
            try handle.write(contentsOf: Data((values.joined(separator: ",") + "\n").utf8))
        } catch {
            throw DataError.io(file: url.path, reason: "append failed: \(error.localizedDescription)")
        }
    }
}

public enum Fmt {
    public static func g(_ x: Double) -> String { x.isFinite ? String(format: "%.8g", x) : "nan" }
}

/// Where the run came from: the git revision of the source tree if available.
public enum Provenance {
    public static func gitRevision() -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "rev-parse", "--short=12", "HEAD"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return "unknown" }
        p.waitUntilExit()
        let s = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && !s.isEmpty ? s : "unknown"
    }

    public static func timestamp(_ d: Date = Date()) -> String { ISO8601DateFormatter().string(from: d) }
}
