// Figure 1 of the TI paper ("fewer iterations"): the dev metric against fine-tuning iterations
// measured in units of the baseline's (KD's) whole budget, and for a target metric the iterations
// each run needs to reach it, relative to that budget and as a ratio against the iterations the
// baseline itself needs. The baseline is the run of the same seed, so every mode is compared with
// the KD run that saw the same data order.
import Foundation
import TIData
import TICore

/// The dev-metric curve of one finished QAT run.
public struct RelativeTimeRun: Sendable, Equatable {
    public var mode: String
    public var seed: UInt64
    /// evals.csv's `step` and `dev_metric` columns (no-intervention evaluation).
    public var steps: [Int]
    public var metric: [Double]
    public var totalSteps: Int

    public init(mode: String, seed: UInt64, steps: [Int], metric: [Double], totalSteps: Int) {
        self.mode = mode; self.seed = seed; self.steps = steps; self.metric = metric; self.totalSteps = totalSteps
    }

    /// Reads a finished run directory (metadata.json + evals.csv).
    public static func read(runDir: URL) throws -> RelativeTimeRun {
        let url = runDir.appendingPathComponent("metadata.json")
        let meta: QATRunMetadata
        do { meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: url)) } catch {
            throw DataError.malformed(file: url.path, reason: "cannot read the run's metadata (\(error.localizedDescription))")
        }
        guard let summary = meta.summary else { throw DataError.malformed(file: url.path, reason: "run did not finish (no summary)") }
        let evals = try CSVTable.read(runDir.appendingPathComponent("evals.csv"))
        let steps = try evals.column("step").map { Int($0) }
        return RelativeTimeRun(mode: meta.config.mode.rawValue, seed: meta.config.seed, steps: steps,
                               metric: try evals.column("dev_metric"), totalSteps: summary.totalSteps)
    }
}

public struct RelativeTimeRow: Codable, Sendable, Equatable {
    public var mode: String
    public var seed: UInt64
    /// First evaluated step whose dev metric reaches the target; nil if the run never does.
    public var stepsToTarget: Int?
    public var totalSteps: Int
    /// stepsToTarget / the baseline's total steps: where the run crosses the target on Figure 1's x axis.
    public var relativeTime: Double?
    /// stepsToTarget / the baseline's stepsToTarget (below 1: fewer iterations than the baseline).
    public var ratioVsBaseline: Double?

    public init(mode: String, seed: UInt64, stepsToTarget: Int?, totalSteps: Int, relativeTime: Double?, ratioVsBaseline: Double?) {
        self.mode = mode; self.seed = seed; self.stepsToTarget = stepsToTarget; self.totalSteps = totalSteps
        self.relativeTime = relativeTime; self.ratioVsBaseline = ratioVsBaseline
    }
}

/// Figure 1 without its unit: no baseline run of a seed among the runs.
public struct MissingBaselineError: Error, CustomStringConvertible, Equatable {
    public var baseline: String
    public var seed: UInt64
    public var modes: [String]
    public init(baseline: String, seed: UInt64, modes: [String]) { self.baseline = baseline; self.seed = seed; self.modes = modes }
    public var description: String {
        "Figure 1 needs a \(baseline) run of seed \(seed) (its total steps are the x unit); the runs are \(modes.joined(separator: ", "))"
    }
}

public enum RelativeTime {
    /// One row per run, in the order given. Every seed needs a run of `baseline` (its budget is the x unit).
    public static func rows(_ runs: [RelativeTimeRun], baseline: String, target: Double) throws -> [RelativeTimeRow] {
        var reference: [UInt64: (budget: Int, reach: Int?)] = [:]
        for r in runs where r.mode == baseline && reference[r.seed] == nil {
            guard r.totalSteps > 0 else { throw DataError.malformed(file: "\(baseline) seed \(r.seed)", reason: "total steps is 0") }
            reference[r.seed] = (r.totalSteps, ConvergenceReport.stepsToTarget(steps: r.steps, metric: r.metric, target: target))
        }
        return try runs.map { r in
            guard r.steps.count == r.metric.count else {
                throw DataError.malformed(file: "\(r.mode) seed \(r.seed)", reason: "\(r.steps.count) steps but \(r.metric.count) metrics")
            }
            guard let ref = reference[r.seed] else {
                throw MissingBaselineError(baseline: baseline, seed: r.seed, modes: runs.map(\.mode))
            }
            let reach = ConvergenceReport.stepsToTarget(steps: r.steps, metric: r.metric, target: target)
            return RelativeTimeRow(mode: r.mode, seed: r.seed, stepsToTarget: reach, totalSteps: r.totalSteps,
                                   relativeTime: reach.map { Double($0) / Double(ref.budget) },
                                   ratioVsBaseline: reach.flatMap { s in ref.reach.flatMap { $0 > 0 ? Double(s) / Double($0) : nil } })
        }
    }

    /// The curve of one run on Figure 1's x axis: step / the baseline's total steps.
    public static func relativeSteps(_ steps: [Int], baselineTotal: Int) -> [Double] {
        steps.map { Double($0) / Double(baselineTotal) }
    }

    /// The printed table; `targetSource` says where the target came from (e.g. "0.99 × FP teacher").
    public static func table(_ rows: [RelativeTimeRow], target: Double, targetSource: String, baseline: String, metricName: String) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        let budget = rows.first { $0.mode == baseline }?.totalSteps
        var lines = [String(format: "Figure 1: iterations to reach dev %@ %.4f (%@); x unit = the %@ run's budget%@", metricName, target,
                            targetSource, baseline, budget.map { " of \($0) iterations" } ?? "")]
        let header = ["mode", "seed", "→target", "steps", "rel.time", "×\(baseline)", "speedup"]
        let widths = [6, 5, 8, 6, 9, 8, 8]
        lines.append(zip(header, widths).map { pad($0, $1) }.joined(separator: " "))
        func cell(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "—" }
        for r in rows {
            let speedup: Double? = r.ratioVsBaseline.flatMap { $0 > 0 ? 1 / $0 : nil }
            let reach: String = r.stepsToTarget.map { String($0) } ?? "—"
            let cells: [String] = [r.mode, String(r.seed), reach, String(r.totalSteps), cell(r.relativeTime, "%.4f"),
                                   cell(r.ratioVsBaseline, "%.3f"), cell(speedup, "%.1f×")]
            lines.append(zip(cells, widths).map { pad($0, $1) }.joined(separator: " "))
        }
        if rows.contains(where: { $0.mode == baseline && $0.stepsToTarget == nil }) {
            lines.append("(\(baseline) does not reach the target within its budget: no ratios; a lower target gives them)")
        } else if rows.contains(where: { $0.mode == baseline && $0.stepsToTarget == 0 }) {
            lines.append("(\(baseline) meets the target before training: no ratios; a higher target gives them)")
        }
        return lines.joined(separator: "\n")
    }

    /// CSV `mode,seed,steps_to_target,total_steps,relative_time,ratio_vs_kd` (empty cells: not reached).
    public static func writeCSV(_ rows: [RelativeTimeRow], to url: URL) throws {
        var text = "mode,seed,steps_to_target,total_steps,relative_time,ratio_vs_kd\n"
        for r in rows {
            text += [r.mode, String(r.seed), r.stepsToTarget.map(String.init) ?? "", String(r.totalSteps),
                     r.relativeTime.map(Fmt.g) ?? "", r.ratioVsBaseline.map(Fmt.g) ?? ""].joined(separator: ",") + "\n"
        }
        try AtomicFile.write(text, to: url)
    }
}
