// The dynamics study's table (issue: curvature and surfaces over training): per QAT run, how fast it
// converged, where it ended, how the top Hessian eigenvalue of the task loss moved along training
// (start / end of step 1 / end) and how rough the surface around its student is; per mode, each
// quantity's mean and 95 % Student-t interval over the seeds. Everything is read back from the files
// a tracked run and its landscapes wrote, so the table can be rebuilt without recomputing anything.
import Foundation
import TIData
import TICore
import TILandscape

/// One run's numbers.
public struct DynamicsRecord: Codable, Equatable, Sendable {
    public var mode: String
    public var seed: UInt64
    /// Steps until the dev-probe KD loss first fell to half its initial value (nil: never).
    public var stepsToHalfProbeLoss: Int?
    public var finalProbeLoss: Double
    public var finalMetric: Double
    /// Top eigenvalue of the task loss on the probe set: at step 0, at `stepOneEnd`, at the end.
    public var lambdaStart: Double
    public var lambdaStepOneEnd: Double?
    public var lambdaEnd: Double
    /// Roughness metrics (RoughnessMetrics.names) of the surface around the student, averaged over
    /// its direction seeds; empty when no roughness file was given.
    public var roughness: [String: Double]
}

/// A quantity's summary over the seeds of one mode.
public struct DynamicsCell: Codable, Equatable, Sendable {
    public var quantity: String
    public var interval: MeanInterval
}

public enum DynamicsTable {
    /// The quantities of the table in order (roughness metrics follow the curvature ones).
    public static let quantities = ["steps_to_half_probe_loss", "final_probe_loss", "final_metric", "lambda_start", "lambda_step1_end", "lambda_end"]
        + RoughnessMetrics.names

    /// Reads a finished tracked QAT run: metadata.json + evals.csv (ConvergenceReport), curvature.csv,
    /// and the roughness.csv of a landscape around its student when `roughness` is given.
    /// `stepOneEnd`: the step "end of step 1" is read at (for a TI run its own step-1 length; for a
    /// single-phase run, the TI runs' length so the columns compare at the same step; nil in the
    /// record when the run has no measurement at that step).
    public static func record(runDir: URL, teacherMetric: Double, stepOneEnd: Int?, roughness: URL?) throws -> DynamicsRecord {
        let c = try ConvergenceReport.row(runDir: runDir, teacherMetric: teacherMetric)
        let curve = try taskCurvature(runDir.appendingPathComponent(CurvatureFiles.curvature))
        var r = DynamicsRecord(mode: c.mode, seed: c.seed, stepsToHalfProbeLoss: c.stepsToHalfProbeLoss, finalProbeLoss: c.finalProbeLoss,
                               finalMetric: c.finalMetric, lambdaStart: curve.first!.lambda, lambdaStepOneEnd: nil, lambdaEnd: curve.last!.lambda,
                               roughness: [:])
        // Only a measurement at that very step counts (a one-phase run measured there when its K
        // divides it); an earlier row would repeat the start as if it were the end of step 1.
        if let s1 = stepOneEnd ?? c.stepOneLength {
            r.lambdaStepOneEnd = curve.last(where: { $0.step == s1 && $0.phase <= 1 })?.lambda
        }
        if let roughness { r.roughness = try meanRoughness(roughness) }
        return r
    }

    /// The task-loss rows of curvature.csv in file order (step, phase, λmax).
    static func taskCurvature(_ url: URL) throws -> [(step: Int, phase: Int, lambda: Double)] {
        let t = try CSVTable.read(url)
        let steps = try t.column("step"), phases = try t.column("phase"), lambdas = try t.column("lambda_max")
        let objectives = try t.strings("objective")
        let rows = objectives.indices.filter { objectives[$0] == "task" }.map { (Int(steps[$0]), Int(phases[$0]), lambdas[$0]) }
        guard !rows.isEmpty else {
            throw DataError.malformed(file: url.path, reason: "no task-loss rows: track the run with qat --track-curvature K")
        }
        return rows
    }

    /// Each roughness metric's mean over the direction seeds, from the roughness.csv that
    /// `landscape --direction-seeds` writes (mode, metric, n, mean, …): the first mode's rows.
    static func meanRoughness(_ url: URL) throws -> [String: Double] {
        let t = try CSVTable.read(url)
        let modes = try t.strings("mode"), metrics = try t.strings("metric"), means = try t.column("mean")
        guard let first = modes.first else { throw DataError.malformed(file: url.path, reason: "no rows, expected one per mode and metric") }
        var out: [String: Double] = [:]
        for i in modes.indices where modes[i] == first { out[metrics[i]] = means[i] }
        if let missing = RoughnessMetrics.names.first(where: { out[$0] == nil }) {
            throw DataError.malformed(file: url.path, reason: "no '\(missing)' row for mode \(first)")
        }
        return out
    }

    /// The value of a quantity in a record (nil where the run has none).
    static func value(_ quantity: String, of r: DynamicsRecord) -> Double? {
        switch quantity {
        case "steps_to_half_probe_loss": return r.stepsToHalfProbeLoss.map(Double.init)
        case "final_probe_loss": return r.finalProbeLoss
        case "final_metric": return r.finalMetric
        case "lambda_start": return r.lambdaStart
        case "lambda_step1_end": return r.lambdaStepOneEnd
        case "lambda_end": return r.lambdaEnd
        default: return r.roughness[quantity]
        }
    }

    /// Per mode (in first-seen order): each quantity's mean and 95 % interval over the runs that have it.
    public static func summarize(_ records: [DynamicsRecord]) -> [(mode: String, runs: Int, cells: [DynamicsCell])] {
        var modes: [String] = []
        for r in records where !modes.contains(r.mode) { modes.append(r.mode) }
        return modes.map { mode in
            let runs = records.filter { $0.mode == mode }
            let cells = quantities.compactMap { q -> DynamicsCell? in
                let v = runs.compactMap { value(q, of: $0) }
                return v.isEmpty ? nil : DynamicsCell(quantity: q, interval: MeanInterval(v))
            }
            return (mode, runs.count, cells)
        }
    }

    /// A markdown table: one row per quantity, one column per mode, "mean ± half-width (n)".
    public static func markdown(_ summary: [(mode: String, runs: Int, cells: [DynamicsCell])]) -> String {
        var lines = ["| quantity | " + summary.map { "\($0.mode) (\($0.runs) runs)" }.joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|", count: summary.count)]
        for q in quantities {
            let cells = summary.map { s -> String in
                guard let c = s.cells.first(where: { $0.quantity == q }) else { return "–" }
                let i = c.interval
                let spread = i.halfWidth.isFinite ? " ± " + String(format: "%.3g", i.halfWidth) : ""
                return String(format: "%.4g", i.mean) + spread + (i.count < s.runs ? " (\(i.count))" : "")
            }
            guard cells.contains(where: { $0 != "–" }) else { continue }
            lines.append("| \(q) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// dynamics.csv: mode, quantity, n, mean, half_width, low, high.
    public static func writeCSV(_ summary: [(mode: String, runs: Int, cells: [DynamicsCell])], to url: URL) throws {
        var lines = ["mode,quantity,n,mean,half_width,low,high"]
        for s in summary {
            for c in s.cells {
                let i = c.interval
                lines.append([s.mode, c.quantity, String(i.count), Fmt.g(i.mean), Fmt.g(i.halfWidth), Fmt.g(i.low), Fmt.g(i.high)].joined(separator: ","))
            }
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: url)
    }
}
