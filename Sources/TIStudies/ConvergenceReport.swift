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
    /// Mean of the first 5 step-2 training losses minus the mean of the last 5 step-1 losses.
    public var stepOneLossJump: Double?
    public var stepOneLength: Int?
    public var totalSteps: Int
    public var seconds: Double
}

public enum ConvergenceReport {
    /// Reads a QAT run directory (metadata.json + evals.csv).
    public static func row(runDir: URL, teacherMetric: Double) throws -> ConvergenceRow {
        let meta = try InputFile.decodeJSON(QATRunMetadata.self, from: runDir.appendingPathComponent("metadata.json"))
        guard let s = meta.summary else { throw DataError.malformed(file: runDir.path, reason: "run did not finish (no summary in metadata.json)") }
        let evals = try CSVTable.read(runDir.appendingPathComponent("evals.csv"))
        let steps = try evals.column("step").map { Int($0) }, metric = try evals.column("dev_metric"), probe = try evals.column("probe_kd_loss")
        func first(_ ok: (Int) -> Bool) -> Int? { steps.indices.first(where: ok).map { steps[$0] } }
        let initial = probe.first ?? .nan
        // The jump when the intervention is removed, from the mean of the last 5 step-1 losses to
        // the mean of the first 5 step-2 losses (single-batch losses are too noisy).
        var jump: Double? = nil
        if s.stepOneLength != nil {
            let t = try CSVTable.read(runDir.appendingPathComponent("steps.csv"))
            let phase = try t.strings("phase"), loss = try t.column("loss")
            let one = zip(phase, loss).filter { $0.0 == "1" }.map(\.1).suffix(5)
            let two = zip(phase, loss).filter { $0.0 == "2" }.map(\.1).prefix(5)
            if !one.isEmpty && !two.isEmpty { jump = two.reduce(0, +) / Double(two.count) - one.reduce(0, +) / Double(one.count) }
        }
        return ConvergenceRow(
            mode: meta.config.mode.rawValue, seed: meta.config.seed, finalMetric: s.finalDevMetric, bestMetric: s.bestDevMetric,
            stepsTo99PercentFP: stepsToTarget(steps: steps, metric: metric, target: defaultTarget(teacherMetric: teacherMetric)),
            stepsToHalfProbeLoss: first { probe[$0] <= 0.5 * initial },
            stepsToQuarterProbeLoss: first { probe[$0] <= 0.25 * initial },
            finalProbeLoss: s.finalProbeDistillationLoss, stepOneLossJump: jump, stepOneLength: s.stepOneLength,
            totalSteps: s.totalSteps, seconds: s.seconds)
    }

    /// The target a run must reach to count as converged unless one is given: 99 % of the FP teacher's dev metric.
    public static func defaultTarget(teacherMetric: Double) -> Double { 0.99 * teacherMetric }

    /// The first evaluated step whose dev metric reaches `target` (every GLUE metric grows with
    /// quality), or nil if none does. `steps` and `metric` are evals.csv's columns, in order.
    public static func stepsToTarget(steps: [Int], metric: [Double], target: Double) -> Int? {
        zip(steps, metric).first { $0.1 >= target }?.0
    }

    public static func table(_ rows: [ConvergenceRow], teacherMetric: Double, ternaryMetric: Double?, metricName: String) -> String {
        func opt(_ x: Int?) -> String { x.map(String.init) ?? "—" }
        var lines = [String(format: "FP teacher dev %@ %.4f%@", metricName, teacherMetric,
                            ternaryMetric.map { String(format: "; ternary W8A8 without QAT %.4f", $0) } ?? "")]
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        let header = ["mode", "seed", "final", "best", "→99%FP", "→½probe", "→¼probe", "probe-KD", "step1-jump", "steps"]
        let widths = [6, 5, 8, 8, 8, 8, 8, 9, 11, 6]
        lines.append(zip(header, widths).map { pad($0, $1) }.joined(separator: " "))
        for r in rows {
            let cells = [r.mode, String(r.seed), String(format: "%.4f", r.finalMetric), String(format: "%.4f", r.bestMetric),
                         opt(r.stepsTo99PercentFP), opt(r.stepsToHalfProbeLoss), opt(r.stepsToQuarterProbeLoss),
                         String(format: "%.4f", r.finalProbeLoss), r.stepOneLossJump.map { String(format: "%+.4f", $0) } ?? "—",
                         String(r.totalSteps)]
            lines.append(zip(cells, widths).map { pad($0, $1) }.joined(separator: " "))
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
        // CRLF (a CSV saved by a spreadsheet on Windows) reads as its LF twin.
        let lines = InputFile.lines(try InputFile.text(url), omittingEmpty: true).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
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
