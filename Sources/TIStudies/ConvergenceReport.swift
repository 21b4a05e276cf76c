// Convergence comparison of QAT runs on one task: final and best dev metric, steps to reach 99 %
// of the FP teacher's metric, steps to reach fixed fractions of the no-intervention KD loss on
// the dev probe (all modes start from the same ternarized teacher, so the initial probe loss is
// shared and the thresholds are the same for every mode), and the loss jump at the end of step 1.
import Foundation
import TIData
import TICore

public struct ConvergenceRow: Codable, Sendable {
    public var mode: String
    public var seed: UInt64
    public var finalMetric: Double
    public var bestMetric: Double
    public var stepsTo99PercentFP: Int?
    public var stepsToHalfProbeLoss: Int?
    public var stepsToQuarterProbeLoss: Int?
    public var finalProbeLoss: Double
    public var stepOneLossJump: Double?
    public var stepOneLength: Int?
    public var totalSteps: Int
    public var seconds: Double
}

public enum ConvergenceReport {
    /// Reads a QAT run directory (metadata.json + evals.csv).
    public static func row(runDir: URL, teacherMetric: Double) throws -> ConvergenceRow {
        let meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: runDir.appendingPathComponent("metadata.json")))
        guard let s = meta.summary else { throw DataError.malformed(file: runDir.path, reason: "run did not finish (no summary in metadata.json)") }
        let evals = try CSVTable.read(runDir.appendingPathComponent("evals.csv"))
        let steps = try evals.column("step").map { Int($0) }, metric = try evals.column("dev_metric"), probe = try evals.column("probe_kd_loss")
        func first(_ ok: (Int) -> Bool) -> Int? { steps.indices.first(where: ok).map { steps[$0] } }
        let initial = probe.first ?? .nan
        return ConvergenceRow(
            mode: meta.config.mode.rawValue, seed: meta.config.seed, finalMetric: s.finalDevMetric, bestMetric: s.bestDevMetric,
            stepsTo99PercentFP: first { metric[$0] >= 0.99 * teacherMetric },
            stepsToHalfProbeLoss: first { probe[$0] <= 0.5 * initial },
            stepsToQuarterProbeLoss: first { probe[$0] <= 0.25 * initial },
            finalProbeLoss: s.finalProbeDistillationLoss, stepOneLossJump: s.stepOneLossJump, stepOneLength: s.stepOneLength,
            totalSteps: s.totalSteps, seconds: s.seconds)
    }

    public static func table(_ rows: [ConvergenceRow], teacherMetric: Double, ternaryMetric: Double?, metricName: String) -> String {
        func opt(_ x: Int?) -> String { x.map(String.init) ?? "—" }
        var lines = [String(format: "FP teacher dev %@ %.4f%@", metricName, teacherMetric,
                            ternaryMetric.map { String(format: "; ternary W8A8 without QAT %.4f", $0) } ?? "")]
        lines.append("mode   seed  final    best     →99%FP  →½probe  →¼probe  probe-KD  step1-jump  steps")
        for r in rows {
            lines.append(String(format: "%-6@ %4d  %.4f   %.4f   %6@  %7@  %7@  %8.4f  %10@  %5d",
                                r.mode, Int(r.seed), r.finalMetric, r.bestMetric, opt(r.stepsTo99PercentFP), opt(r.stepsToHalfProbeLoss),
                                opt(r.stepsToQuarterProbeLoss), r.finalProbeLoss, r.stepOneLossJump.map { String(format: "%+.4f", $0) } ?? "—", r.totalSteps))
        }
        return lines.joined(separator: "\n")
    }

    public static func writeCSV(_ rows: [ConvergenceRow], to url: URL) throws {
        func opt<N>(_ x: N?) -> String { x.map { "\($0)" } ?? "" }
        var text = "mode,seed,final_metric,best_metric,steps_to_99pct_fp,steps_to_half_probe_loss,steps_to_quarter_probe_loss,final_probe_kd_loss,step1_loss_jump,step1_length,total_steps,seconds\n"
        for r in rows {
            text += [r.mode, String(r.seed), Fmt.g(r.finalMetric), Fmt.g(r.bestMetric), opt(r.stepsTo99PercentFP), opt(r.stepsToHalfProbeLoss),
                     opt(r.stepsToQuarterProbeLoss), Fmt.g(r.finalProbeLoss), r.stepOneLossJump.map(Fmt.g) ?? "", opt(r.stepOneLength),
                     String(r.totalSteps), Fmt.g(r.seconds)].joined(separator: ",") + "\n"
        }
        try AtomicFile.write(text, to: url)
    }
}

/// A small reader for the CSV files tianalyze writes (header row, comma-separated, no quoting).
public struct CSVTable {
    public let header: [String]
    public let rows: [[String]]
    public let file: String

    public static func read(_ url: URL) throws -> CSVTable {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw DataError.io(file: url.path, reason: "cannot read") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { throw DataError.malformed(file: url.path, reason: "empty file, expected a header row") }
        return CSVTable(header: header, rows: Array(lines.dropFirst()), file: url.path)
    }

    public func strings(_ name: String) throws -> [String] {
        guard let i = header.firstIndex(of: name) else { throw DataError.malformed(file: file, reason: "no column '\(name)'") }
        return try rows.enumerated().map { n, r in
            guard i < r.count else { throw DataError.malformed(file: file, reason: "line \(n + 2): \(r.count) columns, expected \(header.count)") }
            return r[i]
        }
    }

    public func column(_ name: String) throws -> [Double] {
        try strings(name).enumerated().map { n, s in
            guard let v = Double(s) else { throw DataError.malformed(file: file, reason: "line \(n + 2): column '\(name)' is not a number: '\(s)'") }
            return v
        }
    }
}
